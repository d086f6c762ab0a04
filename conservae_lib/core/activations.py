"""Element-wise hidden activations h, their derivatives h' and antiderivatives ∫h.

The auto-encoder of eq. (1), r(x) = R h(Wᵀx + b) + c, needs h itself; its Jacobian R D_h' Wᵀ
(Proposition 2, chapter *Conservative auto-encoders*) needs h'; and the energy of a tied model,
eq. (3), needs an antiderivative H with H' = h. All three live here so that the model, the
Jacobian and the energy can never disagree about what "sigmoid" means.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

Tensor = torch.Tensor

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation with its derivative and an antiderivative.

    ``antiderivative`` is the primitive H used in the energy of eq. (3): H' = h, fixed so that
    H(0) takes the value noted in its docstring (the constant only shifts the energy).
    """

    name: str
    h: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    antiderivative: Callable[[Tensor], Tensor]
    piecewise_linear: bool

    def __call__(self, u: Tensor) -> Tensor:
        return self.h(u)


def _sigmoid_prime(u: Tensor) -> Tensor:
    s = torch.sigmoid(u)
    return s * (1 - s)


def _relu_prime(u: Tensor) -> Tensor:
    # The derivative at the kink is taken as 0, as autograd does.
    return (u > 0).to(u.dtype)


def _tanh_prime(u: Tensor) -> Tensor:
    return 1 - torch.tanh(u) ** 2


def _log_cosh(u: Tensor) -> Tensor:
    # log cosh u = |u| + log1p(exp(-2|u|)) - log 2, stable for large |u|.
    a = u.abs()
    return a + torch.log1p(torch.exp(-2 * a)) - math.log(2.0)


class _SoftplusPrimitive(torch.autograd.Function):
    """H(u) = ∫_{-∞}^u softplus(t) dt = -Li₂(-eᵘ), the antiderivative of softplus.

    The dilogarithm has no torch kernel; the value comes from ``scipy.special.spence``
    (Li₂(z) = spence(1 - z)) and the gradient is exactly softplus(u), so autograd through the
    energy of a softplus auto-encoder is exact.
    """

    @staticmethod
    def forward(ctx, u: Tensor) -> Tensor:  # type: ignore[override]
        from scipy.special import spence

        ctx.save_for_backward(u)
        v = u.detach().cpu().double().numpy()
        out = np.empty_like(v)
        neg = v <= 0
        # u <= 0: -Li2(-e^u) = -spence(1 + e^u), with 1 + e^u in (1, 2].
        out[neg] = -spence(1.0 + np.exp(v[neg]))
        # u > 0: inversion Li2(-e^u) = -π²/6 - u²/2 - Li2(-e^-u).
        p = v[~neg]
        out[~neg] = math.pi**2 / 6 + 0.5 * p**2 + spence(1.0 + np.exp(-p))
        return torch.as_tensor(out, dtype=u.dtype, device=u.device)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (u,) = ctx.saved_tensors
        return grad * F.softplus(u)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", torch.sigmoid, _sigmoid_prime, F.softplus, False),
    "relu": Activation("relu", torch.relu, _relu_prime, lambda u: 0.5 * torch.relu(u) ** 2, True),
    "tanh": Activation("tanh", torch.tanh, _tanh_prime, _log_cosh, False),
    "softplus": Activation("softplus", F.softplus, torch.sigmoid, _SoftplusPrimitive.apply, False),
    "linear": Activation("linear", lambda u: u, torch.ones_like, lambda u: 0.5 * u**2, True),
}


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name; the error lists the names that exist."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        allowed = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"activation must be one of {allowed}; got {name!r}.") from None
