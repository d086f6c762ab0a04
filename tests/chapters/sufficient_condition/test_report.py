"""Chapter 02's tables and figures (``conservae_lib.chapters.sufficient_condition.report``): formatted strings from
hand-written rows, and figures whose reference lines have the stated slopes."""
from __future__ import annotations

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.sufficient_condition import report as sr  # noqa: E402


def test_family_table_formats_tiny_numbers_and_missing_ones():
    rows = [{"family": "f", "valid": "everywhere", "asym_inside_max": 3e-17, "circulation_max": 0.00123,
             "path_dependence_max": None, "energy_error": 2.5e-11, "commutator": 0.0, "asym_outside_mean": None}]
    t = sr.family_table(rows)
    assert list(t.index) == ["f"]
    assert t.loc["f"].tolist() == ["everywhere", "< 1e-12", "1.2e-03", "—", "2.5e-11", "< 1e-12", "—"]


def test_dimension_table_puts_measured_beside_derived():
    rows = [{"D": 4, "H": 6, "activation": "relu", "domain": "ℝ^D", "measured": 6, "expected": 6,
             "smallest_kept": 0.0738, "largest_dropped": 0.0}]
    t = sr.dimension_table(rows)
    assert t.iloc[0].tolist() == ["4 × 6", "relu", "ℝ^D", 6, 6, "0.074", "< 1e-12"]


def test_perturbation_table_shows_the_smallest_middle_and_largest_delta():
    rows = [{"delta": d, "asym_mean": d ** 2} for d in (1e-8, 1e-6, 1e-4, 1e-2, 1.0)]
    t = sr.perturbation_table({"fam": rows})
    assert list(t.columns) == ["δ = 1e-08", "δ = 0.0001", "δ = 1"]
    assert t.loc["fam"].tolist() == ["1.0e-16", "1.0e-08", "1.0e+00"]


def test_recovery_table_rows():
    rows = [{"case": "c", "conservative": False, "n": 3, "n_ok": 3, "null_dims": [4, 5], "residual_max": 1e-14,
             "known_max": None, "commutator_max": 0.9, "commutator_min": 0.25},
            {"case": "d", "conservative": True, "n": 1, "n_ok": 0, "null_dims": [0], "residual_max": None,
             "known_max": None, "commutator_max": None, "commutator_min": None}]
    t = sr.recovery_table(rows)
    assert t.loc["c"].tolist() == ["no", 3, 3, "4, 5", "< 1e-12", "—", "2.5e-01 – 9.0e-01"]
    assert t.loc["d"].tolist() == ["yes", 1, 0, "0", "—", "—", "—"]


def test_generic_dimensions_text_lists_each_shape_once():
    assert sr.generic_dimensions_text(4, 6).splitlines() == [
        "D = 4, H = 6: derived generic solution-set dimension 7",
        "D = 6, H = 4: derived generic solution-set dimension 7",
        "D = 4, H = 4: derived generic solution-set dimension 4"]
    assert sr.generic_dimensions_text(5, 5) == "D = 5, H = 5: derived generic solution-set dimension 5"


def _slope(line) -> float:
    x, y = np.log(np.asarray(line.get_xdata(), float)), np.log(np.asarray(line.get_ydata(), float))
    return float(np.polyfit(x, y, 1)[0])


def test_perturbation_figure_has_two_panels_with_slope_two_and_one_reference_lines():
    rows = [{"delta": d, "asym_mean": 3 * d ** 2, "circulation_mean": 2 * d} for d in np.logspace(-8, 0, 5)]
    fig = sr.perturbation_figure({"a": rows, "b": rows})
    (left, right) = fig.axes
    assert left.get_ylabel() == "mean 1 − sym(∂r/∂x)" and right.get_ylabel() == "mean relative circulation"
    assert [ln.get_label() for ln in left.get_lines()] == ["a", "b", "slope 2"]
    assert abs(_slope(left.get_lines()[-1]) - 2) < 1e-12 and abs(_slope(right.get_lines()[-1]) - 1) < 1e-12
    plt.close(fig)


def test_distance_figure_draws_the_profile_and_a_slope_two_line_through_the_chosen_point():
    rows = [{"distance": d, "asym_mean": 0.5 * d ** 2} for d in np.logspace(-4, 0.5, 10)]
    fig = sr.distance_figure(rows, ref_at=3)
    data, ref = fig.axes[0].get_lines()
    assert np.allclose(data.get_ydata(), [r["asym_mean"] for r in rows])
    assert abs(_slope(ref) - 2) < 1e-12 and np.isclose(ref.get_ydata()[3], rows[3]["asym_mean"])
    assert fig.axes[0].get_xscale() == fig.axes[0].get_yscale() == "log"
    plt.close(fig)
