"""What a learner of Algorithm 1 can learn, and when it has (chapter 07, section *What a learner
can learn, and when it has*).

Algorithm 1 (step 6) trains a tied auto-encoder to reproduce a field F_β = r_β − x. Over the cube
[0, 1]^D the target is almost linear, so its average Jacobian J̄ (eq. 5 averaged over the points,
:func:`average_jacobian`) gives the best linear field, its symmetric part S = (J̄ + J̄ᵀ)/2 the best
conservative linear field, and S projected on the positive semi-definite matrices of rank ≤ H the
best field a tied *sigmoid* auto-encoder can reach (its Jacobian W diag(σ′) Wᵀ is positive
semi-definite) — :func:`conservative_references`. Errors are relative to the target's variation
(:func:`relative_field_error`); a learner *fits* when its held-out error is within
:data:`FIT_MARGIN` of its floor (:func:`learner_fits`), and its distance to the target's
conservative part is :func:`symmetric_part_distance` (the ledger's claim ``alg1``).
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import torch

from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["FIT_MARGIN", "variation", "relative_field_error", "average_jacobian", "conservative_references",
           "symmetric_part_distance", "learner_fits", "plateaued"]

#: A learner fits its target when its held-out relative error exceeds the best its model class can
#: reach (:func:`conservative_references`) by at most this much (absolute, in units of the
#: target's variation over the cube).
FIT_MARGIN = 0.1


def variation(r: Tensor) -> Tensor:
    """Σ‖r − mean r‖² over the rows: the part of a reconstruction that an auto-encoder has to learn
    (every auto-encoder's field contains −x, and a constant is one bias, so neither counts)."""
    return ((r - r.mean(dim=0, keepdim=True)) ** 2).sum().clamp_min(1e-30)


@torch.no_grad()
def relative_field_error(learned: AutoEncoder | Callable[[Tensor], Tensor], target: AutoEncoder | Callable[[Tensor], Tensor],
                         x: Tensor) -> float:
    """Σ‖F_learned(x) − F_target(x)‖² / Σ‖r_target(x) − mean r_target‖² over the points.

    The numerator is the squared distance between the two fields (= ‖r_learned − r_target‖², the
    −x parts cancel); the denominator is the variation of the target's reconstruction, so 0 is a
    perfect fit and 1 is no better than the best constant reconstruction. Either argument may be
    any function x ↦ r(x) (e.g. a reference field of :func:`conservative_references`).
    """
    t = target(x)
    return float(((learned(x) - t) ** 2).sum() / variation(t))


@torch.no_grad()
def average_jacobian(target: AutoEncoder, x: Tensor) -> Tensor:
    """J̄ = R diag(mean_x h′(Wᵀx + b)) Wᵀ: the Jacobian ∂r/∂x of eq. (5) averaged over the points x."""
    d = target.hidden_derivative(x).mean(dim=0)
    return (target.R * d) @ target.W.T


@torch.no_grad()
def conservative_references(target: AutoEncoder, x_fit: Tensor, x_eval: Tensor, H: int) -> dict[str, float]:
    """How well three reference fields reproduce ``target`` on the held-out points ``x_eval``
    (relative errors as in :func:`relative_field_error`), all linear: r(x) ≈ a + M (x − m) with m
    the mean of ``x_fit``, a the mean of r there, and M one of

    * ``linear``: the average Jacobian J̄ (:func:`average_jacobian`) — how linear the target is;
    * ``symmetric``: S = (J̄ + J̄ᵀ)/2 — a conservative field (the gradient of a quadratic), the
      target's conservative part when the target is linear (its antisymmetric part is the rest);
    * ``tied_floor``: S with its negative eigenvalues set to 0 and only its H largest kept — the best
      linear field whose Jacobian is positive semi-definite of rank ≤ H, which is what a tied
      sigmoid auto-encoder's Jacobian W diag(σ′) Wᵀ always is.

    Also returns ``negative_share``: the share of ‖S‖²_F in negative eigenvalues.
    """
    t = copy.deepcopy(target).double()
    xf, xe = x_fit.double(), x_eval.double()
    m = xf.mean(dim=0)
    a = t(xf).mean(dim=0)
    J = average_jacobian(t, xf)
    S = 0.5 * (J + J.T)
    ev, V = torch.linalg.eigh(S)
    keep = torch.zeros_like(ev, dtype=torch.bool)
    keep[torch.argsort(ev, descending=True)[:int(H)]] = True
    P = (V * torch.where(keep, ev.clamp_min(0.0), torch.zeros_like(ev))) @ V.T
    out = {}
    for name, M in (("linear", J), ("symmetric", S), ("tied_floor", P)):
        out[name] = relative_field_error(lambda x, M=M: a + (x - m) @ M.T, t, xe)
    out["negative_share"] = float((ev.clamp_max(0.0) ** 2).sum() / (ev ** 2).sum().clamp_min(1e-30))
    return out


@torch.no_grad()
def symmetric_part_distance(learned: AutoEncoder, target: AutoEncoder, x_fit: Tensor, x_eval: Tensor) -> float:
    """√(Σ‖r_learned − r_S‖² / Σ‖r_S − mean r_S‖²) on ``x_eval``, with r_S(x) = a + S(x − m) the
    conservative (symmetric) linear part of ``target`` (:func:`conservative_references`): how far
    the learner is from the target's conservative component, relative to that component's
    variation (the −x of both fields cancels). The statistic of the ledger's claim ``alg1``."""
    t = copy.deepcopy(target).double()
    xf, xe = x_fit.double(), x_eval.double()
    m, a = xf.mean(dim=0), t(xf).mean(dim=0)
    J = average_jacobian(t, xf)
    S = 0.5 * (J + J.T)
    l64 = copy.deepcopy(learned).double()
    return math.sqrt(relative_field_error(l64, lambda x: a + (x - m) @ S.T, xe))


def learner_fits(rel_error: float, floor: float, margin: float = FIT_MARGIN) -> bool:
    """The chapter's rule for "the learner fitted its target": held-out relative error ≤ the best
    its model class can reach (``floor``, :func:`conservative_references`) + ``margin``."""
    return bool(math.isfinite(rel_error) and rel_error <= floor + margin)


def plateaued(curve: Sequence[float], tail: float = 0.2, rtol: float = 0.05) -> bool:
    """Whether a per-epoch error curve has levelled off: over its last ``tail`` share of epochs it
    fell by at most ``rtol`` of its value there."""
    c = [float(v) for v in curve]
    if len(c) < 3:
        return False
    k = max(1, int(round(tail * (len(c) - 1))))
    start, end = c[-1 - k], c[-1]
    return bool(start - end <= rtol * abs(start))

