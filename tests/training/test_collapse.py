"""Collapsed networks (``conservae_lib.training.collapse``): diverged, dead, saturated, or with a vanishing
Jacobian, whose symmetricity cannot be scored (issue 17, case 2); the median test of the MNIST chapters
and the everywhere test of the 2-D chapters."""
from __future__ import annotations

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.training.collapse import JACOBIAN_FLOOR, all_finite, collapse_reason


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


def _grid(n=11, dtype=torch.float64):
    t = torch.linspace(-1.2, 1.2, n, dtype=dtype)
    return torch.cartesian_prod(t, t)


def test_the_trainers_verdict_and_a_non_finite_loss_come_first():
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    assert collapse_reason(m, _data(), degenerate="the loss never fell") == "the loss never fell"
    assert collapse_reason(m, _data(), [1.0, float("nan")]) == "training diverged: the loss became non-finite."
    assert collapse_reason(m, _data(), [1.0, 0.5]) is None
    with torch.no_grad():
        m.c[0] = float("nan")
    assert collapse_reason(m, _data(), [float("inf")], degenerate="diverged") == "diverged"


def test_the_everywhere_test_says_dead_and_constant_in_the_2d_chapters_words():
    dead = AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64)
    with torch.no_grad():
        dead.b.fill_(-100.0)
    assert collapse_reason(dead, _grid(), jacobian_test="everywhere") == (
        "the network is dead: no hidden unit is active anywhere on the grid, so r is constant.")
    flat = AutoEncoder(2, 6, "linear", seed=0, dtype=torch.float64)
    with torch.no_grad():
        flat.R_param.zero_()
    assert collapse_reason(flat, _grid(), jacobian_test="everywhere") == (
        f"the reconstruction is constant on the grid (‖∂r/∂x‖ < {JACOBIAN_FLOOR:g} everywhere).")
    assert collapse_reason(AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64), _grid(),
                           jacobian_test="everywhere") is None


def _corner_unit(bias: float) -> AutoEncoder:
    """One ReLU unit with weights (1, 1) and bias ``bias``: active only near the box's corner x + y > −bias."""
    m = AutoEncoder.from_weights(torch.tensor([[1.0], [1.0]], dtype=torch.float64),
                                 torch.tensor([[1.0], [0.0]], dtype=torch.float64), activation="relu")
    with torch.no_grad():
        m.b.fill_(bias)
    return m


def test_a_field_flat_on_most_points_is_collapsed_for_the_median_test_but_not_for_the_everywhere_test():
    # One ReLU unit active on a corner of the box only: r is constant on most of it, not on all.
    m = _corner_unit(-2.0)
    pts = _grid(21)
    assert collapse_reason(m, pts, jacobian_test="everywhere") is None
    assert "about zero" in collapse_reason(m, pts, jacobian_test="median", max_points=None)


def test_the_everywhere_test_uses_every_point_and_its_own_tolerances():
    # The only active point is the last of 441: the median test (first 256 points) calls the
    # network dead, the everywhere test does not; a unit with h' ≤ 1e-4 but > 0 is active for it.
    m = _corner_unit(-2.3)
    pts = _grid(21)
    assert "dead or saturated" in collapse_reason(m, pts)
    assert collapse_reason(m, pts, jacobian_test="everywhere") is None
    sat = AutoEncoder(2, 3, "sigmoid", seed=0, dtype=torch.float64)
    with torch.no_grad():
        sat.b.fill_(20.0)  # h' ≈ 2e-9: not active for the median test, active for the everywhere test
        sat.R_param.mul_(1e6)
    assert "dead or saturated" in collapse_reason(sat, pts)
    assert collapse_reason(sat, pts, jacobian_test="everywhere") is None


def test_points_are_cast_to_the_models_dtype_and_a_bad_test_name_is_refused():
    m = AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64)
    assert collapse_reason(m, _grid(dtype=torch.float32).numpy(), jacobian_test="everywhere") is None
    with pytest.raises(ValueError, match="jacobian_test"):
        collapse_reason(m, _grid(), jacobian_test="mean")
