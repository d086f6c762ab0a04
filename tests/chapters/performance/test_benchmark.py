"""The benchmark's paths agree with each other (values, not timings), the deep-model estimators
of ``fields`` are exact where theory says so and unbiased within their stated error, and the
checks of the performance page fail when they should."""
from __future__ import annotations

import math

import pytest
import torch

from conservae_lib import AutoEncoder, DeepAutoEncoder
from conservae_lib.chapters.performance import benchmark
from conservae_lib.core import fields

F64 = torch.float64


@pytest.mark.parametrize("activation,tied", [("sigmoid", False), ("relu", False), ("tanh", True)])
def test_gram_explicit_and_vmap_jacrev_agree_in_float64(activation: str, tied: bool, rng: torch.Generator):
    m = AutoEncoder(40, 25, activation, tied=tied, seed=3, dtype=F64)
    with torch.no_grad():
        m.b.normal_(generator=rng)
    x = torch.rand(23, 40, generator=rng, dtype=F64)
    n_ex, tr_ex = benchmark.explicit_quadratics(m, x, chunk_size=7)
    n_ag, tr_ag = benchmark.autograd_quadratics(m, x, chunk_size=5)
    with torch.no_grad():
        sym = fields.jacobian_symmetricity(m, x)
        norm2 = fields.jacobian_norm2(m, x)
        n_q, tr_q = fields.jacobian_quadratics(m, x)
    assert benchmark.relative_difference(n_ex, n_ag) < 1e-12
    assert benchmark.relative_difference(tr_ex, tr_ag) < 1e-12
    assert benchmark.relative_difference(norm2, n_ag) < 1e-12
    assert benchmark.relative_difference(sym, fields._symmetricity_from(n_ag, tr_ag)) < 1e-12
    assert torch.equal(n_q, norm2) and benchmark.relative_difference(tr_q, tr_ag) < 1e-12


def test_norm_only_gram_path_gives_the_same_numbers_as_the_full_one(rng: torch.Generator):
    for tied in (False, True):
        m = AutoEncoder(30, 20, "sigmoid", tied=tied, seed=1, dtype=F64)
        x = torch.rand(9, 30, generator=rng, dtype=F64)
        full, _ = fields._gram_quadratics(m, x)
        only, none = fields._gram_quadratics(m, x, trace=False)
        assert none is None and torch.equal(full, only)


def test_norm2_stays_differentiable_for_the_contraction_penalty(rng: torch.Generator):
    m = AutoEncoder(12, 7, "sigmoid", seed=0, dtype=F64)
    x = torch.rand(5, 12, generator=rng, dtype=F64)
    fields.jacobian_norm2(m, x).mean().backward()
    assert m.W.grad is not None and m.R_param.grad is not None and m.b.grad is not None


def test_exact_chunked_quadratics_of_a_deep_model_match_full_jacobians(rng: torch.Generator):
    m = DeepAutoEncoder.random([30, 20, 10, 20, 30], "sigmoid", seed=2, dtype=F64)
    x = torch.rand(17, 30, generator=rng, dtype=F64)
    n2, tr = fields.jacobian_quadratics(m, x, chunk_size=4)
    J = fields.jacobian(m, x)
    assert torch.allclose(n2, (J**2).sum(dim=(1, 2)), rtol=1e-13, atol=0)
    assert torch.allclose(fields._symmetricity_from(n2, tr), fields.symmetricity(J), rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="chunk_size"):
        fields.jacobian_quadratics(m, x, chunk_size=0)


def test_hutchinson_is_exact_for_a_diagonal_jacobian():
    """Random signs square to one, so ‖Jv‖² = ‖J‖²_F for every probe when J is diagonal."""
    a = torch.linspace(0.5, 2.0, 8, dtype=F64)
    x = torch.rand(6, 8, dtype=F64, generator=torch.Generator().manual_seed(0))
    est = fields.jacobian_quadratics_estimate(lambda z: z * a + z**2, x, n_probes=4)
    exact = ((a + 2 * x) ** 2).sum(dim=1)
    assert torch.allclose(est.norm2, exact, rtol=1e-13) and float(est.norm2_se.max()) < 1e-12
    assert torch.allclose(est.symmetricity, torch.ones(6, dtype=F64), rtol=0, atol=1e-14)


def test_hutchinson_symmetricity_is_one_for_a_symmetric_jacobian(rng: torch.Generator):
    """For symmetric J every probe gives (Jᵀv)·(Jv) = ‖Jv‖², so the estimate is exactly 1."""
    m = AutoEncoder(25, 15, "sigmoid", tied=True, seed=4, dtype=F64)
    x = torch.rand(10, 25, generator=rng, dtype=F64)
    est = fields.jacobian_quadratics_estimate(lambda z: m(z), x, n_probes=8, max_rows=30)
    assert float((est.symmetricity - 1).abs().max()) < 1e-12
    assert float(est.symmetricity_se.max()) < 1e-12


def test_hutchinson_estimates_agree_with_exact_values_within_their_standard_errors(rng: torch.Generator):
    m = DeepAutoEncoder.random([40, 30, 20, 30, 40], ["sigmoid", "tanh", "sigmoid"], seed=5, dtype=F64)
    x = torch.rand(60, 40, generator=rng, dtype=F64)
    with torch.no_grad():
        n2, tr = fields.jacobian_quadratics(m, x)
    sym = fields._symmetricity_from(n2, tr)
    est = fields.jacobian_quadratics_estimate(m, x, n_probes=64, seed=7, max_rows=1000)
    z_norm = (est.norm2 - n2) / est.norm2_se
    z_sym = (est.symmetricity - sym) / est.symmetricity_se
    # 60 points: |z| > 5 has probability ~3e-5 under normality; typical |z| is below 1.
    assert float(z_norm.abs().max()) < 5 and float(z_sym.abs().max()) < 5
    assert float(z_norm.abs().median()) < 1.5 and float(z_sym.abs().median()) < 1.5
    # the mean over points, what the chapters report, is accurate to its combined standard error
    se_mean = float(est.symmetricity_se.pow(2).sum().sqrt() / len(x))
    assert abs(float(est.symmetricity.mean() - sym.mean())) < 5 * se_mean
    # the documented worst-case bound holds for the stated errors
    assert float((est.norm2_se / n2).max()) <= math.sqrt(2 / 64) * 1.5


def test_hutchinson_is_reproducible_and_checks_arguments(rng: torch.Generator):
    m = DeepAutoEncoder.random([10, 6, 10], "sigmoid", seed=0, dtype=F64)
    x = torch.rand(4, 10, generator=rng, dtype=F64)
    a = fields.jacobian_quadratics_estimate(m, x, n_probes=5, seed=3)
    b = fields.jacobian_quadratics_estimate(m, x, n_probes=5, seed=3)
    assert torch.equal(a.symmetricity, b.symmetricity) and torch.equal(a.norm2, b.norm2)
    assert a.norm2.shape == (4,)
    with pytest.raises(ValueError, match="n_probes"):
        fields.jacobian_quadratics_estimate(m, x, n_probes=1)


def test_metrics_benchmark_reports_agreement_and_speedups():
    r = benchmark.metrics_benchmark(D=20, H=10, n_points=12, chunk_size=5, repeat=1)
    assert max(r["agreement"].values()) < 1e-12
    assert set(r["speedup"]) >= {"symmetricity_vs_vmap_jacrev", "norm2_vs_vmap_jacrev", "symmetricity_vs_explicit"}
    assert all(v > 0 for v in r["speedup"].values())
    benchmark.check_agreement(r)
    with pytest.raises(AssertionError):
        benchmark.check_agreement(dict(r, agreement={"gram_vs_vmap_jacrev_norm2": 1e-3}))
    with pytest.raises(AssertionError):
        benchmark.check_agreement(dict(r, speedup={"norm2_vs_vmap_jacrev": 0.0}))


def test_deep_benchmark_states_its_error():
    r = benchmark.deep_metrics_benchmark(sizes=(12, 8, 12), n_points=10, n_probes=8, chunk_size=4)
    assert r["point_z_median"] < 3 and r["mean_symmetricity_se"] > 0
    assert abs(r["mean_symmetricity_error"]) < 6 * r["mean_symmetricity_se"]
    assert r["sizes"] == [12, 8, 12] and r["dtype"] == "float64"


def test_check_stated_errors_fails_when_the_errors_do_not_describe_the_actual_ones():
    ok = {"mean_symmetricity_error": 0.01, "mean_symmetricity_se": 0.004, "point_z_median": 0.8}
    benchmark.check_stated_errors(ok)
    with pytest.raises(AssertionError):
        benchmark.check_stated_errors(dict(ok, mean_symmetricity_error=0.03))
    with pytest.raises(AssertionError):
        benchmark.check_stated_errors(dict(ok, point_z_median=3.5))


def test_timing():
    calls = []
    t = benchmark.time_call(lambda: calls.append(1), repeat=3, warmup=2)
    assert len(calls) == 5 and len(t.runs) == 3 and t.best <= t.median
    with pytest.raises(ValueError):
        benchmark.time_call(lambda: None, repeat=0)
