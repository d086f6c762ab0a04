"""The parameters of chapter ``curl_2d``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any, Mapping

from conservae_lib.core.activations import ACTIVATIONS
from conservae_lib.data.toy_data import DATASETS
from conservae_lib.foundations.parameters import (
    COUNT,
    EPOCHS,
    NOISE,
    POSITIVE,
    RATE,
    SEEDS,
    Chapter,
    Param,
    seed_and_device,
)


def _near_rule(c: Mapping[str, Any]) -> tuple[tuple[str, ...], str] | None:
    """"Near the data" must reach a grid point: near_radius at least the grid's spacing."""
    spacing = 2 * c["half_width"] / (c["grid_n"] - 1)
    if c["near_radius"] < spacing:
        return ("near_radius", "grid_n", "half_width"), (
            f"near_radius ({c['near_radius']:g}) must be at least the grid spacing 2·half_width/(grid_n − 1) = "
            f"{spacing:.3g}, so that grid points lie near the data")
    return None


PARAMETERS = Chapter("curl_2d", (
    *seed_and_device("seed of the data sets"),
    Param("datasets", ["line", "circle", "spiral"], "which curves", many=True, kind=str, choices=DATASETS),
    Param("n_samples", 500, "points per data set", smoke=200, **COUNT),
    Param("data_noise", 0.03, "standard deviation of the Gaussian noise added to the curve", **NOISE),
    Param("seeds", [0, 1, 2], "seeds of the auto-encoders (initialisation, corruption, batches)", smoke=[0],
          full=[0, 1, 2, 3, 4], **SEEDS),
    Param("hidden", 100, "hidden units", **COUNT),
    Param("activation", "relu", "activation of the auto-encoders", kind=str, choices=tuple(ACTIVATIONS)),
    Param("dae_noise", 0.1, "standard deviation of the corruption of the denoising extra", **NOISE),
    Param("epochs", 300, "training epochs", smoke=30, full=1000, **EPOCHS),
    Param("batch_size", 50, "mini-batch size", **COUNT),
    Param("lr", 0.003, "Adam learning rate", **RATE),
    Param("record_every", 10, "epochs between two curl measurements", full=20, **COUNT),
    Param("grid_n", 41, "grid points per side for the curl measurement", smoke=25, full=61, kind=int, low=5,
          why="measured with 3 per side: no grid point lies near the data curves"),
    Param("half_width", 1.2, "the grid covers [-half_width, half_width]^2", kind=float, low=0.8,
          why="the data curves reach 0.8 from the origin, and the grid must cover them"),
    Param("near_radius", 0.1, "\"near the data\": within this distance of the noise-free curve", **POSITIVE),
), memory=lambda c: (4.0 * (c["grid_n"] ** 2 + len(c["datasets"]) * c["n_samples"]) * (2 + c["hidden"]),
                     "the grid_n² grid points and every data set's n_samples points, each with its 2 coordinates and "
                     "its hidden activities, in float32"), rules=_near_rule)
