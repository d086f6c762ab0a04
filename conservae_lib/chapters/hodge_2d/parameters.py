"""The parameters of chapter ``hodge_2d``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any

from conservae_lib.foundations.parameters import (
    COUNT,
    EPOCHS,
    ITERATIONS,
    SEEDS,
    WEIGHT,
    Chapter,
    Param,
    seed_and_device,
)


def _memory(c: dict[str, Any]) -> tuple[float, str]:
    hidden = max(c["hidden"], c["hidden_ablation"])
    return (8.0 * (2 * (c["n_grid"] ** 2 + c["n_train"] ** 2) + c["n_train"] ** 2 * hidden),
            "the n_grid² and n_train² grid points and the n_train² × hidden activities in float64")


_SIDE = dict(kind=int, low=3, why="the grid needs three points a side")


PARAMETERS = Chapter("hodge_2d", (
    *seed_and_device("seed of the reference fields' data"),
    Param("n_grid", 100, "evaluation grid: n_grid × n_grid points over [-1, 1]^2 (paper: 100)", smoke=30, **_SIDE),
    Param("n_train", 100, "training grid of the main models (paper: 100 × 100)", smoke=10, **_SIDE),
    Param("hidden", 1000, "hidden ReLU units of the main tied and untied models (paper: 1000)", smoke=30, **COUNT),
    Param("iterations", 500, "L-BFGS iterations of the main models (paper: \"500 epochs\" of BFGS)", smoke=40,
          **ITERATIONS),
    Param("seeds", [0, 1, 2], "seeds of the main models", smoke=[0], full=[0, 1, 2, 3, 4], **SEEDS),
    Param("n_train_ablation", 30, "training grid of the ablations (extras)", smoke=10, full=100, **_SIDE),
    Param("hidden_ablation", 200, "hidden units of the ablation models", smoke=20, full=1000, **COUNT),
    Param("epochs_ablation", 8, "L-BFGS calls of the ablation models (each up to 20 iterations)", smoke=3, full=50,
          **EPOCHS),
    Param("contractions", [0.1, 1.0], "weights of the eq. (10) penalty for the contractive untied models", many=True,
          **WEIGHT),
    Param("authors_contraction", 2.0, "CAE penalty weight of the authors' released code (2.0)", **WEIGHT),
), memory=_memory)
