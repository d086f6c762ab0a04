"""What a learner of Algorithm 1 can learn, and when it has (chapter 07, section *What a learner
can learn, and when it has*).

Algorithm 1 (step 6) trains a tied auto-encoder to reproduce a field F_β = r_β − x. Over the cube
[0, 1]^D the target is almost linear, so its average Jacobian J̄ (eq. 5 averaged over the points,
:func:`average_jacobian`) gives the best linear field, its symmetric part S = (J̄ + J̄ᵀ)/2 the best
conservative linear field, and S projected on the positive semi-definite matrices of rank ≤ H the
best field a tied *sigmoid* auto-encoder can reach (its Jacobian W diag(σ′) Wᵀ is positive
semi-definite) — :func:`conservative_references`. Errors are relative to the target's variation
(:func:`relative_field_error`); a learner *fits* when its held-out error is within
:data:`FIT_MARGIN` of its floor (:func:`learner_fits`), and its distances to the target's
conservative part, whole and representable, are :func:`conservative_part_distances` (the ledger's claim ``alg1``).
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Mapping, Sequence

import torch

from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["FIT_MARGIN", "variation", "relative_field_error", "average_jacobian", "references_at",
           "conservative_references", "conservative_part_distances", "learner_fits", "plateaued"]

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
def _linear_parts(target: AutoEncoder, x_fit: Tensor, H: int) -> tuple[AutoEncoder, Tensor, Tensor, dict[str, Tensor], Tensor]:
    """The target in float64, the mean m of ``x_fit``, the mean a of r there, the matrices of the three linear
    references (J̄, S, and P: S with its negative eigenvalues set to 0 and only its H largest kept) and S's
    eigenvalues."""
    t = copy.deepcopy(target).double()
    xf = x_fit.double()
    m, a = xf.mean(dim=0), t(xf).mean(dim=0)
    J = average_jacobian(t, xf)
    S = 0.5 * (J + J.T)
    ev, V = torch.linalg.eigh(S)
    keep = torch.zeros_like(ev, dtype=torch.bool)
    keep[torch.argsort(ev, descending=True)[:int(H)]] = True
    P = (V * torch.where(keep, ev.clamp_min(0.0), torch.zeros_like(ev))) @ V.T
    return t, m, a, {"linear": J, "symmetric": S, "tied_floor": P}, ev


@torch.no_grad()
def references_at(target: AutoEncoder, x_fit: Tensor, points: Mapping[str, Tensor], H: int) -> dict[str, dict[str, float]]:
    """How well three reference fields reproduce ``target`` at each set of ``points`` (name → N × D; relative
    errors as in :func:`relative_field_error`), all linear, r(x) ≈ a + M (x − m) with m the mean of ``x_fit``,
    a the mean of r there, and M one of

    * ``linear``: the average Jacobian J̄ (:func:`average_jacobian`) — how linear the target is;
    * ``symmetric``: S = (J̄ + J̄ᵀ)/2 — a conservative field (the gradient of a quadratic), the
      target's conservative part when the target is linear (its antisymmetric part is the rest);
    * ``tied_floor``: S with its negative eigenvalues set to 0 and only its H largest kept — the best
      linear field whose Jacobian is positive semi-definite of rank ≤ H, which is what a tied
      sigmoid auto-encoder's Jacobian W diag(σ′) Wᵀ always is.

    Each set also gets ``negative_share``: the share of ‖S‖²_F in negative eigenvalues."""
    t, m, a, mats, ev = _linear_parts(target, x_fit, H)
    share = float((ev.clamp_max(0.0) ** 2).sum() / (ev ** 2).sum().clamp_min(1e-30))
    return {name: {**{k: relative_field_error(lambda x, M=M: a + (x - m) @ M.T, t, x.double())
                      for k, M in mats.items()}, "negative_share": share}
            for name, x in points.items()}


def conservative_references(target: AutoEncoder, x_fit: Tensor, x_eval: Tensor, H: int) -> dict[str, float]:
    """:func:`references_at` on the held-out points ``x_eval`` alone."""
    return references_at(target, x_fit, {"eval": x_eval}, H)["eval"]


@torch.no_grad()
def conservative_part_distances(learned: AutoEncoder, target: AutoEncoder, x_fit: Tensor, x_eval: Tensor,
                                H: int) -> dict[str, float]:
    """How far the learner is from the target's conservative component, on the fit rule's scale (relative
    squared error, :func:`relative_field_error`, to the reference's own variation, the −x of both fields
    cancelling), on ``x_eval``: ``symmetric`` — to r_S(x) = a + S(x − m), the whole conservative (symmetric)
    linear part; ``representable`` — to r_P, the part a tied sigmoid auto-encoder can represent (positive
    semi-definite Jacobian of rank ≤ H; :func:`references_at`). The statistics of the ledger's claim ``alg1``
    (``representable``) and of its reading ``symmetric-part``."""
    _, m, a, mats, _ = _linear_parts(target, x_fit, H)
    l64, xe = copy.deepcopy(learned).double(), x_eval.double()
    return {name: relative_field_error(l64, lambda x, M=mats[key]: a + (x - m) @ M.T, xe)
            for name, key in (("symmetric", "symmetric"), ("representable", "tied_floor"))}


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

