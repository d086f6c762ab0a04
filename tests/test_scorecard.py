"""The reproduction scorecard: its registry covers the paper, and its table is what the chapters saved."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conservae_lib import pipeline, profiles, results, scorecard

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "paper" / "conservativeness_of_untied_autoencoders.md"

CONTRIBUTING_IDS = (
    ["prop1", "prop2", "cor1", "tied-strict", "eq8", "supp-CE", "prop3"]
    + [f"table1.{m}.{a}" for m in ("AE", "CAE") for a in ("relu", "relu_wl", "sigmoid", "sigmoid_wl")]
    + ["fig1", "fig2", "weights-product", "fig3", "fig4.tied", "fig4.untied"]
    + [f"table2.{m}.b{b}" for m in ("tied", "untied") for b in ("0.0", "0.2", "0.4", "0.6", "0.8", "1.0")]
    + ["fig5"]
)


def _claim(id, ours=0.5, verdict="reproduced", **kw):
    base = dict(statement="s", paper=kw.pop("paper", "p"), ours=ours, verdict=verdict, reason="because",
                section=kw.pop("section", "sec-x"), data=kw.pop("data", "some data"))
    base.update(kw)
    return results.claim(id, **base)


# ----------------------------------------------------------------------------- the registry
def test_registry_has_exactly_the_contributing_ids_in_order():
    assert scorecard.registry_ids() == CONTRIBUTING_IDS


def test_every_item_belongs_to_a_known_chapter_with_a_profile_key():
    for it in scorecard.REGISTRY:
        assert it.chapter in scorecard.CHAPTER_NOTEBOOKS, it
        assert it.kind in ("claim", "table cell", "figure")
        assert it.paper and it.statement and it.where


def test_chapter_notebooks_match_the_toc_slots():
    toc = (ROOT / "_toc.yml").read_text()
    for name in scorecard.CHAPTER_NOTEBOOKS.values():
        assert f"notebooks/{name}" in toc, name
    for chapter, name in scorecard.CHAPTER_NOTEBOOKS.items():
        assert pipeline.chapter_name(Path(name + ".md")) == chapter


def test_table_cells_carry_the_numbers_printed_in_the_paper():
    """Each table value in the registry occurs in the paper's own table rows."""
    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    text = PAPER.read_text()
    rows = {line.split("\t")[0].strip(): line.split("\t")[1:] for line in text.splitlines() if "\t" in line}
    for model in ("AE", "CAE"):
        got = [scorecard.item(f"table1.{model}.{a}").paper for a in ("relu", "relu_wl", "sigmoid", "sigmoid_wl")]
        assert got == [c.strip() for c in rows[model]]
    for model, label in (("tied", "CVF=Tied AE"), ("untied", "CVF=Untied AE")):
        got = [scorecard.item(f"table2.{model}.b{b}").paper for b in scorecard.BETAS]
        assert got == [c.strip() for c in rows[label]]
    assert [c.strip() for c in rows["β"]] == list(scorecard.BETAS)


def test_item_values_parse_percentages_and_fractions():
    assert scorecard.item("table1.AE.relu").value == pytest.approx(95.9)
    assert scorecard.item("table1.AE.relu").percent
    assert scorecard.item("table2.tied.b0.6").value == pytest.approx(0.98838)
    assert not scorecard.item("table2.tied.b0.6").percent
    assert scorecard.item("prop1").value is None
    with pytest.raises(KeyError, match="no scorecard item 'table3"):
        scorecard.item("table3.x")


# ----------------------------------------------------------------------------- joining
def test_rows_of_chapters_without_results_say_not_run(tmp_path):
    rows = scorecard.collect("paper", summaries={}, root=ROOT)
    assert [r.item.id for r in rows] == CONTRIBUTING_IDS
    assert all(r.verdict == scorecard.NOT_RUN and r.reason for r in rows)
    # with no chapter sources at all (the package installed in Colab), nothing is "not written"
    rows = scorecard.collect("paper", summaries={}, root=tmp_path)
    assert {r.status for r in rows} == {"not run"}


def test_unwritten_chapters_are_distinguished_from_unrun_ones(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_conservative_autoencoders.md").write_text("# Title one\n")
    rows = {r.item.id: r for r in scorecard.collect("smoke", summaries={}, root=tmp_path)}
    assert rows["prop1"].status == "not run" and "has not run under profile 'smoke'" in rows["prop1"].reason
    assert rows["fig5"].status == "not written" and "not written yet" in rows["fig5"].reason


def test_recorded_claims_fill_their_rows_and_missing_ones_say_so():
    summaries = {"mnist_symmetricity": {"claims": [_claim("table1.AE.relu", ours=0.95, spread=0.002, n_seeds=3,
                                                            verdict="partly", paper=0.959)]}}
    rows = {r.item.id: r for r in scorecard.collect("paper", summaries=summaries, root=ROOT)}
    r = rows["table1.AE.relu"]
    assert r.status == "ok" and r.verdict == "partly" and r.reason == "because"
    assert rows["table1.CAE.relu"].status == "not recorded"
    assert "recorded no result" in rows["table1.CAE.relu"].reason
    assert scorecard.tally(list(rows.values())) == {"reproduced": 0, "partly": 1, "not reproduced": 0,
                                                     "not run": len(CONTRIBUTING_IDS) - 1}


def test_duplicate_ids_are_problems_and_extra_ids_are_shown_apart():
    summaries = {"curl_2d": {"claims": [_claim("fig3"), _claim("fig3"), _claim("fig3.control.tied")]}}
    rows = scorecard.collect("paper", summaries=summaries, root=ROOT)
    problems = scorecard.problems(rows)
    assert any(p.startswith("fig3:") and "more than once" in p for p in problems)
    assert not any("control" in p for p in problems)
    assert [r.item.id for r in scorecard.extra_rows(rows)] == ["fig3.control.tied"]
    assert [r.item.id for r in scorecard.paper_rows(rows)] == CONTRIBUTING_IDS
    assert scorecard.tally(rows)["reproduced"] == 1  # the control does not count


def test_a_claim_recorded_by_the_wrong_chapter_is_flagged():
    rows = scorecard.collect("paper", summaries={"curl_2d": {"claims": [_claim("prop1")]}}, root=ROOT)
    assert any("recorded by chapter curl_2d" in p for p in scorecard.problems(rows))


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile must be one of smoke, paper, full; got 'papr'"):
        scorecard.collect("papr", summaries={})


def test_collect_reads_the_summaries_the_chapters_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    results.save_summary("hodge_2d", "smoke", {"claims": [_claim("fig4.untied", ours="error 0.4", verdict="not reproduced")]})
    rows = {r.item.id: r for r in scorecard.collect("smoke", root=ROOT)}
    assert rows["fig4.untied"].verdict == "not reproduced"
    assert rows["fig4.untied"].claim["ours"] == "error 0.4"
    assert rows["fig4.tied"].status == "not recorded"
    assert rows["fig5"].claim is None
    # the other profile's results are not mixed in
    assert all(r.claim is None for r in scorecard.collect("paper", root=ROOT) if r.item.chapter == "hodge_2d")


# ----------------------------------------------------------------------------- formatting
def test_ours_shows_mean_spread_and_seeds_in_the_papers_units():
    percent_fraction = {"mnist_symmetricity": {"claims": [
        _claim("table1.AE.relu", ours=0.9512, spread=0.0031, n_seeds=3, paper=0.959),
        _claim("table1.AE.sigmoid", ours=95.12, spread=0.31, n_seeds=1, paper=95.1)]},
        "mnist_conservative_part": {"claims": [_claim("table2.tied.b0.6", ours=0.98762, spread=None, n_seeds=None)]}}
    rows = {r.item.id: r for r in scorecard.collect("paper", summaries=percent_fraction, root=ROOT)}
    assert scorecard.format_ours(rows["table1.AE.relu"]) == "95.1 % ± 0.31 % (n = 3 seeds)"
    assert scorecard.format_ours(rows["table1.AE.sigmoid"]) == "95.1 % ± 0.31 % (n = 1 seed)"
    assert scorecard.format_ours(rows["table2.tied.b0.6"]) == "0.9876"
    assert scorecard.format_ours(rows["prop1"]) == "—"


def test_markdown_table_has_one_line_per_row_and_escapes_cell_text():
    summaries = {"conservative_autoencoders": {"claims": [
        _claim("prop1", ours="a | b $x$ *y*", section="sec-here", data="random [0, 1]^D")]}}
    rows = scorecard.collect("paper", summaries=summaries, root=ROOT)
    md = scorecard.render_markdown(rows, links={"conservative_autoencoders": {"sec-here"}}, titles={})
    assert md.startswith(":::{div} scorecard full-width\n") and md.rstrip().endswith(":::")
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + len(rows)
    assert all(line.count(" | ") == 5 for line in lines[2:])  # no cell breaks out of its column
    prop1 = next(line for line in lines if line.startswith("| `prop1`"))
    assert r"a \| b \$x\$ \*y\*" in prop1
    assert "(#sec-here)" in prop1
    assert "profile `paper`" in prop1


def test_links_only_to_labels_of_chapters_in_the_book():
    summaries = {"conservative_autoencoders": {"claims": [_claim("prop1", section="sec-missing")]}}
    rows = scorecard.collect("paper", summaries=summaries, root=ROOT)
    md = scorecard.render_markdown(rows, links={"conservative_autoencoders": {"sec-here"}}, titles={})
    assert "(#sec-missing)" not in md
    links = scorecard.linkable_labels(ROOT)
    assert "sec-cons-survey" in links["conservative_autoencoders"]
    for chapter in links:
        assert f"notebooks/{scorecard.CHAPTER_NOTEBOOKS[chapter]}" in scorecard.toc_files(ROOT)


def test_toc_files_ignore_commented_slots(tmp_path):
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: a/b\n  # @02 - file: c/d\n")
    assert scorecard.toc_files(tmp_path) == {"a/b"}


def test_tally_sentence_and_provenance():
    summaries = {"conservative_autoencoders": {"claims": [_claim("prop1", data="d1"), _claim("prop2", data="d1"),
                                                          _claim("cor1", data="d2", n_seeds=3)]}}
    rows = scorecard.collect("paper", summaries=summaries, root=ROOT)
    sentence = scorecard.render_tally(scorecard.tally(rows))
    assert sentence.startswith(f"{len(CONTRIBUTING_IDS)} items of the paper: 3 reproduced")
    (prov,) = scorecard.provenance(rows, titles={"conservative_autoencoders": "Chapter one"})
    assert prov == {"chapter": "Chapter one", "profile": "paper", "data": "d1; d2", "seeds": "3", "items": "3"}


# ----------------------------------------------------------------------------- the page and the pipeline
def test_scorecard_profile_table_exists_for_every_profile():
    for p in profiles.PROFILES:
        assert profiles.configure("scorecard", p).results_profile == p


def test_pipeline_digest_of_the_scorecard_follows_the_summaries(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    src = ROOT / "notebooks" / "90_scorecard.md"
    params = {"profile": "smoke"}
    first = pipeline.inputs_digest(src, params)
    assert "summaries_sha" in first
    results.save_summary("curl_2d", "smoke", {"claims": [_claim("fig3")]})
    second = pipeline.inputs_digest(src, params)
    assert second["summaries_sha"] != first["summaries_sha"]
    results.save_summary("curl_2d", "paper", {"claims": [_claim("fig3", ours=1)]})  # another profile
    assert pipeline.inputs_digest(src, params)["summaries_sha"] == second["summaries_sha"]
    results.save_summary("scorecard", "smoke", {"x": 1})  # its own folder does not count
    assert pipeline.inputs_digest(src, params)["summaries_sha"] == second["summaries_sha"]


def test_chapters_that_do_not_read_summaries_keep_their_digest_keys():
    digest = pipeline.inputs_digest(ROOT / "notebooks" / "01_conservative_autoencoders.md", {"profile": "paper"})
    assert "summaries_sha" not in digest


def test_committed_scorecard_page_covers_every_item():
    nb = json.loads((ROOT / "book" / "notebooks" / "90_scorecard.ipynb").read_text())
    text = "".join("".join(o.get("data", {}).get("text/markdown", ""))
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    ids = re.findall(r"^\| `([^`]+)`", text, flags=re.M)
    assert ids[: len(CONTRIBUTING_IDS)] == CONTRIBUTING_IDS


def test_results_are_read_from_the_repository_whatever_the_current_folder(tmp_path, monkeypatch):
    """nbval re-executes a notebook in its own folder: the scorecard must read the same results."""
    monkeypatch.delenv("CONSERVAE_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert scorecard.results_base(ROOT) == ROOT / "results"
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path / "elsewhere"))
    assert scorecard.results_base(ROOT) == tmp_path / "elsewhere"
    monkeypatch.delenv("CONSERVAE_RESULTS")
    # an installed package without the book's sources: the current folder's results/
    assert scorecard.results_base(tmp_path / "site-packages") == tmp_path / "results"


def test_pipeline_digest_of_the_scorecard_follows_the_table_of_contents(tmp_path):
    """The scorecard links only to chapters in _toc.yml: changing it makes the page stale."""
    import shutil

    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "90_scorecard.md", tmp_path / "notebooks")
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: notebooks/90_scorecard\n")
    src, params = tmp_path / "notebooks" / "90_scorecard.md", {"profile": "paper"}
    before = pipeline.summaries_digest(src, params, tmp_path)
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: notebooks/01_x\n  - file: notebooks/90_scorecard\n")
    assert pipeline.summaries_digest(src, params, tmp_path) != before
