"""Tests of conservae_lib.chapters.local_conservativeness.local: fixed points, spectra, score matching and the sweep.
Chapter: *Proposition 3 — local conservativeness*."""
import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from conservae_lib.chapters.local_conservativeness import local, local_summary  # noqa: E402
from conservae_lib.chapters.local_conservativeness import figures as local_figures  # noqa: E402
from conservae_lib.data.densities import GaussianMixture, NoisyCircle  # noqa: E402
from conservae_lib.core.models import AutoEncoder  # noqa: E402

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
    with_base = local.contraction_sweep(NoisyCircle(1.0, 0.3), [0.1], [0], baseline=True, hidden=6, n_train=60, n_eval=30,
                                        n_starts=10, epochs=2)
    assert [r["eps"] for r in with_base] == [0.0, 0.1] and with_base[1]["data_field_asym"] == rows[1]["data_field_asym"]


def test_contraction_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="penalty"):
        local.contraction_sweep(NoisyCircle(), [0.1], [0], hidden=4, penalty="l1")
    with pytest.raises(ValueError, match="strengths"):
        local.contraction_sweep(NoisyCircle(), [-1.0], [0], hidden=4)


def test_summaries_pool_seeds():
    rows = [{"eps": 0.1, "seed": s, "a": v, "fixed_kinds": ["sink", "saddle"], "fixed_radius": [1.0, 0.1],
             "fixed_complex_fraction": 0.0, "fixed_normal_curv": [-2.0, 1.0], "fixed_tangent_curv": [0.1, 0.2],
             "fixed_true_normal_curv": [-4.0, 1.0]} for s, v in [(0, 1.0), (1, 3.0)]]
    s = local_summary.summarize_sweep(rows, ["a"])[0]
    assert s["a"]["mean"] == 2.0 and s["a"]["std"] == pytest.approx(2**0.5) and s["n_seeds"] == 2
    f = local_summary.fixed_point_summary(rows, min_radius=0.5)[0]
    assert (f["sinks"], f["saddles"], f["n_ring"], f["ring_sinks"]) == (2, 2, 2, 2)
    assert f["ring_normal_negative"] == 1.0 and f["ring_normal_ratio"] == 0.5
    assert f["inside_kinds"] == ["saddle"]


def _run(eps, seed, asym, sym_j, kinds, radius, normal, cplx=0.0):
    return {"eps": eps, "seed": seed, "data_field_asym": asym, "data_sym_J": sym_j, "data_score_cosine": 0.5,
            "n_fixed": len(kinds), "fixed_kinds": kinds, "fixed_sinks": kinds.count("sink"),
            "fixed_complex_fraction": cplx, "fixed_radius": radius, "fixed_normal_curv": normal}


def test_claim_statistics_are_per_seed_curves_and_pooled_fractions():
    rows = [_run(0.0, 0, 0.9, 0.8, [], [], []),
            _run(0.1, 0, 0.3, 0.99, ["sink", "saddle"], [1.0, 1.0], [-1.0, 1.0], cplx=0.5),
            _run(0.01, 0, 0.1, 0.999, ["sink", "source"], [1.0, 0.0], [-1.0, 2.0]),
            _run(0.1, 1, 0.4, 0.98, [], [], []), _run(0.01, 1, 0.2, 0.997, [], [], [])]
    st = local_summary.claim_statistics(rows, [0, 1], min_radius=0.5)
    assert st.eps_axis == [0.01, 0.1] and st.asymmetry == [[0.1, 0.3], [0.2, 0.4]]
    assert st.paper_asymmetry[0] == pytest.approx([0.001, 0.01])
    assert st.complex_fraction[0] == 0.25 and st.sink_fraction[0] == 0.5  # 1 of 4, 2 of 4 fixed points
    assert st.ring_contracting == [2 / 3, 0.0]  # seed 0: the point at radius 0 is not on the ring
    assert math.isnan(st.sink_fraction[1]) and st.too_few.startswith("only 2")
    assert local_summary.claim_statistics(rows + [_run(0.001, 0, 0.05, 1.0, [], [], [])], [0], 0.5).eps_axis == [0.001, 0.01, 0.1]
    rec = local_summary.run_records(rows)
    assert "fixed_kinds" not in rec[1] and rec[1]["data_asym_J"] == pytest.approx(0.01) and rec[1]["one_minus_cos"] == 0.5
    assert "data_asym_J" not in rec[0]  # no contraction: nothing plotted against ε


def _stat(v):
    return {"mean": v, "std": 0.0}


def test_findings_read_the_summaries():
    summary = [{"eps": e, "n_seeds": 1, "data_field_asym": _stat(a), "data_sym_J": _stat(1 - a / 10),
                "data_score_rel_error": _stat(se), "data_score_cosine": _stat(0.9), "data_score_scale": _stat(0.8),
                "data_hessian_error": _stat(he)}
               for e, a, se, he in [(0.1, 0.4, 0.5, 0.9), (0.01, 0.04, 0.2, 0.3), (0.0, 0.7, None, None)]]
    summary[2] = {"eps": 0.0, "n_seeds": 1, "data_field_asym": _stat(0.7)}
    fps = [{"eps": 0.1, "complex_fraction": 0.0, "ring_normal_negative": 1.0, "saddles": 1, "sources": 0},
           {"eps": 0.01, "complex_fraction": 0.25, "ring_normal_negative": 0.5, "saddles": 2, "sources": 1},
           {"eps": 0.0, "complex_fraction": 1.0, "saddles": 5, "sources": 5}]
    f = local_summary.findings(summary, fps)
    assert (f["asym_large"], f["asym_small"], f["asym_base"]) == (0.4, 0.04, 0.7)
    assert f["asym_slope"] == pytest.approx(1.0)  # asymmetry ∝ ε
    assert f["score_best_eps"] == 0.01 and f["score_improves_to_end"] and f["hess_worse"]
    assert (f["complex_max"], f["ring_neg_min"], f["saddles"], f["sources"]) == (0.25, 0.5, 3, 1)
    assert f["sym_J_min"] == pytest.approx(0.96)
    text = local_figures.findings_lines(f)
    assert len(text.splitlines()) == 4 and "(the smallest ε)" in text and "without contraction 0.7;" in text


def test_chapter_figures_and_tables_draw_a_small_sweep():
    circle = NoisyCircle(1.0, 0.3)
    rows, models = local.contraction_sweep(circle, [0.1, 0.05], [0], baseline=True, hidden=6, n_train=60, n_eval=30,
                                           n_starts=10, epochs=2, keep_models=True)
    summary = local_summary.summarize_sweep(rows)
    assert list(local_figures.sweep_table(summary).index)[-1] == "0 (no contraction)"
    fp = local_figures.fixed_point_table(local_summary.fixed_point_summary(rows, min_radius=0.4))
    assert len(fp) == 3 and "inside the ring" in fp.columns
    assert local_figures.view_box(circle) == (-1.8, 1.8, -1.8, 1.8)
    from conservae_lib.presentation.plotting import legibility_problems

    for fig, n_axes in ((local_figures.density_figure(circle, circle.sample(50)), 2),
                        (local_figures.sweep_figure(rows), 3),
                        (local_figures.fields_figure(models, rows, circle, [0.1, 0.05], 0, circle.ridge_radius()), 3)):
        assert len(fig.axes) >= n_axes
        assert legibility_problems(fig) == []  # the column's width, fonts of 9 pt or more
        matplotlib.pyplot.close(fig)
    assert "data_asym_J" not in rows[1]  # drawing does not change the runs
