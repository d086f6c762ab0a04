"""Contraction penalties: the regularisers under which Proposition 3 is stated.

* :func:`reconstruction_contraction` — ‖∂r/∂x‖²_F, the penalty of the paper's eq. (10), averaged
  over a batch. For one-layer models it is dᵀ(RᵀR ∘ WᵀW)d per point (no D × D Jacobian).
* :func:`encoder_contraction` — ‖∂h/∂x‖²_F = Σ_k h'_k(x)² ‖W_{·k}‖², the classic contractive
  auto-encoder penalty of Rifai et al. (2011). The paper does not write it; the MNIST chapter uses
  it only as the second reading of Table 1's CAE rows. With ReLU units under the weight-length
  constraint ‖W_{·k}‖² = α it equals α · (number of active units) and its gradient is radial in
  each W_{·k} (``empirical.rifai_relu_wl_check`` measures it).
Chapters: *Proposition 3* (local conservativeness) and the MNIST chapter (CAE rows of Table 1:
eq. (10) is the primary reading).
"""
from __future__ import annotations

import torch
from torch import nn

from .fields import jacobian_norm2
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["reconstruction_contraction", "encoder_contraction", "encoder_contraction_at"]


def reconstruction_contraction(model: nn.Module, x: Tensor) -> Tensor:
    """Batch mean of ‖∂r/∂x‖²_F (eq. 10's penalty), differentiable in the parameters."""
    return jacobian_norm2(model, x).mean()


def encoder_contraction(model: AutoEncoder, x: Tensor) -> Tensor:
    """Batch mean of ‖∂h(Wᵀx + b)/∂x‖²_F = Σ_k h'_k(x)² ‖W_{·k}‖² (Rifai et al., 2011)."""
    if not isinstance(model, AutoEncoder):
        raise TypeError("encoder_contraction is defined for one-layer AutoEncoder models.")
    return encoder_contraction_at(model, model.preactivation(x))


def encoder_contraction_at(model: AutoEncoder, u: Tensor) -> Tensor:
    """:func:`encoder_contraction` from already computed pre-activations u = Wᵀx + b (the
    trainer computes them once for the reconstruction and the penalty)."""
    d = model.activation.derivative(u)
    return ((d**2) * (model.W**2).sum(dim=0)).sum(dim=1).mean()
