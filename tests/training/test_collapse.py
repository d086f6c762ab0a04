"""Collapsed networks (``conservae_lib.training.collapse``): diverged, dead, saturated, or with a vanishing
Jacobian, whose symmetricity cannot be scored (issue 17, case 2)."""
from __future__ import annotations

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.training.collapse import all_finite, collapse_reason


def _data(n=256, D=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.sigmoid(torch.randn(n, 3, generator=g) @ torch.randn(3, D, generator=g))


def test_saturated_sigmoids_are_a_collapse():
    """Huge weights saturate every sigmoid, so h′ = 0 and J = 0 — the collapse helper says so
    instead of letting sym(0) be scored."""
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    with torch.no_grad():
        m.W.mul_(1e6)
        m.b.fill_(1e6)
    reason = collapse_reason(m, _data())
    assert reason is not None and "no hidden unit is active" in reason


def test_dead_relus_are_a_collapse():
    m = AutoEncoder(10, 6, "relu", seed=0)
    with torch.no_grad():
        m.b.fill_(-1e3)
    assert "dead or saturated" in collapse_reason(m, _data())


def test_a_zero_jacobian_is_a_collapse_even_with_active_units():
    m = AutoEncoder(10, 6, "linear", seed=0)
    with torch.no_grad():
        m.R_param.zero_()
    assert "about zero" in collapse_reason(m, _data())


def test_non_finite_parameters_are_a_collapse_and_a_healthy_model_is_not():
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    assert collapse_reason(m, _data()) is None
    with torch.no_grad():
        m.c[0] = float("inf")
    assert collapse_reason(m, _data()) == "the network's parameters are not finite (training diverged)."


def test_all_finite_finds_nan_and_infinity():
    assert all_finite([torch.zeros(3), torch.ones(2, 2)])
    assert not all_finite([torch.zeros(3), torch.tensor([1.0, float("nan")])])
    assert not all_finite([torch.tensor([-float("inf")])])


def test_collapse_reason_needs_a_point():
    with pytest.raises(ValueError, match="at least one point"):
        collapse_reason(AutoEncoder(10, 6, "sigmoid", seed=0), torch.zeros(0, 10))
