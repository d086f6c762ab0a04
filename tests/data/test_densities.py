"""Tests of conservae_lib.data.densities: exact log-densities, scores and Hessians.
Chapter: *Proposition 3 — local conservativeness*."""
import math

import pytest
import torch
from scipy import integrate

from conservae_lib.data.densities import GaussianMixture, NoisyCircle

DT = torch.float64


def _autograd_score_hessian(dens, x):
    f = lambda xi: dens.log_prob(xi.unsqueeze(0)).squeeze(0)
    return torch.func.vmap(torch.func.grad(f))(x), torch.func.vmap(torch.func.hessian(f))(x)


def test_single_gaussian_matches_torch_distributions_and_closed_forms():
    mu = torch.tensor([[1.0, -2.0]], dtype=DT)
    cov = torch.tensor([[[2.0, 0.3], [0.3, 0.5]]], dtype=DT)
    g = GaussianMixture(mu, cov)
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(0), dtype=DT)
    ref = torch.distributions.MultivariateNormal(mu[0], cov[0])
    assert torch.allclose(g.log_prob(x), ref.log_prob(x), rtol=1e-12)
    P = torch.linalg.inv(cov[0])
    assert torch.allclose(g.score(x), -(x - mu) @ P, rtol=1e-12)
    assert torch.allclose(g.hessian(x), -P.expand(7, 2, 2), rtol=1e-12)


def test_mixture_score_and_hessian_equal_autograd_of_log_prob():
    g = GaussianMixture(torch.tensor([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]], dtype=DT),
                        torch.tensor([0.5, 1.0, 0.7], dtype=DT), weights=torch.tensor([1.0, 2.0, 3.0], dtype=DT))
    x = 2 * torch.randn(11, 2, generator=torch.Generator().manual_seed(1), dtype=DT)
    s, H = _autograd_score_hessian(g, x)
    assert torch.allclose(g.score(x), s, rtol=1e-10, atol=1e-12)
    assert torch.allclose(g.hessian(x), H, rtol=1e-10, atol=1e-12)


def test_noisy_circle_density_equals_direct_quadrature_of_the_circle_integral():
    c = NoisyCircle(1.0, 0.3)
    for pt in [(0.9, 0.2), (0.0, 0.0), (-1.5, 0.4)]:
        def integrand(t, pt=pt):
            d2 = (pt[0] - math.cos(t)) ** 2 + (pt[1] - math.sin(t)) ** 2
            return math.exp(-d2 / (2 * 0.09)) / (2 * math.pi * 0.09) / (2 * math.pi)
        val, _ = integrate.quad(integrand, 0, 2 * math.pi, epsabs=1e-14, epsrel=1e-12, limit=200)
        assert float(c.log_prob(torch.tensor([pt], dtype=DT))) == pytest.approx(math.log(val), rel=1e-9)


def test_noisy_circle_quadrature_has_converged():
    x = 2 * torch.randn(20, 2, generator=torch.Generator().manual_seed(2), dtype=DT)
    a, b = NoisyCircle(1.0, 0.3), NoisyCircle(1.0, 0.3, n_nodes=4 * NoisyCircle(1.0, 0.3).n_nodes)
    assert torch.allclose(a.score(x), b.score(x), atol=1e-10)
    assert torch.allclose(a.hessian(x), b.hessian(x), atol=1e-9)


def test_noisy_circle_samples_have_the_right_second_moment_and_are_seeded():
    c = NoisyCircle(2.0, 0.5)
    x = c.sample(40000, seed=3)
    assert float((x**2).sum(1).mean()) == pytest.approx(4.0 + 2 * 0.25, rel=0.02)  # E‖x‖² = ρ² + 2σ²
    assert torch.equal(c.sample(5, seed=4), c.sample(5, seed=4))


def test_ridge_radius_is_a_zero_of_the_radial_score_inside_the_circle():
    c = NoisyCircle(1.0, 0.3)
    r = c.ridge_radius()
    assert 0.5 < r < 1.0
    assert abs(float(c.score(torch.tensor([[0.0, r]], dtype=DT))[0, 1])) < 1e-9
    assert float(c.hessian(torch.tensor([[r, 0.0]], dtype=DT))[0, 0, 0]) < 0  # a maximum across the ridge


def test_bad_arguments_are_reported():
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture(torch.zeros(1, 2), torch.tensor([[[1.0, 2.0], [2.0, 1.0]]]))
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(torch.zeros(2, 2), 1.0, weights=torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="positive"):
        NoisyCircle(1.0, 0.0)
    with pytest.raises(ValueError, match="N × 2"):
        NoisyCircle().score(torch.zeros(3, 3))
