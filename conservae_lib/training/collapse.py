"""Trained networks that cannot be scored: diverged, dead, saturated or with a vanishing Jacobian.

A network whose parameters are not finite, whose hidden units are all inactive (dead ReLUs,
saturated sigmoids) or whose Jacobian ‖∂r/∂x‖_F is about zero has no defined symmetricity
(eq. 5: 0/0), and a field that is zero everywhere has zero curl whatever the paper claims.
:func:`collapse_reason` says why in one sentence, and the chapters hand that reason to the
ledger as ``not_tested`` instead of a number; :func:`all_finite` is the divergence test the
trainer (:func:`conservae_lib.training.trainer.fit`) applies after every epoch, and
:func:`divergence_reason` and :func:`never_fell_reason` are the sentences both trainers (``fit``
and :func:`conservae_lib.training.batched.fit_many`) record for a run that diverged or learnt nothing.
Chapters: the MNIST chapters (04, 07) and the 2-D chapters.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn

from conservae_lib.core.fields import jacobian_norm2
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["collapse_reason", "all_finite", "FELL", "divergence_reason", "never_fell_reason"]

#: A run "fell" when its lowest epoch loss is below the loss before training by more than this
#: fraction of it (float rounding moves an untrained loss by ~1e-7 of itself).
FELL = 1e-4


def all_finite(params: Iterable[Tensor]) -> bool:
    """Whether every entry of every tensor is finite (no NaN, no ±∞)."""
    return all(bool(torch.isfinite(p).all()) for p in params)


def divergence_reason(epoch: int, loss: float, lr: float) -> str:
    """The sentence for a run that diverged at ``epoch``: its mean ``loss`` there was not finite,
    or (``loss`` finite) its parameters were not."""
    what = f"the loss became {loss}" if not math.isfinite(loss) else "the parameters became non-finite"
    return (f"training diverged at epoch {epoch}: {what}. The learning rate ({lr}) is probably too "
            "large for this model and data; try a smaller one.")


def never_fell_reason(initial: float, lowest: float, epochs: int) -> str | None:
    """The sentence for a run whose ``lowest`` epoch loss never fell below its loss before
    training (``initial``) by more than :data:`FELL` of it in ``epochs`` epochs, or None when it
    fell or the test does not apply (no epochs, or ``initial`` not positive)."""
    if epochs > 0 and initial > 0 and not lowest < initial * (1 - FELL):
        return (f"the training loss never fell below its value before training "
                f"({initial:.4g}, by more than {FELL:.0e} of it) in {epochs} epochs, "
                "so the run learnt nothing.")
    return None


@torch.no_grad()
def collapse_reason(model: nn.Module, x: Tensor, *, max_points: int = 256, jacobian_tol: float = 1e-6,
                    active_tol: float = 1e-4) -> str | None:
    """Why ``model`` is a collapsed network on the points ``x`` (N × D), or None if it is not.

    A trained network cannot be scored when (in this order)

    1. a parameter is NaN or infinite (training diverged);
    2. (one-layer :class:`~conservae_lib.core.models.AutoEncoder`) no hidden unit is active at any
       point: h′(Wᵀx + b) ≤ ``active_tol`` everywhere — dead ReLUs or saturated sigmoids;
    3. the Jacobian ∂r/∂x is about zero: the median over the points of ‖∂r/∂x‖²_F / D is below
       ``jacobian_tol`` (the identity map has 1). Its symmetricity (eq. 5) is then 0/0, and a
       field that is zero everywhere has zero curl whatever the paper's claim — so the chapters
       hand the ledger ``not_tested=<this reason>`` instead of a number.

    At most ``max_points`` points are used (the first ones). Chapters 04, 05 and 07 call this on
    held-out points before scoring a claim.
    """
    params = [p for p in model.parameters()]
    if not all_finite(params):
        return "the network's parameters are not finite (training diverged)."
    x = x[:max_points].to(params[0].device if params else x.device)
    n = len(x)
    if n == 0:
        raise ValueError("collapse_reason needs at least one point; got an empty batch.")
    if isinstance(model, AutoEncoder):
        active = model.hidden_derivative(x.to(model.W.dtype)) > active_tol
        if not bool(active.any()):
            return (f"no hidden unit is active on {n} points (h′ ≤ {active_tol:g} everywhere): "
                    "the network is dead or saturated.")
    norm2 = jacobian_norm2(model, x)
    D = x.shape[1]
    if not bool(torch.isfinite(norm2).all()):
        return f"the Jacobian ∂r/∂x is not finite on {n} points."
    if float(norm2.median()) / D < jacobian_tol:
        return (f"the Jacobian ∂r/∂x is about zero on {n} points (median ‖∂r/∂x‖²_F / D = "
                f"{float(norm2.median()) / D:.2g}): its symmetricity is undefined.")
    return None
