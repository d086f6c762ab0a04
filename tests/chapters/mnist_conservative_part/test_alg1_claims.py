"""Tests of conservae_lib.chapters.mnist_conservative_part.alg1_claims (chapter 07: the numbers handed to the ledger)."""
from __future__ import annotations

import copy

import pytest

from conservae_lib.chapters.mnist_conservative_part import alg1_claims as cl
from conservae_lib.chapters.mnist_conservative_part.table2 import CVF_ROWS


def _fake_runs(fits: bool):
    def entry(beta, frac):
        learner = {"rel_error_uniform": 0.2 if fits else 0.9, "floor": 0.15, "fits": fits, "final_loss": 1.0 - beta,
                   "fits_mnist": fits, "fits_corrupted": {"salt_and_pepper": True, "binomial": fits},
                   "conservative_part_distance": {"representable": 0.05, "symmetric": 0.4},
                   "fraction": {"salt_and_pepper": frac, "binomial": frac},
                   "quadratic_term": {"salt_and_pepper": 1.0, "binomial": 0.5}}
        return {"beta": beta, "learners": {"tied": learner},
                "references": {"tied_floor": 0.9 - 0.8 * beta, "symmetric": 0.1}}
    return [{"seed": s, "cvf": {row: {"rows": [entry(b, 0.5 + 0.4 * b) for b in (0.0, 0.4, 1.0)]} for row in CVF_ROWS}}
            for s in (0, 1)]


def test_table2_cell_shows_cells_of_learners_that_did_not_fit_capped_at_partly():
    """Issue 25.1: a cell whose learner missed the fit rule is measured and shown, never withheld, and can
    never be "reproduced"."""
    from conservae_lib.claims import ledger

    cell = cl.table2_cell(_fake_runs(fits=True), "tied", 0.4)
    assert cell == {"values": [0.66, 0.66], "control": [1.0, 1.0], "cap": None}
    cell = cl.table2_cell(_fake_runs(fits=False), "untied", 0.4, "binomial")
    assert cell["values"] == [0.66, 0.66] and cell["control"] == [0.5, 0.5]
    assert cell["cap"][0] == ledger.PARTLY and cell["cap"][1].startswith("the learner did not fit") and "0.900" in cell["cap"][1]
    with pytest.raises(ValueError, match="β"):
        cl.table2_cell(_fake_runs(fits=True), "tied", 0.6)


@pytest.mark.parametrize("fits", [True, False])
def test_a_cell_whose_learner_did_not_fit_is_never_reproduced(fits):
    """The paper's own number, with a control that does not pass: reproduced when the learner fitted, at most
    partly when it did not."""
    from conservae_lib.claims import ledger

    paper = ledger.claim("table2.tied.b0.4").paper
    cell = {**cl.table2_cell(_fake_runs(fits=fits), "tied", 0.4), "values": [paper, paper], "control": [0.5, 0.5]}
    rec = ledger.judge("table2.tied.b0.4", **cell)
    assert rec["verdict"] == (ledger.REPRODUCED if fits else ledger.PARTLY)
    assert fits or "shown as partly at most: the learner did not fit" in rec["reason"]


def test_trend_and_below_one_and_fig5_values_follow_beta():
    runs = _fake_runs(fits=True)
    t = cl.trend_values(runs)
    assert t["axis"] == [0.0, 0.4, 1.0] and t["values"][0] == pytest.approx([0.5, 0.66, 0.9])
    assert cl.below_one_values(runs)["values"] == [True] * 4
    fig5 = cl.fig5_values(runs)["values"]
    assert len(fig5) == 2 * len(CVF_ROWS) and fig5[1] == pytest.approx([1.0, 0.6, 0.0])  # a curve per seed and row
    assert cl.alg1_values(runs)["values"] == pytest.approx([0.05, 0.05])
    assert cl.alg1_values(runs, part="symmetric")["values"] == pytest.approx([0.4, 0.4])


def test_the_books_findings_read_the_runs():
    runs = _fake_runs(fits=True)
    # tied floor − symmetric = 0.8 − 0.8 β: within the fit margin only at β = 1.0
    assert cl.psd_reachable_values(runs)["values"] == ([False] * 4 + [True] * 2) * len(CVF_ROWS)  # β-major, then seeds
    # the learned energy (0.5 + 0.4 β) never beats its quadratic term under salt and pepper (1.0) ...
    assert not any(cl.learned_vs_quadratic_values(runs)["values"])
    # ... and beats it under the binomial reading (0.5) except at β = 0
    assert cl.learned_vs_quadratic_values(runs, "binomial")["values"] == ([False] * 2 + [True] * 4) * len(CVF_ROWS)
    assert all(cl.fits_where_scored_values(runs)["values"])
    assert "no tied learner fits" in cl.fits_where_scored_values(_fake_runs(fits=False))["not_tested"]


def test_claim_inputs_cover_every_registered_claim_of_the_chapter_and_the_ledger_accepts_them():
    from conservae_lib.claims import ledger

    runs = _fake_runs(fits=True)
    for r in runs:  # a full β axis
        for row in CVF_ROWS:
            rows = r["cvf"][row]["rows"]
            r["cvf"][row]["rows"] = [dict(copy.deepcopy(rows[0]), beta=b) for b in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    inputs = cl.claim_inputs(runs)
    assert {c["id"] for c in inputs} == set(ledger.ids_of_chapter("mnist_conservative_part"))
    assert {f for f in ledger.finding_ids() if ledger.claim(f).chapter == "mnist_conservative_part"} <= {c["id"] for c in inputs}
    assert {c["reading"] for c in inputs if c["id"].startswith("table2.")} == {None, "binomial"}
    records = [ledger.judge(**c, data="fake") for c in inputs]
    assert all(r["verdict"] in ledger.VERDICTS for r in records)
    # the control (the learned energy's quadratic term scores 1.0 under salt and pepper) decides
    top = next(r for r in records if r["id"] == "table2.tied.b1.0" and r["reading"] is None)
    assert top["control"] == 1.0


def test_fig5_and_alg1_are_not_tested_when_no_learner_fits_or_one_diverged():
    """Issue 28.3: a one-unit learner (fits nowhere) gave fig5 "reproduced"; lr 10 scored alg1 from errors ~1e17."""
    from conservae_lib.claims import ledger

    unfit = _fake_runs(fits=False)
    assert cl.fig5_values(unfit)["not_tested"].startswith("no tied learner fits")
    assert ledger.judge("fig5", **cl.fig5_values(unfit))["verdict"] == ledger.NOT_TESTED
    assert "no tied learner fits" in cl.alg1_values(unfit)["not_tested"]
    diverged = _fake_runs(fits=True)
    diverged[1]["cvf"]["tied"]["rows"][2]["learners"]["tied"]["rel_error_uniform"] = 1e17
    assert cl.alg1_values(diverged)["not_tested"].startswith("the tied learner diverged (β = 1.0, seed 1")
    diverged[1]["cvf"]["tied"]["rows"][2]["learners"]["tied"]["rel_error_uniform"] = 0.2
    diverged[0]["cvf"]["tied"]["rows"][0]["learners"]["tied"]["final_loss"] = float("nan")
    assert "diverged" in cl.fig5_values(diverged)["not_tested"]
    some = _fake_runs(fits=True)  # one learner that misses the margin does not make the curve unusable
    some[0]["cvf"]["tied"]["rows"][1]["learners"]["tied"]["fits"] = False
    assert "not_tested" not in cl.fig5_values(some) and "values" in cl.alg1_values(some)
