"""Timing the conservativeness metrics: the Gram path against the Jacobian-forming alternatives.

Every comparison here is made *in one run, on the same inputs*, and reported as a ratio, because
absolute times on a shared machine drift by factors of two from minute to minute while ratios of
interleaved measurements hardly move. Numbers only: the tables are in
:mod:`conservae_lib.chapters.performance.report`; the training step is timed in
:mod:`conservae_lib.chapters.performance.training_speed`.

* :func:`time_call`, :class:`Timing` — the stopwatch; what it ran on is
  :func:`conservae_lib.training.runtime.machine`.
* :func:`metrics_benchmark` — sym(∂r/∂x) and ‖∂r/∂x‖²_F of a one-layer model three ways: the
  H × H Gram path of :mod:`conservae_lib.core.fields` (no D × D matrix), explicit Jacobians R D_h' Wᵀ
  (:func:`explicit_quadratics`) and ``torch.func.vmap(torch.func.jacrev(·))``
  (:func:`autograd_quadratics`), both in chunks of points; times, speed-ups and agreement.
  :func:`check_agreement` fails when the three paths disagree.
* :func:`deep_metrics_benchmark` — a deep model (no closed form): exact Jacobians in chunks
  against the Hutchinson estimate of :func:`conservae_lib.core.fields.jacobian_quadratics_estimate`,
  with the estimate's measured and stated errors; :func:`check_stated_errors` fails when the
  stated errors do not describe the measured ones.

Chapter: appendix *Performance* (``notebooks/91_performance.md``, sections "Jacobian metrics of
one-layer models" and "Deep models"); script: ``benchmarks/bench_metrics.py``.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import nn

from conservae_lib.core import fields
from conservae_lib.core.models import AutoEncoder, DeepAutoEncoder
from conservae_lib.training.runtime import machine

Tensor = torch.Tensor

__all__ = [
    "Timing", "time_call", "explicit_quadratics", "autograd_quadratics", "relative_difference",
    "metrics_benchmark", "check_agreement", "deep_metrics_benchmark", "check_stated_errors",
]


# ----------------------------------------------------------------------------- timing
@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated calls: ``runs`` in order, ``best`` and ``median``."""

    runs: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def time_call(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> Timing:
    """Time ``fn()`` ``repeat`` times after ``warmup`` untimed calls (CUDA work is synchronised)."""
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be ≥ 1 and warmup ≥ 0; got {repeat}, {warmup}.")
    for _ in range(warmup):
        fn()
    _sync()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        _sync()
        runs.append(time.perf_counter() - t0)
    return Timing(tuple(runs))


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def relative_difference(a: Tensor, b: Tensor) -> float:
    """max_i |a_i − b_i| / max_i |b_i|: the largest disagreement relative to the values' size."""
    scale = float(b.abs().max()) if b.numel() else 0.0
    diff = float((a - b).abs().max()) if b.numel() else 0.0
    return diff / scale if scale > 0 else diff


# ----------------------------------------------------------------------------- metric paths
def _quadratics_of(J: Tensor) -> tuple[Tensor, Tensor]:
    return (J**2).sum(dim=(-1, -2)), (J * J.transpose(-1, -2)).sum(dim=(-1, -2))


def explicit_quadratics(model: AutoEncoder, x: Tensor, chunk_size: int = 50) -> tuple[Tensor, Tensor]:
    """‖J‖²_F and tr(J J) per point from explicit Jacobians J = R D_h' Wᵀ (closed form of
    Proposition 2), ``chunk_size`` D × D matrices at a time."""
    if not isinstance(model, AutoEncoder):
        raise TypeError("explicit_quadratics needs a one-layer AutoEncoder (closed-form Jacobian).")
    norms, traces = [], []
    with torch.no_grad():
        for i in range(0, len(x), chunk_size):
            n2, tr = _quadratics_of(fields.jacobian(model, x[i:i + chunk_size]))
            norms.append(n2)
            traces.append(tr)
    return torch.cat(norms), torch.cat(traces)


def autograd_quadratics(model: nn.Module, x: Tensor, chunk_size: int = 50) -> tuple[Tensor, Tensor]:
    """‖J‖²_F and tr(J J) per point with ``torch.func.vmap(torch.func.jacrev(·))`` applied to the
    model as a plain function (what a user without the closed form would write), in chunks."""
    def single(xi: Tensor) -> Tensor:
        return model(xi.unsqueeze(0)).squeeze(0)

    jac = torch.func.vmap(torch.func.jacrev(single))
    norms, traces = [], []
    with torch.no_grad():
        for i in range(0, len(x), chunk_size):
            n2, tr = _quadratics_of(jac(x[i:i + chunk_size]))
            norms.append(n2)
            traces.append(tr)
    return torch.cat(norms), torch.cat(traces)


def _sym(norm2: Tensor, trace: Tensor) -> Tensor:
    return fields._symmetricity_from(norm2, trace)


def metrics_benchmark(
    D: int = 784, H: int = 500, n_points: int = 1000, activation: str = "sigmoid", seed: int = 0,
    dtype: torch.dtype = torch.float64, chunk_size: int = 50, repeat: int = 5,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Time sym(∂r/∂x) and ‖∂r/∂x‖²_F of a random untied one-layer model at ``n_points`` points
    of [0, 1]^D by the Gram path, explicit R D_h' Wᵀ and vmap(jacrev), all on the same points.

    The Gram functions (:func:`~conservae_lib.core.fields.jacobian_symmetricity`,
    :func:`~conservae_lib.core.fields.jacobian_norm2`) are timed ``repeat`` times each (median); the
    two reference paths once each over all points (each gives both quantities from one Jacobian,
    so the comparison favours them). Agreement is :func:`relative_difference` against vmap(jacrev).
    """
    dev = torch.device(device)
    model = AutoEncoder(D, H, activation, tied=False, seed=seed, dtype=dtype).to(dev)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, D, generator=g, dtype=dtype).to(dev)
    with torch.no_grad():
        sym_gram = fields.jacobian_symmetricity(model, x)
        norm_gram = fields.jacobian_norm2(model, x)
        t_sym = time_call(lambda: fields.jacobian_symmetricity(model, x), repeat=repeat)
        t_norm = time_call(lambda: fields.jacobian_norm2(model, x), repeat=repeat)
    held: dict[str, tuple[Tensor, Tensor]] = {}

    def run_explicit() -> None:
        held["explicit"] = explicit_quadratics(model, x, chunk_size)

    def run_autograd() -> None:
        held["autograd"] = autograd_quadratics(model, x, chunk_size)

    # The reference paths run once each, timed, and their values are the ones compared; the
    # vmap(jacrev) path gets one untimed call on one chunk first (functorch's set-up).
    autograd_quadratics(model, x[:min(2, n_points)], chunk_size)
    t_explicit = time_call(run_explicit, repeat=1, warmup=0)
    t_autograd = time_call(run_autograd, repeat=1, warmup=0)
    # Interleave one more Gram measurement after the slow paths, so drift in the machine's load
    # shows up in the spread rather than in the ratio.
    with torch.no_grad():
        t_sym = Timing(t_sym.runs + time_call(lambda: fields.jacobian_symmetricity(model, x), repeat=repeat,
                                              warmup=0).runs)
    n_ex, tr_ex = held["explicit"]
    n_ag, tr_ag = held["autograd"]
    sym_ex, sym_ag = _sym(n_ex, tr_ex), _sym(n_ag, tr_ag)
    out = {
        "D": D, "H": H, "n_points": n_points, "activation": activation, "dtype": str(dtype).replace("torch.", ""),
        "chunk_size": chunk_size, **machine(dev),
        "seconds": {
            "gram_symmetricity": t_sym.median, "gram_norm2": t_norm.median,
            "explicit": t_explicit.median, "vmap_jacrev": t_autograd.median,
        },
        "gram_runs": {"symmetricity": list(t_sym.runs), "norm2": list(t_norm.runs)},
        "agreement": {
            "gram_vs_vmap_jacrev_symmetricity": relative_difference(sym_gram, sym_ag),
            "gram_vs_vmap_jacrev_norm2": relative_difference(norm_gram, n_ag),
            "explicit_vs_vmap_jacrev_symmetricity": relative_difference(sym_ex, sym_ag),
            "explicit_vs_vmap_jacrev_norm2": relative_difference(n_ex, n_ag),
        },
        "mean_symmetricity": float(sym_gram.mean()),
    }
    s = out["seconds"]
    out["speedup"] = {
        "symmetricity_vs_vmap_jacrev": s["vmap_jacrev"] / s["gram_symmetricity"],
        "symmetricity_vs_explicit": s["explicit"] / s["gram_symmetricity"],
        "norm2_vs_vmap_jacrev": s["vmap_jacrev"] / s["gram_norm2"],
        "norm2_vs_explicit": s["explicit"] / s["gram_norm2"],
        "explicit_vs_vmap_jacrev": s["vmap_jacrev"] / s["explicit"],
    }
    return out


def check_agreement(result: dict[str, Any], tolerance: float = 1e-6) -> None:
    """Raise :class:`AssertionError` unless the three paths of a :func:`metrics_benchmark` result
    agree within ``tolerance`` (relative) and every speed-up is positive. The times themselves are
    not checked: they depend on the machine."""
    assert max(result["agreement"].values()) < tolerance, result["agreement"]
    assert all(v > 0 for v in result["speedup"].values()), result["speedup"]


def deep_metrics_benchmark(
    sizes: Sequence[int] = (784, 500, 250, 500, 784), n_points: int = 200, n_probes: int = 32,
    activation: str = "sigmoid", seed: int = 0, dtype: torch.dtype = torch.float64, chunk_size: int = 50,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Deep model (no closed form): exact Jacobians in chunks
    (:func:`~conservae_lib.core.fields.jacobian_quadratics`) against the Hutchinson estimate
    (:func:`~conservae_lib.core.fields.jacobian_quadratics_estimate`) on the same points.

    Reports both times, the estimate's error against the exact values — per point (median and
    largest |error| / stated standard error) and for the mean over points — and the stated
    standard errors.
    """
    dev = torch.device(device)
    model = DeepAutoEncoder.random(list(sizes), activation, seed=seed, dtype=dtype).to(dev)
    for p in model.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, sizes[0], generator=g, dtype=dtype).to(dev)
    holder: dict[str, Any] = {}

    def exact() -> None:
        holder["exact"] = fields.jacobian_quadratics(model, x, chunk_size=chunk_size)

    def estimate() -> None:
        holder["est"] = fields.jacobian_quadratics_estimate(model, x, n_probes=n_probes, seed=seed)

    t_exact = time_call(exact, repeat=1, warmup=0)
    t_est = time_call(estimate, repeat=3, warmup=1)
    n2, tr = holder["exact"]
    sym = _sym(n2, tr)
    est = holder["est"]
    z_sym = (est.symmetricity - sym).abs() / est.symmetricity_se.clamp_min(1e-300)
    mean_se = float(est.symmetricity_se.pow(2).sum().sqrt() / n_points)
    return {
        "sizes": list(sizes), "n_points": n_points, "n_probes": n_probes, "activation": activation,
        "dtype": str(dtype).replace("torch.", ""), **machine(dev),
        "seconds": {"exact_chunked": t_exact.median, "hutchinson": t_est.median},
        "speedup_hutchinson_vs_exact": t_exact.median / t_est.median,
        "mean_symmetricity_exact": float(sym.mean()),
        "mean_symmetricity_estimate": float(est.symmetricity.mean()),
        "mean_symmetricity_error": float(est.symmetricity.mean() - sym.mean()),
        "mean_symmetricity_se": mean_se,
        "point_symmetricity_abs_error_median": float((est.symmetricity - sym).abs().median()),
        "point_symmetricity_se_median": float(est.symmetricity_se.median()),
        "point_norm2_relative_error_median": float(((est.norm2 - n2).abs() / n2).median()),
        "point_norm2_relative_se_median": float((est.norm2_se / n2).median()),
        "point_z_median": float(z_sym.median()),
        "point_z_max": float(z_sym.max()),
        "stated_bound_relative_se": math.sqrt(2.0 / n_probes),
    }


def check_stated_errors(result: dict[str, Any], n_se: float = 5.0, z_median: float = 3.0) -> None:
    """Raise :class:`AssertionError` unless the Hutchinson estimate of a
    :func:`deep_metrics_benchmark` result is within ``n_se`` stated standard errors of the exact
    mean symmetricity, and its median per-point error is below ``z_median`` stated standard
    errors (a loose check that the stated errors describe the actual ones)."""
    assert abs(result["mean_symmetricity_error"]) < n_se * result["mean_symmetricity_se"] + 1e-12, result
    assert result["point_z_median"] < z_median, result


# ------------------------------------------------------------------------- chapter 91's parameters
