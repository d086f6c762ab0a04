"""Trained networks that cannot be scored: diverged, dead, saturated or with a vanishing Jacobian.

A network whose parameters are not finite, whose hidden units are all inactive (dead ReLUs,
saturated sigmoids) or whose Jacobian ‖∂r/∂x‖_F is about zero has no defined symmetricity
(eq. 5: 0/0), and a field that is zero everywhere has zero curl whatever the paper claims.
:func:`collapse_reason` says why in one sentence, and the chapters hand that reason to the
ledger as ``not_tested`` instead of a number. It has two Jacobian tests (:data:`JACOBIAN_TESTS`):
``"median"`` for high-dimensional data such as MNIST (the median ‖∂r/∂x‖²_F / D over the points)
and ``"everywhere"`` for the 2-D chapters 05 and 06, which look at a grid over the whole box (the
largest ‖∂r/∂x‖_F there: a 2-D field that is flat on part of the box is not collapsed).
:func:`all_finite` is the divergence test the trainer (:func:`conservae_lib.training.trainer.fit`)
applies after every epoch, and :func:`divergence_reason` and :func:`never_fell_reason` are the
sentences it records for a run that diverged or learnt nothing.
Chapters: the MNIST chapters (04, 07) and the 2-D chapters (05, 06).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from conservae_lib.core.fields import jacobian_norm2
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["collapse_reason", "JACOBIAN_TESTS", "JACOBIAN_FLOOR", "all_finite", "FELL", "divergence_reason",
           "never_fell_reason"]

#: A run "fell" when its lowest epoch loss is below the loss before training by more than this
#: fraction of it (float rounding moves an untrained loss by ~1e-7 of itself).
FELL = 1e-4

#: The 2-D chapters' floor: a model whose largest ‖∂r/∂x‖_F over the grid is below this has a
#: constant reconstruction there (the ``"everywhere"`` test of :func:`collapse_reason`).
JACOBIAN_FLOOR = 1e-6

#: The Jacobian tests of :func:`collapse_reason` and their defaults: ``jacobian_tol`` (the bound on
#: the median ‖∂r/∂x‖²_F / D, or on the largest ‖∂r/∂x‖_F) and ``active_tol`` (a hidden unit is
#: active where h′ exceeds it).
JACOBIAN_TESTS: dict[str, dict[str, float]] = {
    "median": {"jacobian_tol": 1e-6, "active_tol": 1e-4},
    "everywhere": {"jacobian_tol": JACOBIAN_FLOOR, "active_tol": 0.0},
}


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
def collapse_reason(model: nn.Module, x: Any, losses: Sequence[float] = (), *, degenerate: str | None = None,
                    jacobian_test: str = "median", max_points: int | None = 256, jacobian_tol: float | None = None,
                    active_tol: float | None = None) -> str | None:
    """Why ``model`` is a collapsed network on the points ``x`` (N × D), or None if it is not.

    A trained network cannot be scored when (in this order)

    1. ``degenerate`` is given: the trainer's own verdict (``History.degenerate`` of
       :func:`conservae_lib.training.trainer.fit`: diverged, or the loss never fell), returned as it is;
    2. a value in ``losses`` (the recorded training losses) is not finite;
    3. a parameter is NaN or infinite (training diverged);
    4. (one-layer :class:`~conservae_lib.core.models.AutoEncoder`) no hidden unit is active at any
       point: h′(Wᵀx + b) ≤ ``active_tol`` everywhere — dead ReLUs or saturated sigmoids;
    5. ‖∂r/∂x‖²_F is not finite at some point;
    6. the Jacobian ∂r/∂x is about zero, by the test ``jacobian_test`` names:

       * ``"median"`` (high-dimensional data, MNIST): the median over the points of
         ‖∂r/∂x‖²_F / D is below ``jacobian_tol`` (default 1e-6; the identity map has 1). At most
         ``max_points`` points are used (the first ones; None: all).
       * ``"everywhere"`` (the 2-D chapters 05 and 06, on a grid over the box): the largest
         ‖∂r/∂x‖_F over *all* the points is below ``jacobian_tol`` (default :data:`JACOBIAN_FLOOR`),
         i.e. r is constant on the grid; ``max_points`` is not used. A 2-D field that is flat on
         part of the box is not collapsed. Its unit test is h′ > ``active_tol`` = 0 by default.

    Its symmetricity (eq. 5) is then 0/0, and a field that is zero everywhere has zero curl
    whatever the paper's claim — so the chapters hand the ledger ``not_tested=<this reason>``
    instead of a number. ``active_tol`` defaults to 1e-4 for the median test and 0 for the
    everywhere test (:data:`JACOBIAN_TESTS`), the tolerances each chapter has always used. The
    points are cast to the device and dtype of the model's first parameter.
    """
    if jacobian_test not in JACOBIAN_TESTS:
        raise ValueError(f"jacobian_test must be one of {', '.join(JACOBIAN_TESTS)}; got {jacobian_test!r}.")
    defaults = JACOBIAN_TESTS[jacobian_test]
    jacobian_tol = defaults["jacobian_tol"] if jacobian_tol is None else jacobian_tol
    active_tol = defaults["active_tol"] if active_tol is None else active_tol
    everywhere = jacobian_test == "everywhere"
    if degenerate:
        return str(degenerate)
    if any(not math.isfinite(float(v)) for v in losses):
        return "training diverged: the loss became non-finite."
    params = list(model.parameters())
    if not all_finite(params):
        return "the network's parameters are not finite (training diverged)."
    x = torch.as_tensor(x)
    if not everywhere:
        x = x[:max_points]
    if params:
        x = x.to(params[0].device, params[0].dtype)
    n = len(x)
    if n == 0:
        raise ValueError("collapse_reason needs at least one point; got an empty batch.")
    if isinstance(model, AutoEncoder) and not bool((model.hidden_derivative(x) > active_tol).any()):
        if everywhere:
            return "the network is dead: no hidden unit is active anywhere on the grid, so r is constant."
        return (f"no hidden unit is active on {n} points (h′ ≤ {active_tol:g} everywhere): "
                "the network is dead or saturated.")
    norm2 = jacobian_norm2(model, x)
    if not bool(torch.isfinite(norm2).all()):
        return f"the Jacobian ∂r/∂x is not finite on {n} points."
    if everywhere:
        if float(norm2.max()) < jacobian_tol**2:
            return f"the reconstruction is constant on the grid (‖∂r/∂x‖ < {jacobian_tol:g} everywhere)."
        return None
    D = x.shape[1]
    if float(norm2.median()) / D < jacobian_tol:
        return (f"the Jacobian ∂r/∂x is about zero on {n} points (median ‖∂r/∂x‖²_F / D = "
                f"{float(norm2.median()) / D:.2g}): its symmetricity is undefined.")
    return None
