"""Energies of tied auto-encoders (eq. 3–4) and numerical potentials."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from conservae_lib import AutoEncoder
from conservae_lib.core import conditions, energy
from conservae_lib.core.activations import ACTIVATIONS

F64 = torch.float64


def _tied(act, D=6, H=5, seed=0):
    m = AutoEncoder(D, H, act, tied=True, seed=seed, dtype=F64)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.W.mul_(2.0)
        m.b.copy_(torch.randn(H, generator=g, dtype=F64))
        m.c.copy_(torch.randn(D, generator=g, dtype=F64))
    return m


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_gradient_of_the_tied_energy_is_the_field(act, rng):
    m = _tied(act)
    x = torch.randn(40, 6, generator=rng, dtype=F64) * 2
    assert energy.potential_gradient_error(m, x) < 1e-12


def test_sigmoid_energy_is_the_gaussian_rbm_free_energy(rng):
    """Eq. (4): Σ_k log(1 + exp(W_kᵀx + b_k)) − ½‖x − c‖²."""
    m = _tied("sigmoid")
    x = torch.randn(10, 6, generator=rng, dtype=F64)
    free_energy = torch.log1p(torch.exp(x @ m.W + m.b)).sum(1) - 0.5 * ((x - m.c) ** 2).sum(1)
    torch.testing.assert_close(energy.potential(m, x), free_energy)


@pytest.mark.parametrize("u", [-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 25.0])
def test_softplus_antiderivative_integrates_softplus(u):
    """H(u) = ∫_{-∞}^u softplus(t) dt for the softplus unit (the dilogarithm)."""
    H = ACTIVATIONS["softplus"].antiderivative(torch.tensor([u], dtype=F64)).item()
    expected, _ = quad(lambda t: np.logaddexp(0.0, t), -60, u, limit=200)
    assert H == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_antiderivative_derivative_is_the_activation(act):
    a = ACTIVATIONS[act]
    u = torch.linspace(-4, 4, 41, dtype=F64).requires_grad_(True)
    (g,) = torch.autograd.grad(a.antiderivative(u).sum(), u)
    torch.testing.assert_close(g, a.h(u.detach()))


def test_scaled_tied_decoder_has_a_closed_form_energy(rng):
    W = torch.randn(6, 5, generator=rng, dtype=F64)
    lam = torch.tensor([2.0, -1.0, 0.5, 0.0, 3.0], dtype=F64)
    m = conditions.scaled_tied(W, lam, activation="tanh")
    torch.testing.assert_close(energy.decoder_scales(m), lam)
    assert energy.potential_gradient_error(m, torch.randn(20, 6, generator=rng, dtype=F64)) < 1e-12


def test_potential_refuses_a_generic_untied_model():
    with pytest.raises(ValueError, match="line_potential"):
        energy.potential(AutoEncoder(4, 3, seed=1, dtype=F64), torch.zeros(1, 4, dtype=F64))


def test_line_potential_recovers_the_closed_form_energy(rng):
    m = _tied("sigmoid")
    x = torch.randn(15, 6, generator=rng, dtype=F64)
    x0 = torch.zeros(1, 6, dtype=F64)
    with torch.no_grad():
        numeric = energy.line_potential(m, x, x0=x0)
        exact = energy.potential(m, x) - energy.potential(m, x0)
    torch.testing.assert_close(numeric, exact, rtol=1e-10, atol=1e-10)


def test_line_integrals_are_path_independent_exactly_for_conservative_fields(rng):
    x = torch.randn(12, 6, generator=rng, dtype=F64)
    via = torch.randn(12, 6, generator=rng, dtype=F64)
    with torch.no_grad():
        tied = energy.path_dependence(_tied("tanh"), x, via)
        untied = energy.path_dependence(AutoEncoder(6, 5, "tanh", seed=3, dtype=F64), x, via)
    assert tied.abs().max() < 1e-10
    assert untied.abs().max() > 1e-3


def test_path_dependence_of_a_rotation_is_twice_the_enclosed_area():
    rot = lambda p: torch.stack([-p[:, 1], p[:, 0]], dim=1)  # noqa: E731
    x = torch.tensor([[1.0, 0.0]], dtype=F64)
    via = torch.tensor([[0.0, 1.0]], dtype=F64)
    # detour 0 → (0,1) → (1,0) minus direct 0 → (1,0) is the clockwise triangle: −2 · area (½) = −1
    assert energy.path_dependence(rot, x, via).item() == pytest.approx(-1.0)
    assert math.isfinite(energy.line_potential(rot, x).item())
