"""The claim ledger: every rule can pass and can fail, noise never reproduces, a control that
passes makes a claim uninformative, and the paper's numbers are registered once, as fractions.

Each test names the claim whose rule it exercises."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from conservae_lib.claims import ledger as L
from conservae_lib.claims import ledger_claims as LC
from conservae_lib.claims import ledger_rules as R

ROOT = Path(__file__).resolve().parents[2]
BETAS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


# ----------------------------------------------------------------------------- the registry
def test_registry_holds_the_claims_the_chapters_use():
    required = [
        "prop1", "prop2", "cor1", "tied-strict", "eq8", "supp-CE", "prop3", "prop3.real-eigenvalues", "prop3.sink",
        *(f"table1.{m}.{c}" for m in ("AE", "CAE") for c in ("relu", "relu_wl", "sigmoid", "sigmoid_wl")),
        "wl-higher", "cae-more-symmetric", "fig2.plateau.AE", "fig2.plateau.CAE", "fig2", "fig1",
        "weights-product", "weights-product.sigmoid", "wl-curvature", "wl-curvature.contrast", "fig3", "fig4.tied", "fig4.untied",
        *(f"table2.{r}.b{b}" for r in ("tied", "untied") for b in L.TABLE2_BETAS),
        "table2.trend", "table2.below-1", "recover-93", "fig5", "alg1",
    ]
    assert set(required) <= set(L.CLAIMS)


def test_every_claim_has_a_chapter_quote_statistic_and_a_reasoned_rule():
    from conservae_lib.chapters.scorecard.sources import CHAPTER_NOTEBOOKS

    for c in L.CLAIMS.values():
        assert c.chapter in CHAPTER_NOTEBOOKS, c.id
        assert c.where and c.quote and c.statement and c.statistic, c.id
        assert isinstance(c.rule, R.Rule), c.id
        assert c.rule.why, f"{c.id}: the rule's tolerance has no reason"
        if isinstance(c.rule, R.Close):
            assert c.paper is not None, c.id
        if c.paper is not None:
            assert 0.0 <= c.paper <= 1.0, f"{c.id}: the paper's value is not a fraction"


def test_table1_and_table2_carry_the_papers_numbers_as_fractions():
    assert [L.CLAIMS[f"table1.AE.{c}"].paper for c in L.TABLE1_COLUMNS] == [0.959, 0.987, 0.951, 0.991]
    assert [L.CLAIMS[f"table1.CAE.{c}"].paper for c in L.TABLE1_COLUMNS] == [0.952, 0.986, 0.974, 0.991]
    assert [L.CLAIMS[f"table2.tied.b{b}"].paper for b in L.TABLE2_BETAS] == [0.5036, 0.7357, 0.9338, 0.98838, 0.9960, 0.9968]
    assert [L.CLAIMS[f"table2.untied.b{b}"].paper for b in L.TABLE2_BETAS] == [0.5072, 0.7496, 0.9373, 0.98595, 0.9958, 0.9968]
    # Figure 2's plateaus are the same quantity as Table 1's sigmoid cells (compared like with like).
    assert L.CLAIMS["fig2.plateau.AE"].paper == L.CLAIMS["table1.AE.sigmoid"].paper == 0.951
    assert L.CLAIMS["fig2.plateau.CAE"].paper == L.CLAIMS["table1.CAE.sigmoid"].paper == 0.974
    assert L.CLAIMS["recover-93"].paper == 0.93


def test_the_papers_numbers_are_typed_only_in_the_ledger():
    table2 = ["0.98838", "0.98595", "0.5036", "0.7357", "0.9338", "0.7496", "0.9373", "0.5072", "0.9968", "0.9958"]
    table1 = ["0.959", "0.987", "0.951", "0.991", "0.952", "0.986", "0.974",
              "95.9", "98.7", "95.1", "99.1", "95.2", "98.6", "97.4"]
    paths = [*(ROOT / "conservae_lib").rglob("*.py"), *(ROOT / "notebooks").glob("*.md")]
    assert len(paths) > 70, "the library or the chapters moved: update this test"
    for path in paths:  # they are in conservae_lib/claims/paper_claims.yml, which this does not read
        text = path.read_text()
        for n in table1 + table2:
            assert not re.search(r"(?<![\d.])" + re.escape(n) + r"(?!\d)", text), f"{path.name} types the paper's number {n}"


def test_judge_refuses_an_unknown_id_with_one_sentence():
    with pytest.raises(KeyError) as err:
        L.judge("table3.AE.relu", [0.9])
    msg = str(err.value)
    assert "table3.AE.relu" in msg and msg.count(". ") == 0 and msg.endswith(".")
    with pytest.raises(L.UnknownClaimError):
        L.claim("nope")


def test_record_has_every_documented_key():
    rec = L.judge("table1.AE.relu", [0.959, 0.958], data="d", section="sec-x")
    assert tuple(rec) == L.RECORD_KEYS
    assert rec["ours"] == pytest.approx(0.9585) and rec["n_seeds"] == 2 and rec["values"] == [0.959, 0.958]
    assert rec["paper"] == 0.959 and rec["chapter"] == "mnist_symmetricity" and rec["section"] == "sec-x"
    assert rec["spread"] == pytest.approx(math.sqrt(0.5e-6), rel=1e-3)


# ----------------------------------------------------------------------------- Close (Table 1, Table 2)
def test_table1_AE_relu_close_rule_passes_and_fails():
    assert L.judge("table1.AE.relu", [0.958, 0.960, 0.959])["verdict"] == L.REPRODUCED
    assert L.judge("table1.AE.relu", [0.935, 0.937, 0.936])["verdict"] == L.PARTLY
    assert L.judge("table1.AE.relu", [0.81, 0.82, 0.80])["verdict"] == L.NOT_REPRODUCED


def test_table1_noise_never_yields_reproduced():
    quiet = L.judge("table1.AE.sigmoid", [0.951, 0.952, 0.950])
    noisy = L.judge("table1.AE.sigmoid", [0.921, 0.951, 0.981])  # same mean, larger spread
    assert quiet["ours"] == pytest.approx(noisy["ours"])
    assert quiet["verdict"] == L.REPRODUCED and noisy["verdict"] == L.PARTLY
    # ... and noise never turns "not reproduced" into anything better: the tolerance does not widen.
    far_quiet = L.judge("table2.tied.b0.4", [0.70, 0.70, 0.70])
    far_noisy = L.judge("table2.tied.b0.4", [0.40, 0.70, 1.00])
    assert far_quiet["verdict"] == far_noisy["verdict"] == L.NOT_REPRODUCED


def test_table1_single_seed_of_a_trained_result_is_at_most_partly():
    assert L.judge("table1.CAE.sigmoid_wl", [0.991])["verdict"] == L.PARTLY
    assert L.judge("table1.CAE.sigmoid_wl", 0.991)["verdict"] == L.PARTLY


def test_table2_tied_b1_0_uninformative_when_the_trivial_energy_passes_too():
    rec = L.judge("table2.tied.b1.0", [1.0, 1.0, 1.0], control=[1.0, 1.0, 1.0])
    assert rec["verdict"] == L.UNINFORMATIVE and rec["control"] == 1.0
    # a control that fails leaves the verdict alone
    rec = L.judge("table2.tied.b1.0", [0.997, 0.996, 0.997], control=[0.5, 0.51, 0.49])
    assert rec["verdict"] == L.REPRODUCED


def test_table2_tied_b0_4_partly_with_a_control_equally_partly_is_uninformative():
    rec = L.judge("table2.tied.b0.4", [1.0, 1.0, 1.0], control=[1.0, 1.0, 1.0])
    assert rec["verdict"] == L.UNINFORMATIVE


def test_table2_untied_b0_0_not_tested_records_the_reason():
    rec = L.judge("table2.untied.b0.0", [0.5], not_tested="the learner did not fit the field")
    assert rec["verdict"] == L.NOT_TESTED and rec["reason"] == "the learner did not fit the field"


def test_table1_undefined_metric_is_not_tested():
    # a degenerate Jacobian (‖J‖ ≈ 0) has no symmetricity: the chapter hands NaN, never 1
    assert L.judge("table1.AE.sigmoid_wl", [float("nan"), 0.99])["verdict"] == L.NOT_TESTED
    assert L.judge("table1.AE.sigmoid_wl", None)["verdict"] == L.NOT_TESTED
    assert L.judge("table1.AE.sigmoid_wl", [])["verdict"] == L.NOT_TESTED


def test_recover_93_close_rule_on_the_formulas_convention():
    assert L.judge("recover-93", [0.934, 0.933, 0.935])["verdict"] == L.REPRODUCED
    assert L.judge("recover-93", [0.6, 0.62, 0.61])["verdict"] == L.NOT_REPRODUCED
    assert L.judge("recover-93", [0.988, 0.987], reading="table-beta")["reading"] == "table-beta"


def test_fig2_plateau_AE_close_rule_passes_and_fails():
    assert L.judge("fig2.plateau.AE", [0.950, 0.952, 0.951])["verdict"] == L.REPRODUCED
    assert L.judge("fig2.plateau.AE", [0.83, 0.82, 0.83])["verdict"] == L.NOT_REPRODUCED


# ----------------------------------------------------------------------------- thresholds
def test_fig1_at_least_rule_passes_and_fails():
    assert L.judge("fig1", [0.67, 0.66, 0.68])["verdict"] == L.REPRODUCED
    assert L.judge("fig1", [0.3, 0.31, 0.29])["verdict"] == L.PARTLY
    assert L.judge("fig1", [0.01, 0.0, -0.01])["verdict"] == L.NOT_REPRODUCED


def test_fig1_at_least_noise_never_yields_reproduced():
    assert L.judge("fig1", [0.55, 0.56, 0.54])["verdict"] == L.REPRODUCED
    assert L.judge("fig1", [0.25, 0.55, 0.85])["verdict"] == L.PARTLY


def test_fig1_control_at_initialisation_that_passes_is_uninformative():
    assert L.judge("fig1", [0.67, 0.66], control=[0.665])["verdict"] == L.UNINFORMATIVE
    assert L.judge("fig1", [0.67, 0.66], control=[0.0])["verdict"] == L.REPRODUCED


def test_wl_curvature_control_pointing_against_the_claim_is_not_reproduced():
    """More pre-activations in the band without the constraint than with it contradicts the claim."""
    rec = L.judge("wl-curvature", [0.333, 0.334, 0.335], control=[0.57, 0.58, 0.56])
    assert rec["verdict"] == L.NOT_REPRODUCED and "points against" in rec["reason"]
    assert L.judge("wl-curvature", [0.60, 0.61, 0.62], control=[0.2, 0.21, 0.19])["verdict"] == L.REPRODUCED
    # a control inside our interval cannot tell the hypotheses apart: uninformative, not a contradiction
    assert L.judge("wl-curvature", [0.60, 0.61, 0.62], control=[0.61])["verdict"] == L.UNINFORMATIVE


def test_fig3_control_that_falls_further_than_the_trained_model_points_against():
    assert L.judge("fig3", [0.3, 0.3, 0.3], control=[0.1])["verdict"] == L.NOT_REPRODUCED
    assert L.judge("fig3", [0.05, 0.05, 0.05], control=[1.0])["verdict"] == L.REPRODUCED


def test_a_control_on_an_identity_never_points_against():
    """Exact rules have controls that must *not* pass; a smaller residual there is no contradiction."""
    assert L.judge("cor1", [1e-13], control=[1e-15])["verdict"] == L.UNINFORMATIVE


def test_fig3_at_most_rule_passes_and_fails():
    assert L.judge("fig3", [0.05, 0.052, 0.073])["verdict"] == L.REPRODUCED
    assert L.judge("fig3", [0.9, 1.1, 1.0])["verdict"] == L.NOT_REPRODUCED


def test_fig3_collapsed_network_with_control_is_uninformative():
    # a dead network has curl 0 everywhere: the untrained control falls just as far
    assert L.judge("fig3", [0.0, 0.0, 0.0], control=[0.0, 0.0])["verdict"] == L.UNINFORMATIVE


def test_fig4_untied_at_most_rule():
    assert L.judge("fig4.untied", [0.02, 0.03])["verdict"] == L.REPRODUCED
    assert L.judge("fig4.untied", [1.0, 1.0])["verdict"] == L.NOT_REPRODUCED


def test_alg1_at_most_rule_and_single_seed():
    assert L.judge("alg1", [0.05, 0.06, 0.04])["verdict"] == L.REPRODUCED
    assert L.judge("alg1", [0.05])["verdict"] == L.PARTLY
    assert L.judge("alg1", [0.7, 0.8])["verdict"] == L.NOT_REPRODUCED


def test_prop3_real_eigenvalues_at_most_zero():
    assert L.judge("prop3.real-eigenvalues", [0.0, 0.0, 0.0])["verdict"] == L.REPRODUCED
    assert L.judge("prop3.real-eigenvalues", [0.3, 0.2, 0.25])["verdict"] == L.NOT_REPRODUCED


def test_prop3_sink_at_least():
    assert L.judge("prop3.sink", [1.0, 1.0, 0.98])["verdict"] == L.REPRODUCED
    assert L.judge("prop3.sink", [0.1, 0.14, 0.2])["verdict"] == L.NOT_REPRODUCED


# ----------------------------------------------------------------------------- count
def test_wl_higher_count_rule_passes_and_fails():
    assert L.judge("wl-higher", [True] * 12, n_seeds=3)["verdict"] == L.REPRODUCED
    assert L.judge("wl-higher", [True, False] * 6, n_seeds=3)["verdict"] == L.PARTLY
    assert L.judge("wl-higher", [False] * 11 + [True], n_seeds=3)["verdict"] == L.NOT_REPRODUCED


def test_cae_more_symmetric_count_single_seed_at_most_partly():
    assert L.judge("cae-more-symmetric", [1], n_seeds=1)["verdict"] == L.PARTLY
    assert L.judge("cae-more-symmetric", [1, 1, 1], n_seeds=3)["verdict"] == L.REPRODUCED
    assert L.judge("cae-more-symmetric", [0, 0, 0], n_seeds=3)["verdict"] == L.NOT_REPRODUCED


def test_table2_below_1_count_rule():
    assert L.judge("table2.below-1", [True] * 5, n_seeds=2)["ours"] == 1.0
    assert L.judge("table2.below-1", [True, False, False, False, False], n_seeds=2)["verdict"] == L.NOT_REPRODUCED


def test_weights_product_count_rejects_numbers():
    with pytest.raises(ValueError, match="booleans"):
        L.judge("weights-product", [0.3, 0.7])


# ----------------------------------------------------------------------------- trend
def test_fig5_trend_rule_passes_and_fails():
    dec = [[5, 4, 3, 2, 1, 0.5], [6, 4, 3.5, 2, 1.2, 0.4]]
    inc = [list(reversed(c)) for c in dec]
    assert L.judge("fig5", dec, axis=BETAS)["verdict"] == L.REPRODUCED
    assert L.judge("fig5", inc, axis=BETAS)["verdict"] == L.NOT_REPRODUCED
    rec = L.judge("fig5", [[3.44, 1.82, 1.47, 2.23, 3.92, 5.93]] * 2, axis=BETAS)  # the book's U shape
    assert rec["verdict"] == L.NOT_REPRODUCED


def test_fig5_one_curve_of_a_trained_result_is_at_most_partly():
    assert L.judge("fig5", [5, 4, 3, 2, 1, 0.5], axis=BETAS)["verdict"] == L.PARTLY


def test_table2_trend_noise_never_yields_reproduced():
    clean = [[0.5, 0.7, 0.9, 0.95, 0.99, 1.0]] * 3
    noisy = [[0.5, 0.7, 0.9, 0.95, 0.99, 1.0], [0.5, 0.95, 0.7, 0.9, 1.0, 0.99], [0.9, 0.5, 0.7, 1.0, 0.95, 0.99]]
    assert L.judge("table2.trend", clean, axis=BETAS)["verdict"] == L.REPRODUCED
    assert L.judge("table2.trend", noisy, axis=BETAS)["verdict"] != L.REPRODUCED


def test_prop3_trend_over_epsilon_and_a_flat_curve():
    eps = [0.003, 0.01, 0.03, 0.1]
    assert L.judge("prop3", [[8e-4, 2e-3, 5e-3, 9e-3]] * 3, axis=eps)["verdict"] == L.REPRODUCED
    assert L.judge("prop3", [[1e-2, 1e-2, 1e-2, 1e-2]] * 3, axis=eps)["verdict"] == L.NOT_REPRODUCED


def test_fig2_counts_curves_that_rise_and_plateau():
    assert L.judge("fig2", [True] * 24, n_seeds=3)["verdict"] == L.REPRODUCED
    assert L.judge("fig2", [True] * 21 + [False] * 3, n_seeds=3)["verdict"] == L.PARTLY
    assert L.judge("fig2", [False] * 24, n_seeds=3)["verdict"] == L.NOT_REPRODUCED
    with pytest.raises(ValueError, match="booleans"):
        L.judge("fig2", [[0.5, 0.7, 0.9]])


def test_spearman_matches_known_values():
    assert R.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert R.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert R.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert math.isnan(R.spearman([1, 2, 3], [5, 5, 5]))


# ----------------------------------------------------------------------------- exact
def test_prop2_exact_rule_passes_and_fails():
    assert L.judge("prop2", [1e-15, 3e-13])["verdict"] == L.REPRODUCED
    assert L.judge("prop2", [1e-15, 9.6e-3])["verdict"] == L.NOT_REPRODUCED


def test_cor1_exact_rule_control_that_is_symmetric_too_is_uninformative():
    assert L.judge("cor1", [1e-15], control=[2e-16])["verdict"] == L.UNINFORMATIVE
    assert L.judge("cor1", [1e-15], control=[0.4])["verdict"] == L.REPRODUCED


def test_tied_strict_not_tested():
    assert L.judge("tied-strict", None, not_tested="chapter not run")["verdict"] == L.NOT_TESTED


# ----------------------------------------------------------------------------- rule classes directly
@pytest.mark.parametrize("rule, good, bad, kw", [
    (R.Close(0.01, 0.03, why="w"), [0.5, 0.5], [0.6, 0.6], {"paper": 0.5}),
    (R.AtLeast(0.5, 0.2, why="w"), [0.9, 0.9], [0.1, 0.1], {}),
    (R.AtMost(0.2, 0.5, why="w"), [0.1, 0.1], [0.9, 0.9], {}),
    (R.Count(1.0, 0.5, why="w"), [True, True], [False, False], {}),
    (R.Trend(+1, 0.8, 0.5, why="w"), [[1, 2, 3], [1, 2, 3]], [[3, 2, 1], [3, 2, 1]], {"axis": [0, 1, 2]}),
    (R.Exact(1e-10), [1e-12], [1e-3], {}),
])
def test_every_rule_class_has_a_passing_and_a_failing_input(rule, good, bad, kw):
    assert rule.decide(good, **kw)[0] == L.REPRODUCED
    assert rule.decide(bad, **kw)[0] == L.NOT_REPRODUCED
    assert rule.describe()


def test_module_docstring_explains_every_verdict_and_rule():
    doc = R.__doc__
    for word in L.VERDICTS:
        assert f"``{word}``" in doc
    for cls in ("Close", "AtLeast", "AtMost", "Count", "Trend", "Exact"):
        assert f":class:`{cls}`" in doc


def test_rule_helpers():
    import numpy as np

    assert R.as_list(None) == [] and R.as_list(0.5) == [0.5] and R.as_list(np.array([1.0, 2.0])) == [1.0, 2.0]
    assert R.as_list(np.float64(3.0)) == [3.0] and R.as_list((True, False)) == [True, False]
    assert R.is_finite_number(1) and not R.is_finite_number(True) and not R.is_finite_number(float("nan"))
    assert R.mean_sd([2.0]) == (2.0, None) and R.mean_sd([1.0, 3.0]) == pytest.approx((2.0, math.sqrt(2)))
    assert R.cap_single_seed(L.REPRODUCED, "r", 1, True) == (L.PARTLY, "r" + R.cap_single_seed(L.REPRODUCED, "", 1, True)[1])
    assert R.cap_single_seed(L.REPRODUCED, "r", 1, False) == (L.REPRODUCED, "r")
    assert R.cap_single_seed(L.REPRODUCED, "r", 2, True) == (L.REPRODUCED, "r")


def test_the_ledger_reexports_what_chapters_use():
    """Chapters write ``ledger.judge``, ``ledger.CLAIMS``, ``ledger.VERDICTS`` …: one import for all."""
    from conservae_lib.claims import ledger_claims

    assert L.CLAIMS is ledger_claims.CLAIMS and L.Claim is ledger_claims.Claim and L.VERDICTS is R.VERDICTS
    for name in L.__all__:
        assert hasattr(L, name), name


# ----------------------------------------------------------------------------- chapters
VERDICT_LITERAL = re.compile(r"""(['"])(reproduced|partly|not reproduced|uninformative|not tested)\1""")


def _code_cells(text: str) -> list[str]:
    return re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "notebooks").glob("*.md")))
def test_no_chapter_code_contains_a_verdict_word_as_a_string_literal(name):
    text = (ROOT / "notebooks" / name).read_text()
    hits = [m.group(0) for cell in _code_cells(text) for m in VERDICT_LITERAL.finditer(cell)]
    assert not hits, f"{name} types verdicts in code: {hits}; use conservae_lib.claims.ledger.judge"


def test_the_verdict_literal_check_can_fail():
    text = "```{code-cell} ipython3\nv = 'reproduced' if x else \"partly\"\n```\n"
    assert [m.group(0) for c in _code_cells(text) for m in VERDICT_LITERAL.finditer(c)] == ["'reproduced'", '"partly"']


def test_wl_higher_and_table1_accept_numpy_and_torch_values():
    import numpy as np
    import torch

    assert L.judge("wl-higher", np.array([True, True, True, True]), n_seeds=2)["verdict"] == L.REPRODUCED
    assert L.judge("table1.AE.relu", torch.tensor([0.959, 0.958], dtype=torch.float64))["verdict"] == L.REPRODUCED
    assert L.judge("fig5", np.array([[3.0, 2.0, 1.0]] * 2), axis=np.array([0.0, 0.5, 1.0]))["verdict"] == L.REPRODUCED
    assert L.judge("alg1", np.float64(float("nan")))["verdict"] == L.NOT_TESTED


def test_wl_curvature_contrast_count_rule_passes_and_fails():
    """The constraint must put more pre-activations in the band than no constraint, seed by seed."""
    assert L.judge("wl-curvature.contrast", [True, True, True], n_seeds=3)["verdict"] == L.REPRODUCED
    assert L.judge("wl-curvature.contrast", [False, False, False], n_seeds=3)["verdict"] == L.NOT_REPRODUCED
    assert L.judge("wl-curvature.contrast", [True, False, True], n_seeds=3)["verdict"] == L.PARTLY


# ----------------------------------------------------------------- the claims file (paper_claims.yml)
def _claims_file(tmp_path, edit):
    from conservae_lib.claims import ledger_claims

    text = ledger_claims.CLAIMS_FILE.read_text()
    new = edit(text)
    assert new != text, "the edit did not apply"
    path = tmp_path / "paper_claims.yml"
    path.write_text(new)
    return path


def test_the_claims_file_is_the_registry():
    from conservae_lib.claims import ledger_claims

    assert ledger_claims.load_claims() == L.CLAIMS
    assert L.CLAIMS["table1.AE.relu"].rule == L.CLAIMS["table1.CAE.sigmoid_wl"].rule  # the shared rule "table1"
    assert L.CLAIMS["fig3"].rule == R.AtMost(0.2, 0.5, why=L.CLAIMS["fig3"].rule.why)
    assert L.CLAIMS["table2.trend"].rule.direction == 1 and isinstance(L.CLAIMS["table2.trend"].rule.direction, int)


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("    quote: An auto-encoder with tied weights", "    qoute: An auto-encoder with tied weights", 1),
     "unknown keys ['qoute']"),
    (lambda t: t.replace("    rule: identity\n", "    rule: identiti\n", 1), "a rule is the name of a shared rule"),
    (lambda t: t.replace("    close: [0.05, 0.15]", "    close: [0.05]", 1), "is malformed"),
    (lambda t: t.replace("  - family: table2", "  - family: table3", 1), "unknown family 'table3'"),
    (lambda t: t.replace("    kind: figure", "    kind: picture", 1), "kind must be one of"),
])
def test_the_claims_file_refuses_a_wrong_key_or_rule_with_one_sentence(tmp_path, edit, words):
    from conservae_lib.claims import ledger_claims

    path = _claims_file(tmp_path, edit)
    with pytest.raises(ledger_claims.ClaimsFileError) as err:
        ledger_claims.load_claims(path)
    assert words in str(err.value) and str(err.value).endswith(".")


def test_a_changed_number_in_the_claims_file_changes_the_claim(tmp_path):
    from conservae_lib.claims import ledger_claims

    path = _claims_file(tmp_path, lambda t: t.replace("AE: [0.959,", "AE: [0.5,", 1))
    assert ledger_claims.load_claims(path)["table1.AE.relu"].paper == 0.5


# ----------------------------------------------------------------- the paper's own numbers pass its own claims
def _paper(cid: str) -> float:
    return L.claim(cid).paper


def test_the_papers_table1_passes_wl_higher_and_cae_more_symmetric():
    """Fed Table 1 as two identical seeds, the paper's data pass the claims the text makes about it."""
    wl = [_paper(f"table1.{m}.{a}_wl") > _paper(f"table1.{m}.{a}") for m in ("AE", "CAE") for a in ("relu", "sigmoid")]
    assert L.judge("wl-higher", wl * 2, n_seeds=2)["verdict"] == L.REPRODUCED
    cae = [_paper("table1.CAE.sigmoid") > _paper("table1.AE.sigmoid")]
    assert L.judge("cae-more-symmetric", cae * 2, n_seeds=2)["verdict"] == L.REPRODUCED
    # the old reading (every column of Table 1) fails the paper's own table: one column of four
    every_column = [_paper(f"table1.CAE.{c}") > _paper(f"table1.AE.{c}") for c in L.TABLE1_COLUMNS]
    assert sum(every_column) == 1


@pytest.mark.parametrize("cid", [c for c in L.ids() if L.claim(c).paper is not None
                                 and isinstance(L.claim(c).rule, (R.Close, R.AtLeast, R.AtMost))])
def test_the_papers_value_passes_its_own_claim(cid):
    assert L.judge(cid, [_paper(cid)] * 2)["verdict"] == L.REPRODUCED


def test_the_papers_table2_passes_its_trend_and_below_1():
    for row in ("tied", "untied"):
        curve = [_paper(f"table2.{row}.b{b}") for b in L.TABLE2_BETAS]
        assert L.judge("table2.trend", [curve] * 2, axis=BETAS)["verdict"] == L.REPRODUCED
        below = [v < curve[-1] for v in curve[:-1]]
        assert L.judge("table2.below-1", below * 2, n_seeds=2)["verdict"] == L.REPRODUCED


def test_fig2_plateau_claims_repeat_table1_and_are_counted_once():
    for m in ("AE", "CAE"):
        c = L.claim(f"fig2.plateau.{m}")
        assert c.same_as == f"table1.{m}.sigmoid" and not c.counted and c.paper == _paper(c.same_as)
    assert all(L.claim(c).counted for c in L.ids() if not c.startswith("fig2.plateau"))


def test_least_favourable_combines_co_primary_readings():
    good = L.judge("fig1", [0.67, 0.66, 0.68], reading="adam, co-primary")
    bad = L.judge("fig1", [0.16, 0.15, 0.17], reading="sgd, co-primary")
    rec = L.least_favourable({"adam": good, "sgd": bad})
    assert rec["verdict"] == L.NOT_REPRODUCED and rec["reading"] is None and rec["ours"] == bad["ours"]
    assert "adam → reproduced" in rec["reason"] and "sgd → not reproduced" in rec["reason"]
    untested = L.judge("fig1", not_tested="degenerate")
    assert L.least_favourable({"a": good, "b": untested})["verdict"] == L.NOT_TESTED
    assert L.least_favourable({"a": good})["reason"] == good["reason"]
    with pytest.raises(ValueError, match="one claim"):
        L.least_favourable({"a": good, "b": L.judge("fig3", [0.1, 0.1])})


# ----------------------------------------------------------------------------- issue 25: caps and the book's findings
def test_a_cap_lowers_a_better_verdict_and_keeps_a_worse_one():
    paper = L.claim("table2.tied.b0.4").paper
    free = L.judge("table2.tied.b0.4", [paper, paper])
    assert free["verdict"] == L.REPRODUCED
    capped = L.judge("table2.tied.b0.4", [paper, paper], cap=(L.PARTLY, "its learner did not fit"))
    assert capped["verdict"] == L.PARTLY and capped["reason"].endswith("shown as partly at most: its learner did not fit")
    far = L.judge("table2.tied.b0.4", [0.1, 0.1], cap=(L.PARTLY, "its learner did not fit"))
    assert far["verdict"] == L.NOT_REPRODUCED and "did not fit" not in far["reason"]
    with pytest.raises(ValueError, match="cap must name a verdict"):
        L.judge("table2.tied.b0.4", [paper], cap=("fine", "x"))


def test_the_books_findings_are_judged_but_never_counted_among_the_papers_claims():
    found = L.finding_ids()
    assert found and not set(found) & set(L.ids())
    for fid in found:
        c = L.claim(fid)
        assert c.source == "book" and c.kind == "finding" and not c.counted and c.paper is None
    rec = L.judge(found[0], [True, True, False], n_seeds=2)
    assert rec["verdict"] in L.VERDICTS


def test_a_finding_outside_the_findings_section_is_refused(tmp_path):
    text = (ROOT / "conservae_lib" / "claims" / "paper_claims.yml").read_text()
    bad = text.replace("  - id: prop1\n    kind: claim", "  - id: prop1\n    kind: finding", 1)
    path = tmp_path / "paper_claims.yml"
    path.write_text(bad)
    with pytest.raises(LC.ClaimsFileError, match="findings"):
        LC.load_claims(path)
