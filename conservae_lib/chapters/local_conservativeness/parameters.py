"""The parameters of chapter ``local_conservativeness``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any, Mapping

from conservae_lib.core.activations import ACTIVATIONS
from conservae_lib.foundations.parameters import (
    COUNT,
    EPOCHS,
    POSITIVE,
    SEEDS,
    STRENGTH,
    Chapter,
    Param,
    seed_and_device,
)


def _memory(c: Mapping[str, Any]) -> tuple[float, str]:
    return 8.0 * (c["n_train"] + c["n_eval"]) * c["hidden"], "(n_train + n_eval) × hidden activities in float64"


def _ridge_rule(c: Mapping[str, Any]) -> tuple[tuple[str, ...], str] | None:
    """The noisy circle's density has a ridge on the circle only when ρ > √2 σ: near the centre its log-density is
    −r²/(2σ²) + log I₀(rρ/σ²) ≈ r²(ρ² − 2σ²)/(4σ⁴), which rises away from the centre exactly then."""
    if not c["radius"] > 2 ** 0.5 * c["noise"]:
        return ("noise", "radius"), (f"the radius ({c['radius']:g}) must exceed √2 × noise = {2 ** 0.5 * c['noise']:.3g}, "
                                     "or the density has no ridge on the circle for the fixed points to sit on")
    return None


PARAMETERS = Chapter("local_conservativeness", (
    *seed_and_device("seed of the data and the fixed-point starts"),
    Param("radius", 1.0, "radius ρ of the circle the data lie on", **POSITIVE),
    Param("noise", 0.3, "standard deviation σ of the Gaussian noise around it", kind=float, low=0, strict=True,
          high=10.0),
    Param("hidden", 32, "hidden units of the auto-encoders", smoke=16, kind=int, low=2,
          why="one unit gives a rank-one Jacobian, whose eigenvalues are real whatever the training"),
    Param("activation", "sigmoid", "their activation (the paper's: sigmoid)", kind=str, choices=tuple(ACTIVATIONS)),
    Param("strengths", [0.1, 0.03, 0.01, 0.003], "contraction weights ε of eq. (10), the sweep towards 0",
          smoke=[0.1, 0.01], full=[0.3, 0.1, 0.03, 0.01, 0.003, 0.001], many=True, **STRENGTH),
    Param("seeds", [0, 1, 2], "initialisation seeds per strength", smoke=[0], full=[0, 1, 2, 3, 4], **SEEDS),
    Param("baseline", True, "also train without contraction, as a baseline", kind=bool),
    Param("n_train", 500, "training sample size", smoke=100, full=2000, **COUNT),
    Param("n_eval", 400, "evaluation sample (\"at the data\")", smoke=100, full=1000, **COUNT),
    Param("n_starts", 100, "starting points of the fixed-point search", smoke=20, full=200, **COUNT),
    Param("epochs", 40, "L-BFGS steps (up to 20 iterations each)", smoke=5, full=100, **EPOCHS),
), memory=_memory, rules=_ridge_rule)
