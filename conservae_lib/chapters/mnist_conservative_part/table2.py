"""Table 2's statistic: how often a learned energy prefers a test digit to its corrupted copy.

For each Table 2 row (:data:`CVF_ROWS`, how the conservative field F_K was trained on MNIST) and
each β, the paper reports the fraction of test images x with E(x) > E(x̃) (:func:`fraction_higher`,
per corruption :func:`fractions_higher`). E is the closed-form energy of eq. (3)/(4) for a tied
learner; for a model without one (the untied learner, an extra, and the targets themselves) the
"energy difference" is the work of the field along the segment x̃ → x (:func:`segment_integral`,
:func:`energy_difference`), a path-dependent number (:func:`path_dependence_ratio`). The trivial
energies −½‖x − c‖² (:func:`quadratic_energy`, :func:`quadratic_fractions`) are the controls.
:func:`summarize` aggregates the runs of :func:`conservae_lib.chapters.mnist_conservative_part.alg1_runs.run_experiment` over seeds
(mean ± sd), and :func:`seed_values` reads one number per seed.
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from conservae_lib.core import energy
from .corruption import CORRUPTIONS
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["CVF_ROWS", "quadratic_energy", "segment_integral", "energy_difference", "path_dependence_ratio",
           "fraction_higher", "fractions_higher", "quadratic_fractions", "seed_values", "summarize"]

#: Table 2's rows: how the conservative field F_K = (W_K, R_K) was trained on MNIST.
CVF_ROWS: tuple[str, ...] = ("tied", "untied")


def quadratic_energy(x: Tensor, c: Tensor | None = None) -> Tensor:
    """The trivial energy −½‖x − c‖² (the last term of eq. 3 alone; c = 0 by default)."""
    return -0.5 * ((x - (0 if c is None else c)) ** 2).sum(dim=1)


def segment_integral(model: AutoEncoder, a: Tensor, b: Tensor, n_nodes: int = 64,
                     chunk_elements: int = 2**23) -> Tensor:
    """∫ (r(y) − y) · dy along the straight segments a → b (each N × D), one value per row.

    For a conservative field this is E(b) − E(a) (eq. 2). Along y(t) = a + t(b − a) the
    pre-activation W^T y + b is affine in t, so the exact field values at every Gauss–Legendre node
    cost no extra matrix products: with δ = b − a, u(t) = u(a) + t W^T δ and
    F(y(t)) · δ = h(u(t)) · (R^T δ) + c · δ − (a + tδ) · δ.
    Rows are processed in chunks of at most ``chunk_elements`` hidden values (memory).

    Why not :func:`conservae_lib.core.energy.line_potential` / :func:`conservae_lib.core.energy.path_dependence`:
    those integrate any field from *one* start point x₀ and evaluate it at every node, an
    N × nodes × D tensor (gigabytes for the full profile's 10 000 test images); here every row has
    its own start (x̃ per image) and only the N × nodes × H hidden values are formed. Same integral,
    other rounding (so the chapter's numbers stay those of this routine).
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be N × D batches of one shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
    t, w = np.polynomial.legendre.leggauss(int(n_nodes))
    t = torch.as_tensor((t + 1) / 2, dtype=a.dtype)
    w = torch.as_tensor(w / 2, dtype=a.dtype)
    chunk = max(1, int(chunk_elements // (int(n_nodes) * model.H)))
    out = []
    with torch.no_grad():
        for i in range(0, len(a), chunk):
            ai, bi = a[i:i + chunk], b[i:i + chunk]
            delta = bi - ai
            u_a = model.preactivation(ai)                      # n × H
            du = delta @ model.W                               # n × H
            v = delta @ model.R                                # n × H  (R^T δ per row)
            h = model.activation(u_a[:, None, :] + t[None, :, None] * du[:, None, :])  # n × nodes × H
            hidden_part = ((h * v[:, None, :]).sum(dim=2) * w).sum(dim=1)
            linear_part = delta @ model.c - (ai * delta).sum(dim=1) - 0.5 * (delta ** 2).sum(dim=1)
            out.append(hidden_part + linear_part)
    return torch.cat(out)


def energy_difference(model: AutoEncoder, x: Tensor, x_tilde: Tensor, n_nodes: int = 64) -> Tensor:
    """E(x) − E(x̃) per image pair.

    Models with a closed-form energy (tied, or R = W diag(λ)) use eq. (3)–(4) through
    :func:`conservae_lib.core.energy.potential`; any other model uses :func:`segment_integral` from x̃ to
    x, a path-dependent quantity when the field is not conservative.
    """
    with torch.no_grad():
        if energy.decoder_scales(model) is not None:
            return energy.potential(model, x) - energy.potential(model, x_tilde)
        return segment_integral(model, x_tilde, x, n_nodes)


def path_dependence_ratio(model: AutoEncoder, x: Tensor, x_tilde: Tensor, n_nodes: int = 64) -> float:
    """mean |∫_{x̃→x} − ∫_{x̃→0→x}| / mean |∫_{x̃→x}|: how much the "energy difference" of a field
    changes when the path goes through the origin. 0 (to quadrature error) for a conservative field."""
    direct = segment_integral(model, x_tilde, x, n_nodes)
    zero = torch.zeros_like(x)
    detour = segment_integral(model, x_tilde, zero, n_nodes) + segment_integral(model, zero, x, n_nodes)
    return float((direct - detour).abs().mean() / direct.abs().mean().clamp_min(1e-30))


def fraction_higher(delta: Tensor, scale: Tensor | None = None, rtol: float = 1e-9) -> float:
    """The fraction of pairs with E(x) > E(x̃), from δ = E(x) − E(x̃); exact ties (|δ| ≤ rtol·scale,
    e.g. −½‖x‖² under a pixel permutation) count one half, as a coin flip would."""
    delta = torch.as_tensor(delta, dtype=torch.float64)
    tol = rtol * (torch.ones_like(delta) if scale is None else torch.as_tensor(scale, dtype=torch.float64).abs())
    tie = delta.abs() <= tol
    return float(((delta > tol).double() + 0.5 * tie.double()).mean())



def fractions_higher(delta_of: Callable[[Tensor], Tensor], corrupted: Mapping[str, Tensor]) -> dict[str, float]:
    """Per corruption, :func:`fraction_higher` of δ = ``delta_of(x̃)`` = E(x) − E(x̃) (a Table 2 cell)."""
    return {k: fraction_higher(delta_of(xc)) for k, xc in corrupted.items()}


def quadratic_fractions(xt: Tensor, corrupted: Mapping[str, Tensor], c: Tensor | None) -> dict[str, float]:
    """Per corruption, the fraction E(x) > E(x̃) for the trivial energy −½‖x − c‖² (:func:`quadratic_energy`),
    with exact ties (e.g. −½‖x‖² under a permutation) counted one half."""
    out = {}
    for k, xc in corrupted.items():
        e_x, e_c = quadratic_energy(xt, c), quadratic_energy(xc, c)
        out[k] = fraction_higher(e_x - e_c, e_x.abs() + e_c.abs())
    return out



def _stats(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _get(entry: Mapping[str, Any], path: str) -> Any:
    for part in path.split("/"):
        entry = entry[part]
    return entry


def seed_values(runs: Sequence[Mapping[str, Any]], row: str, path: str) -> dict[float, list[Any]]:
    """Per β, one value per seed of ``path`` (e.g. ``"learners/tied/fraction/binomial"``,
    ``"references/tied_floor"``) in Table 2's row ``row``."""
    out: dict[float, list[Any]] = {}
    for i, entry in enumerate(runs[0]["cvf"][row]["rows"]):
        out[entry["beta"]] = [_get(run["cvf"][row]["rows"][i], path) for run in runs]
    return out


def _paths(entry: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every numeric leaf below ``entry`` (curves excluded), as "a/b/c" paths."""
    out = []
    for k, v in entry.items():
        p = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _paths(v, p + "/")
        elif isinstance(v, (int, float)) and k != "beta":
            out.append(p)
    return out


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means and standard deviations over seeds of every per-β number, organised as
    ``{"betas": [...], "<row>:<path>": {β: (mean, sd)}}`` with ``path`` as in :func:`seed_values`
    (booleans such as ``learners/tied/fits`` become the share of seeds)."""
    betas = [r["beta"] for r in runs[0]["cvf"][CVF_ROWS[0]]["rows"]]
    out: dict[str, Any] = {"betas": betas, "n_seeds": len(runs), "binomial_p": _stats([r["binomial_p"] for r in runs])}
    for row in CVF_ROWS:
        for path in _paths(runs[0]["cvf"][row]["rows"][0]):
            vals = seed_values(runs, row, path)
            out[f"{row}:{path}"] = {b: _stats([float(v) for v in vs]) for b, vs in vals.items()}
        out[f"{row}:mnist_final_loss"] = _stats([r["cvf"][row]["mnist_final_loss"] for r in runs])
    out["trivial"] = {name: {k: _stats([run["trivial"][name][k] for run in runs]) for k in CORRUPTIONS}
                      for name in runs[0]["trivial"]}
    return out
