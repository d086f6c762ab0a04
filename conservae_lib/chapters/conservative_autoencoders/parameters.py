"""The parameters of chapter ``conservative_autoencoders``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any, Mapping

from conservae_lib.foundations.parameters import COUNT, Chapter, Param, seed_and_device

from .propositions import MAX_EXPLICIT

#: Gauss–Legendre nodes per segment of the path integrals (``conditions.check_conservative``'s default).
QUADRATURE_NODES = 64


def _memory(c: Mapping[str, Any]) -> tuple[float, str]:
    D, H, n = c["D"], c["H"], c["n_points"]
    return (8.0 * (min(n, MAX_EXPLICIT) * D * D + n * (D + H) + c["n_loops"] * QUADRATURE_NODES * (D + H) + 2 * D * H),
            f"the deep models' D × D Jacobians at up to {MAX_EXPLICIT} points, the points' activities, the line "
            "integrals' nodes and the D × H weights W and R, in float64")


PARAMETERS = Chapter("conservative_autoencoders", (
    *seed_and_device("seed of the weights, the points and the loops"),
    Param("D", 784, "input dimension of the high-dimensional checks (784, as MNIST)", smoke=30, kind=int, low=2,
          why="a 1 × 1 Jacobian is symmetric whatever the model"),
    Param("H", 500, "hidden units (500, as in the paper's experiments)", smoke=20, kind=int, low=8,
          why="measured with 4: a non-conservative control, the deep sigmoid model, came out path-independent"),
    Param("n_points", 256, "points at which Jacobians are measured", smoke=32, kind=int, low=4,
          why="measured with 2 points: a non-conservative control looked path-independent"),
    Param("n_loops", 64, "closed loops for the circulation test", smoke=8, kind=int, low=4,
          why="measured with 2: a non-conservative control's mean circulation fell below the chapter's check"),
    Param("D_2d", 2, "input dimension of the pictures", kind=int, low=2, high=2,
          why="the pictures draw fields of the plane"),
    Param("H_2d", 16, "hidden units of the pictures' models", **COUNT),
), memory=_memory)
