"""Jacobians, symmetricity, curl and circulation (Propositions 1–2)."""
from __future__ import annotations

import math

import pytest
import torch

from conservae_lib import AutoEncoder, DeepAutoEncoder
from conservae_lib.core import fields
from conservae_lib.core.activations import ACTIVATIONS
from tests.references import autograd_jacobians, finite_difference_jacobians

F64 = torch.float64


def test_symmetricity_of_symmetric_matrices_is_one(rng):
    A = torch.randn(10, 6, 6, generator=rng, dtype=F64)
    S = A + A.transpose(1, 2)
    torch.testing.assert_close(fields.symmetricity(S), torch.ones(10, dtype=F64))


def test_symmetricity_of_antisymmetric_matrices_is_zero(rng):
    A = torch.randn(10, 6, 6, generator=rng, dtype=F64)
    K = A - A.transpose(1, 2)
    assert fields.symmetricity(K).abs().max() < 1e-15


def test_symmetricity_of_a_random_matrix_is_about_one_half(rng):
    A = torch.randn(200, 200, generator=rng, dtype=F64)
    assert abs(float(fields.symmetricity(A)) - 0.5) < 0.02


def test_symmetricity_interpolates_between_its_parts(rng):
    A = torch.randn(8, 8, generator=rng, dtype=F64)
    S, K = (A + A.T) / 2, (A - A.T) / 2
    expected = (S**2).sum() / ((S**2).sum() + (K**2).sum())
    torch.testing.assert_close(fields.symmetricity(A), expected)


def test_symmetricity_rejects_non_square_input():
    with pytest.raises(ValueError, match="square"):
        fields.symmetricity(torch.zeros(3, 4))


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_closed_form_jacobian_equals_autograd(act, rng):
    m = AutoEncoder(7, 5, act, seed=2, dtype=F64)
    x = torch.randn(4, 7, generator=rng, dtype=F64)
    auto = torch.stack([torch.autograd.functional.jacobian(lambda v: m(v[None])[0], xi) for xi in x])
    torch.testing.assert_close(fields.jacobian(m, x), auto)


@pytest.mark.parametrize("acts", [["tanh", "sigmoid", "tanh"], ["sigmoid", "softplus", "sigmoid"]])
def test_deep_model_jacobian_equals_finite_differences(acts, rng):
    """An independent reference for the deep models, whose library Jacobian is autograd itself: central
    differences in float64 (no autograd) agree to 1e-7."""
    m = DeepAutoEncoder.random([6, 5, 3, 5, 6], acts, seed=2, dtype=F64)
    x = torch.randn(4, 6, generator=rng, dtype=F64)
    with torch.no_grad():
        fd = finite_difference_jacobians(m, x)
    torch.testing.assert_close(fields.jacobian(m, x), fd, rtol=1e-7, atol=1e-9)
    assert not torch.allclose(fields.jacobian(m, x), fd.transpose(1, 2), atol=1e-3)  # the check can tell J from Jᵀ


def test_deep_model_jacobian_equals_autograd(rng):
    m = DeepAutoEncoder.random([5, 4, 3, 5], ["tanh", "sigmoid"], seed=1, dtype=F64)
    x = torch.randn(3, 5, generator=rng, dtype=F64)
    auto = torch.stack([torch.autograd.functional.jacobian(lambda v: m(v[None])[0], xi) for xi in x])
    torch.testing.assert_close(fields.jacobian(m, x), auto)


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_gram_symmetricity_matches_autograd_jacobians_at_mnist_size(act, rng):
    """The Gram-matrix path agrees with sym(∂r/∂x) of autograd Jacobians to 1e-6 relative at
    D = 784, H = 500 (not with the closed form R D_h' Wᵀ, which it is derived from)."""
    m = AutoEncoder(784, 500, act, seed=7, dtype=F64)
    x = torch.rand(16, 784, generator=rng, dtype=F64)
    J = autograd_jacobians(m, x).detach()
    with torch.no_grad():
        explicit = fields.symmetricity(J)
        fast = fields.jacobian_symmetricity(m, x)
        norm_explicit = (J ** 2).sum(dim=(1, 2))
        norm_fast = fields.jacobian_norm2(m, x)
    assert ((fast - explicit).abs() / explicit).max() < 1e-6
    assert ((norm_fast - norm_explicit).abs() / norm_explicit).max() < 1e-6


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_tied_models_have_symmetric_jacobians(act, rng):
    m = AutoEncoder(30, 20, act, tied=True, seed=4, dtype=F64)
    x = torch.randn(10, 30, generator=rng, dtype=F64)
    with torch.no_grad():
        assert (1 - fields.jacobian_symmetricity(m, x)).abs().max() < 1e-12


def test_random_untied_model_is_far_from_symmetric(rng):
    m = AutoEncoder(100, 80, "sigmoid", seed=4, dtype=F64)
    with torch.no_grad():
        s = fields.jacobian_symmetricity(m, torch.rand(10, 100, generator=rng, dtype=F64))
    assert (s < 0.7).all()


def test_symmetricity_of_a_vanishing_jacobian_is_nan_on_every_path():
    """sym(0) is 0/0: NaN from the matrix function, the Gram path, the explicit-Jacobian path and
    the (norm², trace) formula alike, while a point with J ≠ 0 beside it keeps its number."""
    Z = torch.zeros(2, 3, 3, dtype=F64)
    assert torch.isnan(fields.symmetricity(Z)).all()
    assert torch.isnan(fields.symmetricity(torch.zeros(3, 3, dtype=F64)))
    m = AutoEncoder(4, 3, "relu", dtype=F64)
    with torch.no_grad():
        m.b.fill_(-100.0)  # every unit off: J = 0
    x = torch.zeros(2, 4, dtype=F64)
    assert torch.isnan(fields.jacobian_symmetricity(m, x)).all()
    assert torch.isnan(fields.jacobian_symmetricity(lambda z: 0.0 * z + 1.0, x)).all()  # a constant field
    n2, tr = torch.tensor([0.0, 2.0], dtype=F64), torch.tensor([0.0, 2.0], dtype=F64)
    sym = fields._symmetricity_from(n2, tr)
    assert torch.isnan(sym[0]) and sym[1] == 1.0
    mixed = torch.stack([torch.zeros(3, 3, dtype=F64), torch.eye(3, dtype=F64)])
    s = fields.symmetricity(mixed)
    assert torch.isnan(s[0]) and s[1] == 1.0


def _rotation(p):
    return torch.stack([-p[:, 1], p[:, 0]], dim=1)


def _gradient(p):  # ∇(x² y + sin y)
    return torch.stack([2 * p[:, 0] * p[:, 1], p[:, 0] ** 2 + torch.cos(p[:, 1])], dim=1)


def test_curl_of_a_rotation_is_two_and_of_a_gradient_zero(rng):
    pts = torch.randn(20, 2, generator=rng, dtype=F64)
    torch.testing.assert_close(fields.curl_2d(_rotation, pts), torch.full((20,), 2.0, dtype=F64))
    assert fields.curl_2d(_gradient, pts).abs().max() < 1e-12


def test_curl_of_a_tied_model_is_zero_and_of_an_untied_one_not(rng):
    pts = torch.randn(50, 2, generator=rng, dtype=F64)
    tied, untied = AutoEncoder(2, 8, "tanh", tied=True, seed=1, dtype=F64), AutoEncoder(2, 8, "tanh", seed=1, dtype=F64)
    assert fields.curl_2d(tied, pts).abs().max() < 1e-12
    assert fields.curl_2d(untied, pts).abs().max() > 1e-3


def test_curl_needs_2d_points():
    with pytest.raises(ValueError, match="2-D points"):
        fields.curl_2d(_rotation, torch.zeros(3, 3))


def test_circulation_of_a_rotation_is_two_pi_r_squared_and_of_a_gradient_zero(rng):
    centers = torch.randn(5, 2, generator=rng, dtype=F64)
    circ = fields.circulation(_rotation, centers, radius=0.3)
    torch.testing.assert_close(circ, torch.full((5,), 2 * math.pi * 0.09, dtype=F64))
    assert fields.circulation(_gradient, centers, radius=0.3).abs().max() < 1e-12
    torch.testing.assert_close(fields.circulation(_rotation, centers, relative=True), torch.ones(5, dtype=F64))


def test_circulation_in_high_dimension_separates_tied_from_untied(rng):
    x = torch.rand(8, 50, generator=rng, dtype=F64)
    tied, untied = AutoEncoder(50, 30, tied=True, seed=2, dtype=F64), AutoEncoder(50, 30, seed=2, dtype=F64)
    with torch.no_grad():
        assert fields.circulation(tied, x, relative=True).max() < 1e-10
        assert fields.circulation(untied, x, relative=True).min() > 1e-3


def test_as_field_rejects_non_fields():
    with pytest.raises(TypeError, match="callable vector field"):
        fields.as_field(3)


def test_hutchinson_symmetricity_of_a_vanishing_jacobian_is_nan_with_a_nan_error():
    x = torch.rand(3, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    est = fields.jacobian_quadratics_estimate(lambda z: 0.0 * z, x, n_probes=4)
    assert (est.norm2 == 0).all() and torch.isnan(est.symmetricity).all() and torch.isnan(est.symmetricity_se).all()
