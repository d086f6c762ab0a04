"""Chapter 04's tables and printed lines (``conservae_lib.table1_report``): percent, signs and order as printed."""
from __future__ import annotations

import numpy as np

from conservae_lib import empirical as E
from conservae_lib import table1 as T1
from conservae_lib import table1_report as T
from mnist_fakes import fake_run


def test_wl_and_cae_lines_compare_seed_means_in_percentage_points():
    stats = T1.table1([fake_run(s.key, 0, 0.5, 0.9 + 0.01 * i) for i, s in enumerate(E.GRID)])
    lines = T.wl_and_cae_text(stats).splitlines()
    assert lines[0] == "AE.relu_wl  91.0 %  vs  AE.relu  90.0 %  (+1.0 pp)"
    assert lines[-1] == "CAE.sigmoid_wl − AE.sigmoid_wl: +4.0 pp"
    assert len(lines) == 8


def test_baseline_rows_give_mean_and_sd_over_seeds_and_the_tied_model():
    rows = T.baseline_rows({("sigmoid", None): np.array([0.5, 0.52]), ("relu", 1.0): np.array([0.49])}, [1.0, 0.9999999])
    assert rows[0] == {"model": "random untied, sigmoid", "sym(∂r/∂x) %": "51.0 ± 1.4"}
    assert rows[1]["model"] == "random untied, relu, wl" and rows[1]["sym(∂r/∂x) %"] == "49.0 ± 0.0"
    assert rows[2]["sym(∂r/∂x) %"] == "100.0"


def test_pct_marks_a_missing_value():
    assert T.pct(0.9512) == "95.1" and T.pct(float("nan")) == "—" and T.pct(None) == "—"
