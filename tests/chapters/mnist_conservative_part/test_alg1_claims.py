"""Tests of conservae_lib.chapters.mnist_conservative_part.alg1_claims (chapter 07: the numbers handed to the ledger)."""
from __future__ import annotations

import copy

import pytest

from conservae_lib.chapters.mnist_conservative_part import alg1_claims as cl
from conservae_lib.chapters.mnist_conservative_part.table2 import CVF_ROWS


def _fake_runs(fits: bool):
    def entry(beta, frac):
        learner = {"rel_error_uniform": 0.2 if fits else 0.9, "floor": 0.15, "fits": fits, "final_loss": 1.0 - beta,
                   "symmetric_part_distance": 0.05, "fraction": {"salt_and_pepper": frac, "binomial": frac},
                   "quadratic_term": {"salt_and_pepper": 1.0, "binomial": 0.5}}
        return {"beta": beta, "learners": {"tied": learner}}
    return [{"seed": s, "cvf": {row: {"rows": [entry(b, 0.5 + 0.4 * b) for b in (0.0, 0.4, 1.0)]} for row in CVF_ROWS}}
            for s in (0, 1)]


def test_table2_cell_withholds_cells_of_learners_that_did_not_fit():
    cell = cl.table2_cell(_fake_runs(fits=True), "tied", 0.4)
    assert cell == {"values": [0.66, 0.66], "control": [1.0, 1.0], "not_tested": None}
    cell = cl.table2_cell(_fake_runs(fits=False), "untied", 0.4, "binomial")
    assert cell["not_tested"].startswith("the learner did not fit") and "0.900" in cell["not_tested"]
    assert cell["control"] == [0.5, 0.5]
    with pytest.raises(ValueError, match="β"):
        cl.table2_cell(_fake_runs(fits=True), "tied", 0.6)


def test_trend_and_below_one_and_fig5_values_follow_beta():
    runs = _fake_runs(fits=True)
    t = cl.trend_values(runs)
    assert t["axis"] == [0.0, 0.4, 1.0] and t["values"][0] == pytest.approx([0.5, 0.66, 0.9])
    assert cl.below_one_values(runs)["values"] == [True] * 4
    assert cl.fig5_values(runs)["values"][1] == pytest.approx([1.0, 0.6, 0.0])
    assert cl.alg1_values(runs)["values"] == pytest.approx([0.05, 0.05])


def test_claim_inputs_cover_every_registered_claim_of_the_chapter_and_the_ledger_accepts_them():
    from conservae_lib.claims import ledger

    runs = _fake_runs(fits=True)
    for r in runs:  # a full β axis
        for row in CVF_ROWS:
            rows = r["cvf"][row]["rows"]
            r["cvf"][row]["rows"] = [dict(copy.deepcopy(rows[0]), beta=b) for b in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    inputs = cl.claim_inputs(runs)
    assert {c["id"] for c in inputs} == set(ledger.ids_of_chapter("mnist_conservative_part"))
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
