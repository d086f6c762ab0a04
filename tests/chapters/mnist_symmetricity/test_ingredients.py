"""Tests of conservae_lib.chapters.mnist_symmetricity.ingredients (what it takes to reach Table 1)."""
from __future__ import annotations

import pytest

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import ingredients as I
from tests.mnist_fakes import settings


def _row(cell, wd, gap, ratio, degenerate=None):
    paper = E.paper_table1()[cell]
    return {"cell": cell, "weight_decay": wd, "sym": paper + gap, "paper": paper, "gap": gap, "shape": "x",
            "rec_err": 1.0, "rec_ratio": ratio, "degenerate": degenerate}


def test_every_cell_is_run_at_every_strength_with_its_own_settings():
    per_cell = {s.key: settings(cae_weight=0.03 if s.model == "CAE" else 0.1) for s in E.GRID}
    jobs = I.weight_decay_jobs(per_cell, [1e-4, 1e-2], seed=3)
    assert len(jobs) == 2 * len(E.GRID) and {seed for _, _, seed in jobs} == {3}
    assert [st.weight_decay for _, st, _ in jobs] == [1e-4] * 8 + [1e-2] * 8
    assert all(st.cae_weight == per_cell[spec.key].cae_weight for spec, st, _ in jobs)


def test_a_cell_counts_only_when_it_reaches_the_paper_without_ruining_reconstruction():
    rows = [_row("AE.relu", 0.0, 0.0, 1.0),                 # the main run: never counts
            _row("AE.sigmoid", 1e-3, 0.005, 1.05),          # reaches, cheap: counts
            _row("AE.relu_wl", 1e-3, 0.005, 1.5),           # reaches by ruining reconstruction: does not
            _row("AE.sigmoid_wl", 1e-3, 0.05, 1.0),         # cheap but far: does not
            _row("CAE.relu", 1e-3, 0.0, 1.0, "degenerate")]  # degenerate: does not
    found = I.finding_values(rows, tolerance=0.1)["values"]
    assert found == [False, False, True, False, False, False, False, False]  # in Table 1's order


def test_the_paper_s_own_table_passes_the_finding_and_a_uniform_shortfall_fails():
    """Rules that mean the sentence: the paper's values themselves (gap 0, same reconstruction) reach every cell;
    a uniform 3 pp shortfall reaches none."""
    from conservae_lib.claims import ledger

    exact = [_row(s.key, 1e-3, 0.0, 1.0) for s in E.GRID]
    short = [_row(s.key, 1e-3, -0.03, 1.0) for s in E.GRID]
    assert ledger.judge("table1.weight-decay", **I.finding_values(exact, 0.1))["verdict"] == ledger.PARTLY  # one seed
    assert ledger.judge("table1.weight-decay", **I.finding_values(short, 0.1))["verdict"] == ledger.NOT_REPRODUCED


def test_the_hypotheses_name_the_rule_before_the_runs():
    text = " ".join(I.HYPOTHESES)
    assert "weight decay" in text.lower() and "±1 pp" in text and "eps_tolerance" in text
    assert I.REACHED == pytest.approx(0.01)


def test_the_study_figure_is_legible_at_the_column_width():
    import matplotlib.pyplot as plt

    from conservae_lib.presentation.plotting import legibility_problems

    rows = [_row(s.key, wd, 0.01 * i, 1.0) for i, wd in enumerate((0.0, 1e-4, 1e-3)) for s in E.GRID]
    fig = I.plot_study(rows)
    assert legibility_problems(fig) == [] and len(fig.axes) == len(E.GRID)
    plt.close(fig)


def test_the_readings_lambda_is_the_largest_that_costs_no_reconstruction_and_reads_no_paper_number(monkeypatch):
    from tests.mnist_fakes import fake_records

    def run(key, wd, rec):
        spec = next(s for s in E.GRID if s.key == key)
        recs = fake_records(0.9, 0.0)
        recs[-1]["rec_err"] = rec
        return E.RunResult(spec, 0, settings(weight_decay=wd), recs, __import__("conservae_lib").AutoEncoder(784, 4, spec.activation))

    base = [run(s.key, 0.0, 10.0) for s in E.GRID]
    runs = ([run(s.key, 1e-4, 10.5) for s in E.GRID] + [run(s.key, 1e-3, 10.9) for s in E.GRID]
            + [run(s.key, 1e-2, 12.0 if s.key == "AE.sigmoid" else 10.0) for s in E.GRID])
    assert I.reading_decay(runs, base, tolerance=0.1) == pytest.approx(1e-3)
    assert I.reading_decay(runs, base, tolerance=0.01) is None
    monkeypatch.setattr(E, "paper_table1", lambda: {s.key: 0.5 for s in E.GRID})  # the paper's numbers change nothing
    assert I.reading_decay(runs, base, tolerance=0.1) == pytest.approx(1e-3)
