"""Energy (potential) functions F with ∇F(x) = r(x) − x (eq. 2).

* :func:`potential` — the closed form of eq. (3) for a tied one-layer auto-encoder,
  F(x) = Σ_k H(W_kᵀx + b_k) − ½‖x − c‖² with H' = h; for sigmoid units this is the Gaussian-RBM
  free energy of eq. (4). It also covers the per-unit scaled tied decoder R = W diag(λ), whose
  energy is Σ_k λ_k H(u_k) − ½‖x − c‖² (chapter *When is an untied auto-encoder conservative?*).
* :func:`line_potential` — a numerical potential for any field, by integrating F along the
  straight segment from a base point; :func:`path_dependence` integrates along two different
  paths and returns the difference, zero exactly when the field is conservative on the region.
Chapter: *Conservative auto-encoders*.
"""
from __future__ import annotations

import numpy as np
import torch

from .fields import FieldLike, as_field
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["potential", "potential_gradient_error", "decoder_scales", "line_potential", "path_dependence"]


def decoder_scales(model: AutoEncoder, rtol: float = 1e-6) -> Tensor | None:
    """λ with R = W diag(λ), if the decoder is a per-unit rescaling of the encoder, else None.

    Tied models give λ = 1. A column of W that is zero admits any λ_k; it is set to 0.
    """
    if model.tied:
        return torch.ones(model.H, dtype=model.W.dtype, device=model.W.device)
    W, R = model.W.detach(), model.R.detach()
    wn = (W * W).sum(0)
    lam = torch.where(wn > 0, (W * R).sum(0) / torch.where(wn > 0, wn, torch.ones_like(wn)), torch.zeros_like(wn))
    resid = (R - W * lam).norm()
    if resid > rtol * max(R.norm().item(), 1e-30):
        return None
    return lam


def potential(model: AutoEncoder, x: Tensor) -> Tensor:
    """Energy F(x) of eq. (3) at each point of x (N × D), up to an additive constant.

    F(x) = Σ_k λ_k H(W_kᵀx + b_k) − ½‖x − c‖², with λ = 1 for tied weights (eq. 3; eq. 4 for
    sigmoid) and λ from :func:`decoder_scales` when R = W diag(λ). Its gradient is exactly
    r(x) − x. Any other untied model has no closed-form energy here: the error says so and
    points at :func:`line_potential`.
    """
    if not isinstance(model, AutoEncoder):
        raise TypeError("potential needs a one-layer AutoEncoder; use line_potential for other fields.")
    lam = decoder_scales(model)
    if lam is None:
        raise ValueError(
            "potential has a closed form only for tied models or R = W·diag(λ); this untied model "
            "is neither. Use conservae_lib.core.energy.line_potential, which integrates the field numerically."
        )
    u = model.preactivation(x)
    return (model.activation.antiderivative(u) * lam).sum(dim=1) - 0.5 * ((x - model.c) ** 2).sum(dim=1)


def _gauss_legendre(n: int, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    t, w = np.polynomial.legendre.leggauss(n)
    return torch.as_tensor((t + 1) / 2, dtype=dtype), torch.as_tensor(w / 2, dtype=dtype)


def _segment_integral(f, a: Tensor, b: Tensor, n_nodes: int) -> Tensor:
    """∫ F · dl along the straight segments a → b (each N × D), by Gauss–Legendre quadrature."""
    t, w = _gauss_legendre(n_nodes, a.dtype)
    N, D = a.shape
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]
    vals = f(pts.reshape(-1, D)).reshape(N, n_nodes, D)
    return ((vals * (b - a)[:, None, :]).sum(dim=2) * w).sum(dim=1)


def line_potential(field: FieldLike, x: Tensor, x0: Tensor | None = None, n_nodes: int = 64) -> Tensor:
    """φ(x) = ∫₀¹ F(x₀ + t(x − x₀)) · (x − x₀) dt at each point of x (N × D).

    For a conservative field this is the potential with φ(x₀) = 0 (so ∇φ = F). For a
    non-conservative field it is still defined but depends on the chosen (straight) paths.
    """
    f = as_field(field)
    x0 = torch.zeros_like(x[:1]) if x0 is None else torch.as_tensor(x0, dtype=x.dtype).reshape(1, -1)
    return _segment_integral(f, x0.expand_as(x), x, n_nodes)


def path_dependence(
    field: FieldLike, x: Tensor, via: Tensor, x0: Tensor | None = None, n_nodes: int = 64
) -> Tensor:
    """Difference of ∫ F·dl from x₀ to x along x₀→x and along x₀→via→x, per point.

    Zero for a conservative field (the closed loop x₀→via→x→x₀ encloses no curl), non-zero
    otherwise: a direct, dimension-free test of Proposition 1.
    """
    f = as_field(field)
    x0 = torch.zeros_like(x[:1]) if x0 is None else torch.as_tensor(x0, dtype=x.dtype).reshape(1, -1)
    x0 = x0.expand_as(x)
    via = torch.as_tensor(via, dtype=x.dtype).expand_as(x)
    direct = _segment_integral(f, x0, x, n_nodes)
    detour = _segment_integral(f, x0, via, n_nodes) + _segment_integral(f, via, x, n_nodes)
    return detour - direct


def potential_gradient_error(model: AutoEncoder, x: Tensor) -> float:
    """max |∇F(x) − (r(x) − x)| / max |r(x) − x| over the points, with ∇F by autograd.

    Zero up to rounding for every model :func:`potential` accepts: the closed-form energy is
    an exact potential of the auto-encoder's field (eq. 2–4).
    """
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(potential(model, x).sum(), x)
    with torch.no_grad():
        field = model.field(x)
        return float((grad - field).abs().max() / field.abs().max().clamp_min(1e-300))
