"""Chapter 02's experiments (``conservae_lib.chapters.sufficient_condition.survey``): the perturbation sweeps and the
frozen-point profile follow their analytic scaling, the page's checks pass on its numbers and name
what a wrong number breaks, and the ledger's inputs are the documented statistics."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from conservae_lib.chapters.sufficient_condition import survey as sv


@pytest.fixture(scope="module")
def examples():
    return sv.family_examples(4, 6, seed=0, n_points=12)


@pytest.fixture(scope="module")
def page(examples):
    """The numbers chapter 02 computes, at a small size."""
    return dict(family_rows=sv.family_survey(examples, n_loops=4),
                dim_rows=sv.dimension_survey([(4, 6)], n_points=64),
                sweeps=sv.perturbation_sweeps(examples, 5, n_loops=4),
                rec_rows=sv.recovery_survey(3, 4, n_recover=1))


def test_perturbation_sweeps_cover_the_families_with_loops_and_grow_like_delta_squared(examples, page):
    sweeps = page["sweeps"]
    assert set(sweeps) == set(examples) - {sv.FROZEN_POINT}
    for name, rows in sweeps.items():
        assert [r["delta"] for r in rows] == pytest.approx([1e-8, 1e-6, 1e-4, 1e-2, 1.0], rel=1e-12)
        # 1 − sym ∝ δ² and circulation ∝ δ for small δ: two decades of δ are four, and two, of the measures
        assert rows[2]["asym_mean"] / rows[1]["asym_mean"] == pytest.approx(1e4, rel=0.02)
        if name != "R = W diag(λ), relu":  # its loops cross kinks: the circulation stops at quadrature error
            assert rows[2]["circulation_mean"] / rows[1]["circulation_mean"] == pytest.approx(1e2, rel=0.05)


def test_the_frozen_point_loses_symmetry_like_the_squared_distance(examples):
    rows = sv.frozen_point_profile(examples)
    assert [r["distance"] for r in rows] == pytest.approx(np.logspace(-4, 0.5, 10).tolist())
    ratio = rows[1]["asym_mean"] / rows[0]["asym_mean"]
    assert ratio == pytest.approx((rows[1]["distance"] / rows[0]["distance"]) ** 2, rel=0.05)
    assert [r["distance"] for r in sv.frozen_point_profile(examples, distances=[0.1, 0.2])] == [0.1, 0.2]


def test_the_pages_checks_pass_on_its_numbers(page):
    assert sv.failed_checks(**page) == []


@pytest.mark.parametrize("part, index, key, value, says", [
    ("family_rows", 0, "asym_inside_max", 1e-3, "not symmetric on its domain"),
    ("family_rows", 0, "energy_error", 1e-2, "the energy's gradient is not the field"),
    ("dim_rows", 0, "measured", 99, "measured dimension differs"),
    ("dim_rows", 0, "smallest_kept", None, "no clear gap"),
    ("rec_rows", -1, "commutator_min", 1e-5, "a random model passes the commutation"),
    ("rec_rows", 0, "null_dims", [0], "does not have the generic dimension"),
    ("rec_rows", 0, "residual_max", None, "does not reproduce R"),
])
def test_a_wrong_number_fails_the_check_that_names_it(page, part, index, key, value, says):
    broken = copy.deepcopy(page)
    broken[part][index][key] = value
    problems = sv.failed_checks(**broken)
    assert len(problems) == 1 and says in problems[0], problems


def test_a_perturbation_that_grows_linearly_fails_the_slope_check(page):
    broken = copy.deepcopy(page)
    name = next(iter(broken["sweeps"]))
    for r in broken["sweeps"][name]:
        r["asym_mean"] = r["delta"]  # slope 1
    problems = sv.failed_checks(**broken)
    assert len(problems) == 1 and "δ²" in problems[0] and name in problems[0]


def test_claim_inputs_are_the_documented_statistics():
    families = [{"family": "a", "asym_inside_max": 1e-15, "commutator": 2e-15, "asym_outside_mean": None},
                {"family": sv.FROZEN_POINT, "asym_inside_max": 3e-16, "commutator": 1e-16, "asym_outside_mean": 0.04},
                {"family": "b", "asym_inside_max": 1e-14, "commutator": 5e-16, "asym_outside_mean": 0.01}]
    recoveries = [{"conservative": True, "n": 2, "n_ok": 2, "residual_max": 1e-13, "commutator_max": 1e-12, "commutator_min": 1e-14},
                  {"conservative": True, "n": 2, "n_ok": 1, "residual_max": 1e-13, "commutator_max": 3e-12, "commutator_min": 1e-13},
                  {"conservative": False, "n": 2, "n_ok": 2, "residual_max": 2e-13, "commutator_max": 0.9, "commutator_min": 0.3},
                  {"conservative": False, "n": 2, "n_ok": 2, "residual_max": 4e-14, "commutator_max": 0.8, "commutator_min": 0.5}]
    got = sv.claim_inputs(families, recoveries)
    assert got == [
        {"id": "eq8", "values": [2e-15, 3e-16, 1e-14], "control": 0.01, "section": "sec-suff-families"},
        {"id": "eq8", "values": [0.04], "reading": "every-x, sigmoid", "section": "sec-suff-families"},
        {"id": "supp-CE", "values": [1e-13, 1.0], "control": 4e-14, "section": "sec-suff-recover"},
        {"id": "supp-CE", "values": [1e-12, 3e-12], "control": 0.3, "reading": "with the commutation",
         "section": "sec-suff-recover"},
    ]
