"""The auto-encoder of eq. (1) and the deep model of Proposition 1."""
from __future__ import annotations

import pytest
import torch

from conservae_lib import AutoEncoder, DeepAutoEncoder
from conservae_lib.core.activations import ACTIVATIONS

#: The activations written out from their definitions, independently of ``conservae_lib.core.activations``.
REFERENCE_H = {
    "sigmoid": lambda u: 1 / (1 + torch.exp(-u)),
    "relu": lambda u: torch.where(u > 0, u, torch.zeros_like(u)),
    "tanh": lambda u: (torch.exp(u) - torch.exp(-u)) / (torch.exp(u) + torch.exp(-u)),
    "softplus": lambda u: torch.log(1 + torch.exp(u)),
    "linear": lambda u: u,
}


def test_every_activation_has_a_reference():
    assert set(REFERENCE_H) == set(ACTIVATIONS)


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_reconstruction_is_eq1(act):
    m = AutoEncoder(6, 4, act, seed=3, dtype=torch.float64)
    with torch.no_grad():
        m.b.normal_()
        m.c.normal_()
    x = torch.randn(5, 6, dtype=torch.float64)
    h = REFERENCE_H[act]
    expected = torch.stack([m.R @ h(m.W.T @ xi + m.b) + m.c for xi in x])
    torch.testing.assert_close(m(x), expected)
    torch.testing.assert_close(m.field(x), expected - x)


def test_tied_model_decoder_is_the_encoder_tensor():
    m = AutoEncoder(5, 3, tied=True)
    assert m.R is m.W
    assert sum(p.numel() for p in m.parameters()) == 5 * 3 + 3 + 5


def test_untied_copy_starts_equal_and_is_independent():
    m = AutoEncoder(5, 3, tied=True, seed=1)
    u = m.untied()
    assert not u.tied and torch.equal(u.R, m.W)
    with torch.no_grad():
        u.R.add_(1.0)
    assert not torch.equal(u.R, m.W)


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = AutoEncoder(7, 4, seed=5), AutoEncoder(7, 4, seed=5), AutoEncoder(7, 4, seed=6)
    assert torch.equal(a.W, b.W) and torch.equal(a.R, b.R)
    assert not torch.equal(a.W, c.W)


def test_unknown_activation_error_lists_the_allowed_names():
    with pytest.raises(ValueError, match="activation must be one of linear, relu, sigmoid, softplus, tanh; got 'swish'"):
        AutoEncoder(3, 2, "swish")


@pytest.mark.parametrize("D,H", [(0, 3), (3, -1), (2.5, 3), (True, 2)])
def test_sizes_must_be_positive_integers(D, H):
    with pytest.raises(ValueError, match="must be a positive integer"):
        AutoEncoder(D, H)


def test_from_weights_checks_shapes():
    with pytest.raises(ValueError, match="R must have the shape of W"):
        AutoEncoder.from_weights(torch.zeros(4, 3), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="D × H matrix"):
        AutoEncoder.from_weights(torch.zeros(4))


def test_deep_model_is_the_layered_composition():
    torch.manual_seed(0)
    ws = [torch.randn(4, 3, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)]
    m = DeepAutoEncoder(ws, activations=["tanh", "sigmoid"])
    x = torch.randn(6, 4, dtype=torch.float64)
    expected = torch.sigmoid(torch.tanh(x @ ws[0]) @ ws[1]) @ ws[2]
    torch.testing.assert_close(m(x), expected)


def test_mirrored_deep_model_ties_weights_across_the_middle():
    enc = [torch.randn(5, 3), torch.randn(3, 2)]
    m = DeepAutoEncoder.mirrored(enc, ["relu", "relu", "relu"])
    assert torch.equal(m.weights[2], enc[1].T) and torch.equal(m.weights[3], enc[0].T)


def test_deep_model_rejects_shapes_that_do_not_chain():
    with pytest.raises(ValueError, match="do not chain"):
        DeepAutoEncoder([torch.zeros(4, 3), torch.zeros(2, 4)])
    with pytest.raises(ValueError, match="need 1 activations"):
        DeepAutoEncoder([torch.zeros(4, 3), torch.zeros(3, 4)], activations=["relu", "relu"])
