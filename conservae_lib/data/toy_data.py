"""Synthetic 2-D data sets for the curl experiment (Figure 3): a line, a circle and a spiral.

Each data set is a parametrised curve γ(t) sampled at uniformly random parameters t plus
isotropic Gaussian noise of standard deviation ``noise``, as the paper describes ("gaussian
white noise added to the parametrization of a line, a circle, and a spiral",
section *Empirical conservativeness*). All curves lie inside the box [−1, 1]², the box the
chapter's curl maps cover with a margin. Every draw is seeded; the same arguments give the same
points on every machine (a private ``torch.Generator``, float64).
Chapter: *Untied auto-encoders become curl-free near the data* (05_curl_2d).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

Tensor = torch.Tensor

__all__ = ["CURVES", "DATASETS", "curve", "make_dataset", "distance_to_curve"]


def _line(t: Tensor) -> Tensor:
    """Segment from −(0.8 cos 30°, 0.8 sin 30°) to +(…), for t ∈ [0, 1]."""
    s = 2 * t - 1
    a = math.pi / 6
    return torch.stack([0.8 * s * math.cos(a), 0.8 * s * math.sin(a)], dim=1)


def _circle(t: Tensor) -> Tensor:
    """Circle of radius 0.6 about the origin, for t ∈ [0, 1]."""
    th = 2 * math.pi * t
    return torch.stack([0.6 * torch.cos(th), 0.6 * torch.sin(th)], dim=1)


def _spiral(t: Tensor) -> Tensor:
    """Archimedean spiral ρ = 0.1 + 0.7 θ/(3π), θ ∈ [0, 3π] (one and a half turns), t ∈ [0, 1]."""
    th = 3 * math.pi * t
    rho = 0.1 + 0.7 * t
    return torch.stack([rho * torch.cos(th), rho * torch.sin(th)], dim=1)


#: The parametrised curves γ: [0, 1] → ℝ² by name.
CURVES: dict[str, Callable[[Tensor], Tensor]] = {"line": _line, "circle": _circle, "spiral": _spiral}
DATASETS: tuple[str, ...] = tuple(CURVES)


def _check_name(name: str) -> Callable[[Tensor], Tensor]:
    if name not in CURVES:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    return CURVES[name]


def curve(name: str, n: int = 400) -> Tensor:
    """``n`` points of the noise-free curve at equally spaced parameters (for drawing), n × 2."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer ≥ 2; got {n!r}.")
    return _check_name(name)(torch.linspace(0, 1, n, dtype=torch.float64))


def make_dataset(name: str, n: int = 500, noise: float = 0.03, seed: int = 0) -> Tensor:
    """``n`` noisy samples γ(t_i) + ε_i with t_i ~ U[0, 1], ε_i ~ N(0, noise² I), as an n × 2 float64 tensor.

    Raises ``ValueError`` naming the argument for an unknown name, n < 1 or a negative noise.
    """
    gamma = _check_name(name)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    if not (isinstance(noise, (int, float)) and not isinstance(noise, bool) and noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite number ≥ 0; got {noise!r}.")
    g = torch.Generator().manual_seed(int(seed))
    t = torch.rand(n, generator=g, dtype=torch.float64)
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return gamma(t) + float(noise) * eps


def distance_to_curve(name: str, points: Tensor, n_curve: int = 2000) -> Tensor:
    """Distance from each point (N × 2) to the noise-free curve, by a dense polyline sample."""
    pts = torch.as_tensor(points, dtype=torch.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must be an N × 2 array; got shape {tuple(pts.shape)}.")
    c = curve(name, n_curve)
    return torch.cdist(pts, c).min(dim=1).values
