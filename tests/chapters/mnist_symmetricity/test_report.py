"""Chapter 04's tables and printed lines (``conservae_lib.chapters.mnist_symmetricity.report``): percent, signs and order as printed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import table1 as T1
from conservae_lib.chapters.mnist_symmetricity import report as T
from tests.mnist_fakes import fake_run


def test_wl_and_cae_lines_compare_seed_means_in_percentage_points():
    stats = T1.table1([fake_run(s.key, 0, 0.5, 0.9 + 0.01 * i) for i, s in enumerate(E.GRID)])
    lines = T.wl_and_cae_text(stats, "Adam").splitlines()
    assert lines[0] == "Adam:" and lines[1] == "AE.relu_wl  91.0 %  vs  AE.relu  90.0 %  (+1.0 pp)"
    assert lines[-1] == "CAE.sigmoid_wl − AE.sigmoid_wl: +4.0 pp"
    assert len(lines) == 9


def test_reading_verdicts_frame_lists_only_the_claims_whose_verdict_changes():
    from conservae_lib.claims import ledger

    claims = [ledger.judge("fig1", [0.67, 0.66, 0.68]), ledger.judge("fig1", [0.16], reading="sgd"),
              ledger.judge("fig3", [0.05, 0.05]), ledger.judge("fig3", [0.05, 0.06], reading="sgd")]
    frame = T.reading_verdicts_frame(claims)
    assert list(frame.index) == ["fig1"] and frame.loc["fig1", "primary"] == "reproduced"
    assert frame.loc["fig1", "sgd"] == "not reproduced"


def test_primary_text_says_what_decided():
    from tests.mnist_fakes import fake_run

    summaries = {"sgd": {"n_plateau": 7, "n": 8}, "adam": {"n_plateau": 7, "n": 8}}
    seed0 = {o: [fake_run("AE.sigmoid", 0, 0.5, 0.9)] for o in summaries}
    text = T.primary_text(summaries, ["sgd", "adam"], "adam", seed0, {"sgd": "SGD", "adam": "Adam"})
    assert "SGD 7 of 8; Adam 7 of 8" in text and "co-primary readings" in text and "lead" in text
    assert "primary reading: SGD" in T.primary_text(summaries, ["sgd"], "sgd", seed0, {"sgd": "SGD", "adam": "Adam"})


def test_baseline_rows_give_mean_and_sd_over_seeds_and_the_tied_model():
    rows = T.baseline_rows({("sigmoid", None): np.array([0.5, 0.52]), ("relu", 1.0): np.array([0.49])}, [1.0, 0.9999999])
    assert rows[0] == {"model": "random untied, sigmoid", "sym(∂r/∂x) %": "51.0 ± 1.4"}
    assert rows[1]["model"] == "random untied, relu, wl" and rows[1]["sym(∂r/∂x) %"] == "49.0 ± 0.0"
    assert rows[2]["sym(∂r/∂x) %"] == "100.0"


def test_pct_marks_a_missing_value():
    assert T.pct(0.9512) == "95.1" and T.pct(float("nan")) == "—" and T.pct(None) == "—"


# ----------------------------------------------------------------------------- the data-set check (an extra)
def test_data_check_gap_share_is_how_much_of_the_gap_to_the_paper_the_other_data_closes():
    from tests.mnist_fakes import fake_run

    from conservae_lib.claims import ledger

    paper = ledger.claim("table1.AE.sigmoid").paper
    here = fake_run("AE.sigmoid", 0, 0.5, paper - 0.10)
    closes_half = fake_run("AE.sigmoid", 0, 0.5, paper - 0.05)
    widens = fake_run("AE.sigmoid", 0, 0.5, paper - 0.15)
    g = T1.data_check_gaps([here], [closes_half])["AE.sigmoid"]
    assert g["closed"] == pytest.approx(0.5) and g["paper"] == paper
    assert T1.data_check_gaps([here], [widens])["AE.sigmoid"]["closed"] == pytest.approx(-0.5)
    text = T.data_check_text(T1.data_check_gaps([here], [closes_half]))
    assert "1 of 1 cells move towards" in text and "from 50 % to 50 %" in text and "0 of 1 come within 1 pp" in text
    other_seed = fake_run("AE.sigmoid", 1, 0.5, paper)  # no run of that seed here: nothing to compare with
    assert math.isnan(T1.data_check_gaps([here], [other_seed])["AE.sigmoid"]["closed"])


def test_data_check_cells_must_be_table1_cells():
    from conservae_lib.tooling import profiles
    from conservae_lib.chapters.mnist_symmetricity import table1_jobs as J

    cfg = profiles.configure("mnist_symmetricity", "smoke")
    cfg["data_check_cells"] = ["AE.tanh"]
    with pytest.raises(ValueError, match="data_check_cells.*AE.tanh.*not a Table 1 cell"):
        J.settings_from(cfg)


def test_no_data_check_when_the_check_data_is_the_chapters_own():
    from types import SimpleNamespace

    from conservae_lib.chapters.mnist_symmetricity import table1_jobs as J
    from conservae_lib.foundations.parameters import Config

    cfg = Config(data_check_source="mnist_pkl", data_check_n_train=3, data_check_root=None, seed=0, n_test=1)
    own = SimpleNamespace(source="mnist_pkl", x_train=[0, 1, 2])
    assert J.load_check_data(cfg, own) is None


def test_reconstruction_text_says_where_the_bound_still_holds_at_the_end():
    ratios = {"adam": {"CAE.relu": {"final": 1.05}, "CAE.sigmoid": {"final": 3.2}}}
    text = T.reconstruction_text(ratios, {"adam": "Adam"}, 0.1, 10, 100)
    assert "by 1.1 after 10 epoch(s); after 100 epochs:" in text
    assert "Adam: within 1.1 in 1 of 2 cells; the ratio ranges from 1.05 to 3.2" in text
