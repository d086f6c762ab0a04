"""Claims of conservae_lib.chapters.hodge_2d.experiment (chapter 06_hodge_2d): auto-encoders that learn the
conservative part of a 2-D field, and the chapter's experiments at toy sizes."""
import numpy as np
import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.core import fields
from conservae_lib.core.hodge import helmholtz_hodge, relative_error
from conservae_lib.data.vector_fields import FIELDS, sample_grid
from conservae_lib.chapters.hodge_2d import scoring
from conservae_lib.chapters.hodge_2d import experiment as experiments
from conservae_lib.chapters.hodge_2d import figures as figures


def _small(name, n=14):
    return sample_grid(FIELDS[name], n)


def test_tied_extraction_is_exactly_conservative():
    g = _small("spiral_sink")
    m = experiments.extract_conservative(g["points"], g["vectors"], tied=True, hidden=30, epochs=3)
    pts = torch.as_tensor(g["points"])
    assert fields.curl_2d(m, pts).abs().max() < 1e-12


def test_tied_extraction_recovers_a_representable_gradient_field():
    # F = ∇(−x²/4 − y²/4 + x/5): Jacobian −I/2 ⪰ −I, reachable by a tied ReLU model.
    pts = sample_grid(FIELDS["spiral_sink"], 15)["points"]
    vec = np.stack([-pts[:, 0] / 2 + 0.2, -pts[:, 1] / 2], axis=1)
    m = experiments.extract_conservative(pts, vec, tied=True, hidden=40, epochs=8)
    assert relative_error(scoring.field_values(m, pts), vec) < 0.05


def test_untied_extraction_fits_the_whole_field_rotation_included():
    g = _small("spiral_sink")
    m = experiments.extract_conservative(g["points"], g["vectors"], tied=False, hidden=40, epochs=8)
    learned = scoring.field_values(m, g["points"])
    assert relative_error(learned, g["vectors"]) < 0.05
    Fc = np.stack([g["conservative"][0].ravel(), g["conservative"][1].ravel()], axis=1)
    assert relative_error(learned, Fc) > 0.9


def test_authors_protocol_does_not_depend_on_where_the_vectors_sit():
    g = _small("spiral_sink")
    perm = np.random.default_rng(0).permutation(len(g["points"]))
    kw = dict(tied=True, hidden=20, epochs=2, inputs="values")
    a = experiments.extract_conservative(g["points"], g["vectors"], **kw)
    b = experiments.extract_conservative(g["points"][perm], g["vectors"], **kw)
    assert np.allclose(scoring.field_values(a, g["points"]), scoring.field_values(b, g["points"]), atol=1e-10)


def test_extract_conservative_refuses_bad_input():
    with pytest.raises(ValueError, match="N × 2"):
        experiments.extract_conservative(np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="inputs must be"):
        experiments.extract_conservative(np.zeros((4, 2)), np.zeros((4, 2)), inputs="grid")


def test_extract_conservative_restores_the_thread_count():
    before = torch.get_num_threads()
    g = _small("spiral_sink", 6)
    experiments.extract_conservative(g["points"], g["vectors"], hidden=5, epochs=1, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        experiments.extract_conservative(g["points"], g["vectors"], threads=0)


def test_chunked_loss_and_gradient_equal_the_full_batch_ones():
    g = sample_grid(FIELDS["spiral_sink"], 12)
    X = torch.as_tensor(g["points"])
    T = X + torch.as_tensor(g["vectors"])
    model = AutoEncoder(2, 20, "relu", seed=3, dtype=torch.float64)
    full = ((model(X) - T) ** 2).sum(dim=1).mean()
    full.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    chunked = experiments._chunked_loss_and_grad(model, X, T, chunk_size=7)
    assert float(chunked) == pytest.approx(float(full.detach()), rel=1e-12)
    for p, g_full in zip(model.parameters(), grads):
        assert torch.allclose(p.grad, g_full, rtol=1e-10, atol=1e-14)


def test_lbfgs_fit_stays_within_its_iteration_budget_and_is_deterministic():
    g = sample_grid(FIELDS["spiral_sink"], 10)
    a = experiments.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=20, iterations=30, block=10, seed=1)
    b = experiments.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=20, iterations=30, block=10, seed=1)
    assert a.iterations[0] == 0 and 0 < a.n_iterations <= 30
    assert a.losses == b.losses and a.final_loss < a.losses[0]
    assert a.evaluations >= a.n_iterations


def test_lbfgs_fit_of_an_untied_model_learns_the_whole_field_not_its_conservative_part():
    g = sample_grid(FIELDS["spiral_sink"], 12)
    run = experiments.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=60, iterations=200, seed=0)
    field = scoring.model_on_grid(run.model, g)
    assert relative_error(field, g["F"]) < 0.05
    assert relative_error(field, g["conservative"]) > 0.5


def test_a_silent_network_matches_the_stated_part_but_is_marked_collapsed():
    g = sample_grid(FIELDS["spiral_sink"], 10)
    best = helmholtz_hodge(*g["F"], g["x"], g["y"])[:2]
    silent = AutoEncoder.from_weights(torch.zeros(2, 8, dtype=torch.float64), torch.zeros(2, 8, dtype=torch.float64),
                                      activation="relu")
    row = scoring.score_model(silent, g, best)
    assert row["err_stated"] < 1e-12  # r = 0 gives exactly (−x, −y) ...
    assert row["collapsed"]           # ... and must not be scored
    live = experiments.fit_field_lbfgs(g["points"], g["vectors"], tied=True, hidden=20, iterations=20, seed=0)
    assert experiments.score_extraction(live, g, best)["iterations"] == live.n_iterations


def test_lbfgs_fit_refuses_bad_input():
    g = sample_grid(FIELDS["spiral_sink"], 5)
    with pytest.raises(ValueError, match="iterations"):
        experiments.fit_field_lbfgs(g["points"], g["vectors"], iterations=0)
    with pytest.raises(ValueError, match="N × 2"):
        experiments.fit_field_lbfgs(g["points"][:, :1], g["vectors"])



def test_ablation_plan_has_one_contractive_model_per_lambda_and_the_rotation_control():
    plan = experiments.ablation_plan([0.1, 1.0], 2.0)
    assert [a.key for a in plan] == ["contraction 0.1", "contraction 1.0", "authors", "authors, no penalty",
                                     "authors on rotation"]
    assert plan[2].options["encoder_contraction"] == 4.0 and plan[-1].target == "rotation"


@pytest.fixture(scope="module")
def toy_chapter():
    """Chapter 06 end to end at toy sizes: every experiment, and the ledger's claims."""
    from conservae_lib.claims import ledger

    ref = scoring.least_squares_reference(8)
    runs = experiments.fit_main_models(6, hidden=8, iterations=10, seeds=[0, 1])
    scores = experiments.score_main_models(runs, ref)
    small = dict(hidden=6, epochs=1, seed=0)
    ablations = experiments.fit_ablations(6, [0.1, 1.0], 2.0, **small)
    comparison = experiments.compare_on_paper_field(ref, scores, ablations, hidden=8, seed=0)
    more = experiments.fit_more_fields(["bump_vortex", "sine_cell"], 8, 6, 1.0, **small)
    evidence = experiments.figure4_evidence(ref, scores, comparison, ablations, [0, 1])
    claims = [ledger.judge("fig4.tied", evidence.stated["tied"])] * 5
    return locals()


def test_the_toy_chapter_scores_every_method_and_records_its_summary(toy_chapter):
    t = toy_chapter
    assert list(t["comparison"].errors)[:5] == ["solver", "stated", "silent", "tied", "untied"]
    assert t["comparison"].errors["tied"] is t["scores"]["tied"][0]
    assert np.isnan(t["comparison"].errors["authors on rotation"]["err_stated"])
    assert len(t["evidence"].stated["tied"]) == 2 and t["evidence"].released is t["comparison"].errors["authors"]
    record = experiments.summary_record(t["claims"], t["ref"], t["comparison"], t["more"], t["runs"], t["scores"], [0, 1])
    assert "sine_cell/solver" in record["errors"] and record["gap_stated_l2"] == t["ref"].gap
    assert [r["seed"] for r in record["main_runs"]["untied"]] == [0, 1]
    assert experiments.largest_curl(t["runs"]["tied"], t["ref"].grid) < 1e-10


def test_the_toy_chapter_tables_figures_and_page_values(toy_chapter):
    import matplotlib

    matplotlib.use("Agg")
    t = toy_chapter
    assert len(figures.main_models_table(t["scores"], [0, 1])) == 4
    assert figures.methods_table(t["comparison"]).index.name == "method"
    assert list(figures.more_fields_table(t["more"], 1.0)["field"]).count("sine_cell") == 3
    values = figures.page_values(t["evidence"], t["comparison"], t["more"], t["runs"], [0.1, 1.0], t["claims"])
    assert values["n_seeds"] == "2" and values["best_lam"] in {"0.1", "1.0"} and all(isinstance(v, str) for v in values.values())
    from conservae_lib.presentation.plotting import legibility_problems

    for fig in (figures.plot_reference(t["ref"]), figures.plot_figure4(t["ref"], t["runs"], seed=0),
                figures.learning_curves_figure(t["runs"]), figures.plot_ablations(t["ref"], t["ablations"]),
                figures.plot_more_fields(t["more"], 1.0)):
        assert fig.axes
        assert legibility_problems(fig) == []  # the column's width, fonts of 9 pt or more
        matplotlib.pyplot.close(fig)
