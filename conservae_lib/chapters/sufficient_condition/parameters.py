"""The parameters of chapter ``sufficient_condition``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from conservae_lib.foundations.parameters import COUNT, Chapter, Param, seed_and_device

PARAMETERS = Chapter("sufficient_condition", (
    *seed_and_device("seed of the constructed models, the points and the loops"),
    Param("D", 5, "input dimension of the constructed models", kind=int, low=3,
          why="measured at D = 2: the decoder space's dimension formula and the recovery of C and E break down"),
    Param("H", 8, "hidden units of the constructed models", kind=int, low=4,
          why="measured with 2: the decoder space's singular values show no clear gap"),
    Param("n_points", 128, "points at which each model is checked", smoke=32, kind=int, low=16,
          why="measured with 8: too few points to measure the decoder space's dimension"),
    Param("n_loops", 32, "closed loops for the circulation test", smoke=8, **COUNT),
    Param("n_recover", 10, "random draws per case for the recovery of C and E", smoke=2, **COUNT),
    Param("n_deltas", 13, "perturbation sizes in the symmetricity-vs-perturbation plot", smoke=7, kind=int, low=3,
          why="the sweep shows its first, middle and last perturbation"),
), memory=lambda c: (8.0 * (c["D"] * c["D"] + 2 * c["D"] * c["H"]),
                     "one D × D Jacobian and the D × H weights W and R in float64"))
