"""Tests of conservae_lib.local: fixed points, spectra, score matching and the sweep.
Chapter: *Proposition 3 — local conservativeness*."""
import pytest
import torch

from conservae_lib import local
from conservae_lib.densities import GaussianMixture, NoisyCircle
from conservae_lib.models import AutoEncoder

DT = torch.float64


def test_fixed_point_of_a_linear_model_is_found_and_classified():
    A = torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=DT)
    c = torch.tensor([1.0, -1.0], dtype=DT)
    m = AutoEncoder.from_weights(torch.eye(2, dtype=DT), A, None, c, "linear")
    fp = local.fixed_points(m, torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=DT))
    assert fp.n == 1
    assert torch.allclose(fp.points[0], torch.linalg.solve(torch.eye(2, dtype=DT) - A, c), atol=1e-10)
    assert local.classify(local.spectrum(m, fp.points)) == ["sink"]  # eigenvalues of A below 1


def test_classify_known_spectra():
    ev = torch.tensor([[0.5, 0.9], [1.5, 2.0], [0.5, 1.5]], dtype=torch.complex128)
    assert local.classify(ev) == ["sink", "source", "saddle"]


def test_field_asymmetry_is_zero_for_rescaled_tied_and_one_for_a_rotation():
    W = torch.randn(2, 4, generator=torch.Generator().manual_seed(1), dtype=DT)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(2), dtype=DT)
    sym = AutoEncoder.from_weights(W, W * torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=DT), None, None, "sigmoid")
    assert local.field_asymmetry(sym, x).max() < 1e-12
    rot = AutoEncoder.from_weights(torch.eye(2, dtype=DT), torch.tensor([[1.0, -0.3], [0.3, 1.0]], dtype=DT), None, None, "linear")
    assert torch.allclose(local.field_asymmetry(rot, x), torch.ones(6, dtype=DT))


def test_an_exact_score_model_has_zero_score_and_hessian_error():
    # p = N(0, σ²I): ∇log p = −x/σ², so r(x) = (1 − ε/σ²) x satisfies (r − x)/ε = score exactly.
    sigma, eps = 0.7, 0.01
    g = GaussianMixture(torch.zeros(1, 2, dtype=DT), sigma)
    m = AutoEncoder.from_weights(torch.eye(2, dtype=DT), (1 - eps / sigma**2) * torch.eye(2, dtype=DT), None, None, "linear")
    x = g.sample(50, seed=0)
    err = local.score_error(m, g, x, eps)
    assert err["rel_error"] < 1e-20 and err["cosine"] == pytest.approx(1.0) and err["scale"] == pytest.approx(1.0)
    assert local.hessian_error(m, g, x, eps) < 1e-20
    with pytest.raises(ValueError, match="positive"):
        local.score_error(m, g, x, 0.0)


def test_contraction_sweep_runs_and_records_every_measurement():
    rows, models = local.contraction_sweep(NoisyCircle(1.0, 0.3), [0.0, 0.1], [0], hidden=6, n_train=60, n_eval=30,
                                           n_starts=10, epochs=2, keep_models=True)
    assert [r["eps"] for r in rows] == [0.0, 0.1]
    assert "data_score_rel_error" not in rows[0] and "data_score_rel_error" in rows[1]
    assert set(models) == {(0.0, 0), (0.1, 0)}
    again = local.contraction_sweep(NoisyCircle(1.0, 0.3), [0.1], [0], hidden=6, n_train=60, n_eval=30, n_starts=10, epochs=2)
    assert again[0]["data_field_asym"] == rows[1]["data_field_asym"]  # seeded: identical numbers


def test_contraction_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="penalty"):
        local.contraction_sweep(NoisyCircle(), [0.1], [0], hidden=4, penalty="l1")
    with pytest.raises(ValueError, match="strengths"):
        local.contraction_sweep(NoisyCircle(), [-1.0], [0], hidden=4)


def test_summaries_pool_seeds():
    rows = [{"eps": 0.1, "seed": s, "a": v, "fixed_kinds": ["sink", "saddle"], "fixed_radius": [1.0, 0.1],
             "fixed_complex_fraction": 0.0, "fixed_normal_curv": [-2.0, 1.0], "fixed_tangent_curv": [0.1, 0.2],
             "fixed_true_normal_curv": [-4.0, 1.0]} for s, v in [(0, 1.0), (1, 3.0)]]
    s = local.summarize_sweep(rows, ["a"])[0]
    assert s["a"]["mean"] == 2.0 and s["a"]["std"] == pytest.approx(2**0.5) and s["n_seeds"] == 2
    f = local.fixed_point_summary(rows, min_radius=0.5)[0]
    assert (f["sinks"], f["saddles"], f["n_ring"], f["ring_sinks"]) == (2, 2, 2, 2)
    assert f["ring_normal_negative"] == 1.0 and f["ring_normal_ratio"] == 0.5
    assert f["inside_kinds"] == ["saddle"]
