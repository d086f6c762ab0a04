"""2-D test fields F = ∇φ + S with a stated split into a gradient part and a rotational part.

:data:`FIELDS` holds three of them on the box [−1, 1]²: the paper's F = (−x + y, −x − y) of
Figure 4 (``spiral_sink``), a Gaussian bump's gradient plus a Gaussian vortex (``bump_vortex``)
and a sine potential plus a cellular flow whose rotational part is tangential on the box's
boundary (``sine_cell``, so its stated split is also the L² one). :func:`sample_grid` samples a
field on the grid of :func:`conservae_lib.core.fields.grid_2d`; the grid Helmholtz–Hodge solver
that recovers the gradient part is :mod:`conservae_lib.core.hodge`.
Chapter: *Extracting the conservative part of a vector field* (06_hodge_2d).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from conservae_lib.core.fields import grid_2d
from conservae_lib.core.hodge import Array, Pair

__all__ = ["TestField", "FIELDS", "sample_grid"]


@dataclass(frozen=True)
class TestField:
    """A 2-D field F = ∇φ + S with a stated split (``conservative`` = ∇φ, ``potential`` = φ)."""

    name: str
    description: str
    conservative: Callable[[Array, Array], Pair]
    rotational: Callable[[Array, Array], Pair]
    potential: Callable[[Array, Array], Array]
    boundary_orthogonal: bool  # True when S is tangential on ∂[−1, 1]²: then ∇φ is also the L² fit

    def total(self, X: Array, Y: Array) -> Pair:
        (a, b), (c, d) = self.conservative(X, Y), self.rotational(X, Y)
        return a + c, b + d


def _gauss(X: Array, Y: Array, cx: float, cy: float, s: float) -> Array:
    return np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * s * s))


def _bump_grad(X: Array, Y: Array) -> Pair:
    g = _gauss(X, Y, 0.3, 0.2, 0.35)
    return -(X - 0.3) / 0.35**2 * g, -(Y - 0.2) / 0.35**2 * g


def _vortex(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ = (∂ψ/∂y, −∂ψ/∂x) of ψ = 0.5 · Gaussian centred at (−0.4, −0.3), width 0.3.
    g = 0.5 * _gauss(X, Y, -0.4, -0.3, 0.3)
    return -(Y + 0.3) / 0.09 * g, (X + 0.4) / 0.09 * g


def _sine_cons(X: Array, Y: Array) -> Pair:
    # ∇φ for φ = sin(πx/2)·cos(πy/4).
    return (math.pi / 2) * np.cos(math.pi * X / 2) * np.cos(math.pi * Y / 4), -(math.pi / 4) * np.sin(math.pi * X / 2) * np.sin(math.pi * Y / 4)


def _sine_cell(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ for ψ = sin(πx)·sin(πy), which vanishes on the boundary of [−1, 1]².
    return math.pi * np.sin(math.pi * X) * np.cos(math.pi * Y), -math.pi * np.cos(math.pi * X) * np.sin(math.pi * Y)


FIELDS: dict[str, TestField] = {
    "spiral_sink": TestField(
        "spiral_sink", "the paper's F = (−x + y, −x − y): sink (−x, −y) plus rotation (y, −x)",
        lambda X, Y: (-X, -Y), lambda X, Y: (Y, -X), lambda X, Y: -(X**2 + Y**2) / 2, False),
    "bump_vortex": TestField(
        "bump_vortex", "gradient of a Gaussian bump at (0.3, 0.2) plus a Gaussian vortex at (−0.4, −0.3)",
        _bump_grad, _vortex, lambda X, Y: _gauss(X, Y, 0.3, 0.2, 0.35), False),
    "sine_cell": TestField(
        "sine_cell", "∇ of sin(πx/2)cos(πy/4) plus the cellular flow ∇⊥[sin(πx) sin(πy)]",
        _sine_cons, _sine_cell, lambda X, Y: np.sin(math.pi * X / 2) * np.cos(math.pi * Y / 4), True),
}


def sample_grid(field: TestField, n: int = 100, box: Sequence[float] = (-1, 1, -1, 1)) -> dict[str, Any]:
    """The field on the n × n grid of :func:`conservae_lib.core.fields.grid_2d` over ``box``.

    Keys: ``x``, ``y`` (coordinates), ``box``, ``points`` (n² × 2, y outer), ``vectors`` (F as an
    n² × 2 array in the order of ``points``), and as pairs of (n, n) arrays ``F``, its stated
    ``conservative`` part ∇φ and ``rotational`` part S; ``phi`` is the stated potential.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be an integer ≥ 3; got {n!r}.")
    x, y, points = grid_2d(box, n, torch.float64)
    points = points.numpy()
    X, Y = points[:, 0].reshape(n, n), points[:, 1].reshape(n, n)
    F = field.total(X, Y)
    vectors = np.stack([F[0].ravel(), F[1].ravel()], axis=1)
    return {"x": x, "y": y, "box": tuple(box), "points": points, "vectors": vectors, "F": F,
            "conservative": field.conservative(X, Y), "rotational": field.rotational(X, Y), "phi": field.potential(X, Y)}
