"""How symmetric a one-layer auto-encoder is: sym(∂r/∂x) over points and sym(R Wᵀ), from Gram matrices.

What every run behind Table 1 and Figure 2 records (chapter 04): the mean symmetricity
sym(J) = ‖(J + Jᵀ)/2‖²_F / ‖J‖²_F of the Jacobian J = R D_h'(x) Wᵀ (Proposition 2) over held-out
points, that of the weight product R Wᵀ (section *Symmetricity of weights product*), and the
cosine between each encoder filter and its decoder filter. :func:`symmetricity_metrics` gets the
first two from three H × H Gram matrices, so no D × D Jacobian is formed; where ‖J‖²_F is at
most :data:`DEGENERATE_NORM2` (saturated sigmoids, dead ReLUs) sym(J) is undefined and the point
is counted apart. Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from conservae_lib.core.fields import gram_matrices
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["DEGENERATE_NORM2", "symmetricity_metrics", "filter_cosines", "tied_baseline", "high_curvature_band",
           "hidden_statistics", "HISTOGRAM_BINS"]

#: Bins of the pre-activation histogram (Figure "pre-activations and the high-curvature band").
HISTOGRAM_BINS: int = 120

#: ‖∂r/∂x‖²_F at or below this is a vanishing Jacobian: its symmetricity is undefined (NaN).
DEGENERATE_NORM2: float = 1e-8


@torch.no_grad()
def symmetricity_metrics(model: AutoEncoder, x: Tensor) -> dict[str, float]:
    """Mean sym(∂r/∂x) over the points x and sym(R Wᵀ), from shared H × H Gram matrices.

    With J(x) = R D Wᵀ, D = diag(d), d = h'(Wᵀx + b) (Proposition 2), Q = RᵀR ∘ WᵀW and
    P = M ∘ Mᵀ for M = WᵀR (:func:`~conservae_lib.core.fields.gram_matrices`): ‖J‖²_F = dᵀQd and
    tr(J J) = dᵀPd, so
    sym(J) = ½ + dᵀPd / (2 dᵀQd) (1 where J = 0, a locally constant field). R Wᵀ is the case
    d = 1: sym(R Wᵀ) = ½ + ΣP / (2 ΣQ). Cost O(D H² + N H²); no D × D matrix is formed.
    Where ‖J‖²_F ≤ :data:`DEGENERATE_NORM2` sym(J) is undefined: such points are left out of the
    mean (NaN when all are), and ``degenerate_frac`` is their share. Also returns the spread of
    sym(J) over the points (``jac_sym_sd``) and the mean ‖J‖²_F (``jac_norm2``).
    """
    W = model.W
    x = x.to(W.device, W.dtype)
    Q, P = gram_matrices(model)
    d = model.hidden_derivative(x)
    norm2 = ((d @ Q) * d).sum(dim=1)
    trace = ((d @ P) * d).sum(dim=1)
    ok = norm2 > DEGENERATE_NORM2
    jac = (0.5 + 0.5 * trace / torch.where(ok, norm2, torch.ones_like(norm2)))[ok]
    q = Q.sum()
    rw = 0.5 + 0.5 * P.sum() / q if q > DEGENERATE_NORM2 else torch.tensor(float("nan"))
    nan = float("nan")
    return {"jac_sym": float(jac.mean()) if len(jac) else nan,
            "jac_sym_sd": float(jac.std()) if len(jac) > 1 else (0.0 if len(jac) else nan),
            "rw_sym": float(rw), "degenerate_frac": float((~ok).float().mean()), "jac_norm2": float(norm2.mean())}


@torch.no_grad()
def filter_cosines(model: AutoEncoder) -> np.ndarray:
    """Cosine between each encoder filter W_{·k} and its decoder filter R_{·k} (H values)."""
    W, R = model.W.detach().cpu(), model.R.detach().cpu()
    return (torch.nn.functional.cosine_similarity(W, R, dim=0)).numpy()


@torch.no_grad()
def tied_baseline(model: AutoEncoder, x: Tensor) -> float:
    """sym(∂r/∂x) of the tied model with the same encoder (R := W): exactly 1 (Corollary 1)."""
    tied = AutoEncoder.from_weights(model.W.detach().clone(), None, model.b.detach().clone(),
                                    model.c.detach().clone(), model.activation)
    return symmetricity_metrics(tied, x)["jac_sym"]


def high_curvature_band(activation: str = "sigmoid", fraction: float = 0.5) -> tuple[float, float]:
    """The pre-activations u > 0 where |h''(u)| ≥ ``fraction`` · max |h''| (by symmetry also −u).

    For the sigmoid h'' = h(1−h)(1−2h), largest at u = ±ln(2+√3) ≈ ±1.317.
    """
    if activation != "sigmoid":
        raise ValueError("the curvature band is defined for the sigmoid only (ReLU has h'' = 0 away from 0).")
    u = np.linspace(0, 12, 240001)
    s = 1 / (1 + np.exp(-u))
    c = np.abs(s * (1 - s) * (1 - 2 * s))
    inside = u[c >= fraction * c.max()]
    return float(inside.min()), float(inside.max())


@torch.no_grad()
def hidden_statistics(model: AutoEncoder, x: Tensor) -> dict[str, Any]:
    """The pre-activations u = Wᵀx + b over points and units as a histogram, and summaries of h' across units.

    ``u_hist``: ``edges`` and ``density`` of :data:`HISTOGRAM_BINS` bins over the 0.5–99.5 percentile range of u,
    widened to at least [−6, 6];
    ``hprime_cv``: the mean over points of the coefficient of variation of h'_l(x) across units l
    (small when h' is nearly the same for all units, the paper's first explanation);
    ``in_band``: for sigmoid, the fraction of (point, unit) pairs whose |u| lies in the
    high-curvature band; ``active``: the fraction with u > 0 (ReLU units that pass gradient).
    """
    x = x.to(model.W.device, model.W.dtype)
    u = model.preactivation(x)
    d = model.hidden_derivative(x)
    cv = (d.std(dim=1) / d.mean(dim=1).clamp_min(1e-12)).mean()
    flat = u.flatten().cpu().numpy()
    flat = flat[np.isfinite(flat)]  # a diverged model's non-finite values have no place on the axis
    lo, hi = np.percentile(flat, [0.5, 99.5]) if flat.size else (-6.0, 6.0)
    density, edges = np.histogram(flat, bins=HISTOGRAM_BINS, range=(min(lo, -6), max(hi, 6)), density=bool(flat.size))
    out: dict[str, Any] = {"u_hist": {"edges": edges.tolist(), "density": density.tolist()}, "hprime_cv": float(cv),
                           "active": float((u > 0).float().mean())}
    if model.activation.name == "sigmoid":
        lo, hi = high_curvature_band("sigmoid")
        a = u.abs()
        out["in_band"] = float(((a >= lo) & (a <= hi)).float().mean())
    return out
