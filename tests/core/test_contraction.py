"""Tests of conservae_lib.core.contraction against autograd Jacobians (eq. 10 and the classic CAE
penalty). Chapters: *Proposition 3* and the MNIST chapter."""
import pytest
import torch

from conservae_lib.core.contraction import encoder_contraction, reconstruction_contraction
from conservae_lib.core.models import AutoEncoder, DeepAutoEncoder
from tests.references import autograd_jacobians

DT = torch.float64


def _model(act, seed=0):
    m = AutoEncoder(5, 7, act, tied=False, seed=seed, dtype=DT)
    with torch.no_grad():
        m.b.normal_(0, 0.5, generator=torch.Generator().manual_seed(seed))
    return m


X = torch.randn(9, 5, generator=torch.Generator().manual_seed(1), dtype=DT)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus", "relu", "linear"])
def test_reconstruction_contraction_equals_mean_squared_frobenius_norm_of_the_autograd_jacobian(act):
    m = _model(act)
    expected = (autograd_jacobians(m, X) ** 2).sum(dim=(1, 2)).mean()
    assert torch.allclose(reconstruction_contraction(m, X), expected, rtol=1e-12)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus"])
def test_reconstruction_contraction_gradient_matches_autograd_through_the_jacobian(act):
    m = _model(act)
    g1 = torch.autograd.grad(reconstruction_contraction(m, X), [m.W, m.R_param, m.b])
    g2 = torch.autograd.grad((autograd_jacobians(m, X) ** 2).sum(dim=(1, 2)).mean(), [m.W, m.R_param, m.b])
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_reconstruction_contraction_for_a_deep_model():
    deep = DeepAutoEncoder.random([5, 4, 5], "tanh", seed=2, dtype=DT)
    expected = (autograd_jacobians(deep, X) ** 2).sum(dim=(1, 2)).mean()
    assert torch.allclose(reconstruction_contraction(deep, X), expected, rtol=1e-12)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu"])
def test_encoder_contraction_equals_mean_squared_frobenius_norm_of_dh_dx(act):
    m = _model(act, seed=3)
    expected = (autograd_jacobians(m.hidden, X) ** 2).sum(dim=(1, 2)).mean()
    assert torch.allclose(encoder_contraction(m, X), expected, rtol=1e-12)
    params = [m.W] if act == "relu" else [m.W, m.b]  # ReLU's h' is piecewise constant: no gradient in b
    g1 = torch.autograd.grad(encoder_contraction(m, X), params)
    g2 = torch.autograd.grad((autograd_jacobians(m.hidden, X) ** 2).sum(dim=(1, 2)).mean(), params)
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_known_values_for_an_orthogonal_linear_tied_model():
    # W with orthonormal columns: J = W Wᵀ is a rank-H projector, ‖J‖²_F = H; ‖∂h/∂x‖²_F = ‖W‖²_F = H.
    Q = torch.linalg.qr(torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=DT))[0]
    m = AutoEncoder.from_weights(Q, None, activation="linear")
    assert float(reconstruction_contraction(m, X[:, :1].repeat(1, 6)).detach()) == pytest.approx(3.0, rel=1e-12)
    assert float(encoder_contraction(m, X[:, :1].repeat(1, 6)).detach()) == pytest.approx(3.0, rel=1e-12)


def test_encoder_contraction_refuses_deep_models():
    with pytest.raises(TypeError, match="one-layer"):
        encoder_contraction(DeepAutoEncoder.random([5, 4, 5], seed=0, dtype=DT), X)
