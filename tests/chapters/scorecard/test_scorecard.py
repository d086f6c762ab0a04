"""The reproduction scorecard: built from the ledger, refuses summaries it must not show, exports a
documented scorecard.json, and its table is what the chapters saved (scorecard_data: the rows,
scorecard_sources: the book's sources, scorecard: the page's tables, sentences and glued values)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conservae_lib.foundations import files
from conservae_lib.claims import ledger
from conservae_lib.tooling import pipeline, profiles, staleness
from conservae_lib.presentation import results
from conservae_lib.chapters.scorecard import scorecard
from conservae_lib.chapters.scorecard import rows as data
from conservae_lib.chapters.scorecard import sources as sources
from conservae_lib.chapters.scorecard import findings, words

ROOT = Path(__file__).resolve().parents[3]
PAPER = ROOT.parent / "shared" / "paper" / "conservativeness_of_untied_autoencoders.md"
IDS = ledger.ids()
COUNTED = sum(ledger.claim(i).counted for i in IDS)  # claims that repeat another's number count once, there


def _rec(id, values=(0.5, 0.5), **kw):
    """A record as a chapter saves it (the rule decides the verdict)."""
    return ledger.judge(id, list(values), data=kw.pop("data", "some data"), section=kw.pop("section", "sec-x"), **kw)


def _summary(*claims, chapter=None, profile="paper", **params):
    out = {"claims": list(claims)}
    if chapter:
        table = profiles.profile_table(chapter, profile)
        table.update(params)
        out["provenance"] = results.provenance(chapter, profile, table, "some data")
    return out


# ----------------------------------------------------------------------------- the registry
def test_registry_is_the_ledger():
    assert [c.id for c in data.REGISTRY] == IDS + ledger.finding_ids()
    assert ledger.claim("table1.AE.relu") is ledger.CLAIMS["table1.AE.relu"]
    with pytest.raises(KeyError, match="not a claim registered"):
        ledger.claim("table3.x")


def test_chapter_notebooks_match_the_toc_slots():
    toc = (ROOT / "_toc.yml").read_text()
    for name in sources.CHAPTER_NOTEBOOKS.values():
        assert f"notebooks/{name}" in toc, name
    for chapter, name in sources.CHAPTER_NOTEBOOKS.items():
        assert pipeline.chapter_name(Path(name + ".md")) == chapter


def test_ledger_tables_carry_the_numbers_printed_in_the_paper():
    """Each table value in the ledger occurs in the paper's own table rows."""
    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    text = PAPER.read_text()
    rows = {line.split("\t")[0].strip(): line.split("\t")[1:] for line in text.splitlines() if "\t" in line}
    for model in ("AE", "CAE"):
        got = [ledger.CLAIMS[f"table1.{model}.{a}"].paper for a in ledger.TABLE1_COLUMNS]
        assert got == pytest.approx([float(c.strip().rstrip("%")) / 100 for c in rows[model]])
    for model, label in (("tied", "CVF=Tied AE"), ("untied", "CVF=Untied AE")):
        got = [ledger.CLAIMS[f"table2.{model}.b{b}"].paper for b in data.BETAS]
        assert got == [float(c) for c in rows[label]]
    assert [c.strip() for c in rows["β"]] == list(data.BETAS)


def test_scorecard_modules_type_none_of_the_papers_numbers():
    paths = sorted((ROOT / "conservae_lib" / "chapters" / "scorecard").glob("*.py"))
    assert len(paths) == 8, "the scorecard's modules moved: update this test"
    for path in paths:
        text = path.read_text()
        for n in ("95.9", "0.959", "0.98838", "0.9968", "0.951", "0.974"):
            assert n not in text, f"{path.name} types the paper's number {n}"


# ----------------------------------------------------------------------------- joining
def test_claims_of_chapters_not_run_are_not_tested_with_the_reason(tmp_path):
    rows = data.collect("paper", summaries={}, root=ROOT)
    assert [r.id for r in rows] == IDS + ledger.finding_ids()
    assert all(r.verdict == ledger.NOT_TESTED and r.reason == data.NOT_RUN for r in rows)
    rows = data.collect("paper", summaries={}, root=tmp_path)  # installed package: no sources
    assert {r.status for r in rows} == {"not run"}


def test_unwritten_chapters_are_distinguished_from_unrun_ones(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_conservative_autoencoders.md").write_text("# Title one\n")
    rows = {r.id: r for r in data.collect("smoke", summaries={}, root=tmp_path)}
    assert rows["prop1"].status == "not run" and rows["prop1"].reason == "chapter not run"
    assert rows["fig5"].status == "not written" and rows["fig5"].verdict == ledger.NOT_TESTED


def test_recorded_claims_fill_their_rows_and_missing_ones_are_problems():
    summaries = {"mnist_symmetricity": _summary(_rec("table1.AE.relu", [0.958, 0.959, 0.960]))}
    rows = {r.id: r for r in data.collect("paper", summaries=summaries, root=ROOT)}
    r = rows["table1.AE.relu"]
    assert r.status == "ok" and r.verdict == ledger.REPRODUCED
    assert rows["table1.CAE.relu"].status == "not recorded"
    assert "recorded no result" in rows["table1.CAE.relu"].reason
    assert any(p.startswith("table1.CAE.relu:") for p in data.problems(list(rows.values())))
    counts = data.tally(list(rows.values()))
    assert counts[ledger.REPRODUCED] == 1 and sum(counts.values()) == COUNTED < len(IDS)


def test_unknown_ids_and_duplicates_are_problems_and_readings_are_shown_apart():
    summaries = {"curl_2d": _summary(_rec("fig3", [0.05, 0.06]), _rec("fig3", [0.05, 0.06]),
                                     {"id": "fig3.control.tied", "verdict": ledger.REPRODUCED},
                                     _rec("fig3", [0.9, 0.9], reading="far-from-data"))}
    rows = data.collect("paper", summaries=summaries, root=ROOT)
    problems = data.problems(rows)
    assert any(p.startswith("fig3:") and "more than once" in p for p in problems)
    assert any(p.startswith("fig3.control.tied:") and "not registered" in p for p in problems)
    assert [r.id for r in data.extra_rows(rows)] == ["fig3.control.tied", "fig3"]
    assert [r.id for r in data.paper_rows(rows)] == IDS
    assert data.tally(rows)[ledger.REPRODUCED] == 1  # the extras do not count


def test_uninformative_never_counts_as_reproduced():
    rec = _rec("table2.tied.b1.0", [1.0, 1.0, 1.0], control=[1.0, 1.0, 1.0])
    rows = data.collect("paper", summaries={"mnist_conservative_part": _summary(rec)}, root=ROOT)
    counts = data.tally(rows)
    assert counts[ledger.UNINFORMATIVE] == 1 and counts[ledger.REPRODUCED] == 0
    assert "uninformative" in scorecard.render_tally(counts)


def test_a_claim_recorded_by_the_wrong_chapter_is_flagged():
    rows = data.collect("paper", summaries={"curl_2d": _summary(_rec("prop2", [0.0]))}, root=ROOT)
    assert any("recorded by chapter curl_2d" in p for p in data.problems(rows))


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile must be one of smoke, paper, full; got 'papr'"):
        data.collect("papr", summaries={})


def test_collect_reads_the_summaries_the_chapters_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    cfg = profiles.configure("hodge_2d", "smoke")
    results.save_summary(cfg, {"claims": [_rec("fig4.untied", [1.0, 1.0])]})
    rows = {r.id: r for r in data.collect("smoke", root=ROOT)}
    assert rows["fig4.untied"].verdict == ledger.NOT_REPRODUCED
    assert rows["fig4.untied"].origin["recorded"] and rows["fig4.untied"].origin["profile"] == "smoke"
    assert rows["fig4.tied"].status == "not recorded"
    assert rows["fig5"].status == "not run"
    assert all(r.status == "not run" for r in data.collect("paper", root=ROOT) if r.chapter == "hodge_2d")


# ----------------------------------------------------------------------------- refusing summaries
@pytest.mark.parametrize("content, problem", [
    ([1, 2, 3], "a JSON object was expected, found a list"),
    ({"claims": "prop1"}, "'claims' must be a list"),
    ({"claims": ["prop1"]}, "claim 1 is a string"),
    ({"claims": [{"id": "prop1"}]}, "claim 'prop1' has no verdict"),
    ({"claims": [{"id": "prop1", "verdict": "maybe"}]}, "not one of"),
    ({"claims": [{"verdict": "partly"}]}, "claim 1 has no id"),
    ({"claims": []}, "records no parameters"),
    ({"claims": [], "provenance": "paper"}, "records no parameters"),
    ({"claims": [], "provenance": {"chapter": "curl_2d", "profile": "paper", "parameters": None}}, "records no parameters"),
])
def test_a_malformed_summary_is_named_with_its_problem(tmp_path, monkeypatch, content, problem):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    path = tmp_path / "paper" / "curl_2d" / "summary.json"
    files.save_json(path, content)
    with pytest.raises(data.SummaryError) as err:
        data.collect("paper", root=ROOT)
    msg = str(err.value)
    assert str(path) in msg and problem in msg and "\n" not in msg


def test_a_summary_made_with_overrides_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    path = tmp_path / "smoke" / "conservative_autoencoders" / "summary.json"
    files.save_json(path, _summary(_rec("prop2", [0.0]), chapter="conservative_autoencoders", profile="smoke", seed=3))
    with pytest.raises(data.SummaryError, match=re.escape(str(path)) + ".*not the published 'smoke' profile's \\(seed\\)"):
        data.collect("smoke", root=ROOT)
    # the same summary with the profile's own parameters is shown
    files.save_json(path, _summary(_rec("prop2", [0.0]), chapter="conservative_autoencoders", profile="smoke"))
    assert {r.id: r for r in data.collect("smoke", root=ROOT)}["prop2"].status == "ok"


def test_a_summary_of_another_profile_in_this_profiles_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    path = tmp_path / "paper" / "conservative_autoencoders" / "summary.json"
    files.save_json(path, _summary(chapter="conservative_autoencoders", profile="smoke"))
    with pytest.raises(data.SummaryError, match="under profile 'smoke'"):
        data.collect("paper", root=ROOT)


# ----------------------------------------------------------------------------- formatting
def test_ours_is_in_the_papers_unit_with_spread_and_seeds():
    rows = {r.id: r for r in data.collect("paper", summaries={
        "mnist_symmetricity": _summary(_rec("table1.AE.relu", [0.95, 0.955, 0.945]),
                                       _rec("wl-higher", [True, True, False, True], n_seeds=1),
                                       _rec("fig2", [True] * 23 + [False], n_seeds=3)),
        "conservative_autoencoders": _summary(_rec("prop2", [3e-11])),
        "mnist_conservative_part": _summary(_rec("table2.tied.b0.6", [0.98762]))}, root=ROOT)}
    ours = {i: words.ours_text(r.record, r.claim) for i, r in rows.items()}
    assert words.paper_text(rows["table1.AE.relu"].claim) == "95.9 %"
    assert ours["table1.AE.relu"] == "95 % ± 0.5 pp (3 seeds)"
    assert ours["table2.tied.b0.6"] == "98.8 % (1 seed)"  # a fraction of images, in percent
    assert words.paper_text(rows["table2.tied.b0.6"].claim) == "98.84 %"
    assert ours["wl-higher"] == "3 of 4 cases (1 seed)"
    assert ours["fig2"] == "23 of 24 cases (3 seeds)"
    assert ours["prop2"] == "largest residual 3.0 × 10⁻¹¹"
    assert words.paper_text(rows["prop1"].claim) == "stated in words" and ours["prop1"] == "—"
    assert "e-" not in "".join(ours.values())  # no raw exponent notation for a reader


def test_markdown_table_has_one_line_per_row_escapes_and_folds_the_provenance():
    rec = _rec("prop2", [0.0], section="sec-here", data="random | [0, 1]^D $x$")
    summaries = {"conservative_autoencoders": _summary(rec, chapter="conservative_autoencoders")}
    rows = data.paper_rows(data.collect("paper", summaries=summaries, root=ROOT))
    md = scorecard.render_markdown(rows, links={"conservative_autoencoders": {"sec-here", "chap-c"}}, titles={})
    assert md.startswith("**[") and ":::{div} scorecard scorecard-claims\n" in md and md.rstrip().endswith(":::")
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(lines) == 2 * len({r.chapter for r in rows}) + len(rows)  # a table per chapter
    assert all(line.replace("\\|", "").count("|") == 5 for line in lines)  # four columns, nothing breaks out
    prop2 = next(line for line in lines if "claim id `prop2`" in line)
    assert prop2.startswith("| **Proposition 2") and "[evidence](#sec-here)" in prop2
    assert '<span class="verdict verdict-reproduced">reproduced</span>' in prop2
    fold = prop2[prop2.index("<details>"):prop2.index("</details>")]  # the machine detail, one click away
    assert "data: random \\| \\[0, 1\\]^D \\$x\\$" in fold and "profile paper" in fold and "commit `" in fold
    assert "rule: " in fold and "the ledger's reason: " in fold


def test_a_second_data_set_is_shown_beside_ours():
    paper = {"mnist_symmetricity": _summary(_rec("table1.AE.relu", [0.81, 0.82]))}
    full = {"mnist_symmetricity": _summary(_rec("table1.AE.relu", [0.958, 0.96]))}
    rows = data.collect("paper", summaries=paper, root=ROOT, other={"full": full})
    row = {r.id: r for r in rows}["table1.AE.relu"]
    assert row.verdict == ledger.NOT_REPRODUCED and row.other["full"]["verdict"] == ledger.REPRODUCED
    md = scorecard.render_markdown(data.paper_rows(rows), links={}, titles={})
    line = next(line for line in md.splitlines() if "claim id `table1.AE.relu`" in line)
    assert "<br>full <abbr" in line and "95.9 % ± 0.14 pp (2 seeds)" in line


def test_links_only_to_labels_of_chapters_in_the_book():
    rows = data.collect("paper", summaries={"conservative_autoencoders": _summary(
        _rec("prop2", [0.0], section="sec-missing"))}, root=ROOT)
    md = scorecard.render_markdown(rows, links={"conservative_autoencoders": {"sec-here"}}, titles={})
    assert "(#sec-missing)" not in md
    links = sources.linkable_labels(ROOT)
    assert "sec-cons-survey" in links["conservative_autoencoders"]
    for chapter in links:
        assert f"notebooks/{sources.CHAPTER_NOTEBOOKS[chapter]}" in sources.toc_files(ROOT)


def test_extras_fold_readings_with_human_labels_and_controls_go_to_the_details():
    summaries = {"mnist_conservative_part": _summary(
        _rec("table2.tied.b1.0", [1.0, 1.0], control=[1.0, 1.0]),
        _rec("recover-93", [0.98, 0.99], reading="table-beta"))}
    rows = data.collect("paper", summaries=summaries, root=ROOT)
    md = scorecard.render_extras(rows, links={}, titles={})
    assert md.startswith("::::{dropdown} ") and "reading β in Table 2's convention" in md and "table-beta" in md
    assert md.count("<details>") == 1  # the reading's id is in its folded details only
    claims = scorecard.render_markdown(data.paper_rows(rows), links={}, titles={})
    assert "control: 100 %" in claims
    assert scorecard.render_extras(data.collect("paper", summaries={}, root=ROOT), links={}, titles={}) == ""


def test_toc_files_ignore_commented_slots(tmp_path):
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: a/b\n  # @02 - file: c/d\n")
    assert sources.toc_files(tmp_path) == {"a/b"}


def test_tally_sentence_and_provenance():
    summaries = {"conservative_autoencoders": _summary(_rec("prop2", [0.0], data="d1"), _rec("cor1", [0.0], data="d2"),
                                                       chapter="conservative_autoencoders")}
    rows = data.collect("paper", summaries=summaries, root=ROOT)
    sentence = scorecard.render_tally(data.tally(rows))
    assert sentence.startswith(f"{COUNTED} claims of the paper, each number counted once: 2 reproduced")
    (prov,) = scorecard.provenance(rows, titles={"conservative_autoencoders": "Chapter one"})
    assert prov["chapter"] == "Chapter one" and prov["data"] == "d1; d2" and prov["records"] == "2"
    assert prov["commit"] != "not recorded"


# ----------------------------------------------------------------------------- scorecard.json
def test_export_validates_and_a_broken_export_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    summaries = {"conservative_autoencoders": _summary(_rec("prop2", [0.0]), chapter="conservative_autoencoders")}
    rows = data.collect("paper", summaries=summaries, root=ROOT)
    path = data.export(rows, "paper", ROOT)
    assert path == tmp_path / "paper" / "scorecard.json"
    obj = json.loads(path.read_text())
    assert data.validate_export(obj) == []
    assert obj["format"] == ledger.SCORECARD_FORMAT and [c["id"] for c in obj["claims"]] == IDS
    assert obj["claims"][IDS.index("prop2")]["provenance"]["commit"] == summaries["conservative_autoencoders"]["provenance"]["commit"]
    broken = dict(obj, claims=obj["claims"][1:])
    assert data.validate_export(broken)
    assert data.validate_export([])
    bad_verdict = json.loads(path.read_text())
    bad_verdict["claims"][0]["verdict"] = "maybe"
    assert any("verdict" in p for p in data.validate_export(bad_verdict))


def test_ledger_docstring_documents_the_export_format():
    text = ledger.__doc__
    assert ledger.SCORECARD_FORMAT in text
    for key in (*ledger.RECORD_KEYS, "status", "provenance", "tally", "extras", "other_datasets"):
        assert f"`{key}`" in text, key


# ----------------------------------------------------------------------------- the published results
def _published_summaries():
    base = ROOT / "results" / "paper"
    return {ch: files.load_json(base / ch / "summary.json") for ch in sources.CHAPTER_NOTEBOOKS
            if (base / ch / "summary.json").exists()}


def test_published_summaries_hold_only_ledger_ids():
    for chapter, summary in _published_summaries().items():
        unknown = [c.get("id") for c in summary.get("claims", []) if c.get("id") not in ledger.CLAIMS]
        assert not unknown, f"results/paper/{chapter}/summary.json holds ids the ledger does not know: {unknown}"


def test_every_registered_claim_has_a_verdict_in_the_published_summaries():
    summaries = _published_summaries()
    missing = []
    for cl in ledger.CLAIMS.values():
        recs = [c for c in (summaries.get(cl.chapter) or {}).get("claims", []) if c.get("id") == cl.id]
        if not any(c.get("verdict") in ledger.VERDICTS and not c.get("reading") for c in recs):
            missing.append(cl.id)
    assert not missing, f"registered claims without a verdict in results/paper: {missing}"


def test_published_scorecard_json_validates():
    path = ROOT / "results" / "paper" / "scorecard.json"
    assert path.exists(), "results/paper/scorecard.json is written by the scorecard page (90)"
    assert data.validate_export(json.loads(path.read_text())) == []


# ----------------------------------------------------------------------------- the page and the pipeline
def test_scorecard_profile_table_exists_for_every_profile():
    for p in profiles.PROFILES:
        assert profiles.configure("scorecard", p).results_profile == p


def test_pipeline_digest_of_the_scorecard_follows_the_summaries(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    src = ROOT / "notebooks" / "90_scorecard.md"
    params = {"profile": "smoke"}
    first = staleness.inputs_digest(src, params)
    assert "summaries_sha" in first
    results.save_summary(profiles.configure("curl_2d", "smoke"), {"claims": [_rec("fig3")]})
    second = staleness.inputs_digest(src, params)
    assert second["summaries_sha"] != first["summaries_sha"]
    results.save_summary(profiles.configure("curl_2d", "paper"), {"claims": [_rec("fig3", [1.0])]})
    assert staleness.inputs_digest(src, params)["summaries_sha"] == second["summaries_sha"]


def test_chapters_that_do_not_read_summaries_keep_their_digest_keys():
    digest = staleness.inputs_digest(ROOT / "notebooks" / "01_conservative_autoencoders.md", {"profile": "paper"})
    assert "summaries_sha" not in digest


def test_chapter_04_depends_on_its_own_full_summary_not_on_every_chapters_summary():
    """Chapter 04 reads results/full/mnist_symmetricity/summary.json (declared in its front matter):
    re-running another chapter must not make it stale (it once did, through a regex on ``load_summary``)."""
    digest = staleness.inputs_digest(ROOT / "notebooks" / "04_mnist_symmetricity.md", {"profile": "paper"})
    assert "summaries_sha" not in digest and "inputs_sha" in digest


def test_committed_scorecard_page_covers_every_claim():
    nb = json.loads((ROOT / "book" / "notebooks" / "90_scorecard.ipynb").read_text())
    text = "".join("".join(o.get("data", {}).get("text/markdown", ""))
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    ids = re.findall(r"claim id `([^`]+)`(?!, reading)", text)
    assert ids[: len(IDS)] == IDS


def test_results_are_read_from_the_repository_whatever_the_current_folder(tmp_path, monkeypatch):
    """nbval re-executes a notebook in its own folder: the scorecard must read the same results."""
    monkeypatch.delenv("CONSERVAE_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert data.results_base(ROOT) == ROOT / "results"
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path / "elsewhere"))
    assert data.results_base(ROOT) == tmp_path / "elsewhere"
    monkeypatch.delenv("CONSERVAE_RESULTS")
    assert data.results_base(tmp_path / "site-packages") == tmp_path / "results"


def test_pipeline_digest_of_the_scorecard_follows_the_table_of_contents(tmp_path):
    """The scorecard links only to chapters in _toc.yml: changing it makes the page stale."""
    import shutil

    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "90_scorecard.md", tmp_path / "notebooks")
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: notebooks/90_scorecard\n")
    src, params = tmp_path / "notebooks" / "90_scorecard.md", {"profile": "paper"}
    before = staleness.summaries_digest(src, params, tmp_path)
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: notebooks/01_x\n  - file: notebooks/90_scorecard\n")
    assert staleness.summaries_digest(src, params, tmp_path) != before


# ----------------------------------------------------------------------------- the page's functions
def _page_rows(**summaries):
    """Rows with chapter 01's four claims recorded (one reproduced, one uninformative), or ``summaries``."""
    return data.collect("paper", summaries=summaries or {"conservative_autoencoders": _summary(
        _rec("prop2", [0.0], data="d1"), _rec("cor1", [0.0], control=[2e-16]), _rec("prop1", [1.0]),
        _rec("tied-strict", [1.0]), chapter="conservative_autoencoders")}, root=ROOT)


def test_collect_is_the_pages_entry_point():
    """Page 90 reads the summaries with ``scorecard.collect(`` (what the pipeline looks for)."""
    assert scorecard.collect is data.collect
    assert "scorecard.collect(" in (ROOT / "notebooks" / "90_scorecard.md").read_text()


def test_prepare_page_exports_checks_and_tallies(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    rows = _page_rows()
    page = scorecard.prepare_page(rows, "paper", ROOT)
    assert page.export_path == tmp_path / "paper" / "scorecard.json" and page.export_path.exists()
    assert page.counts == data.tally(rows) and page.rows == rows and page.profile == "paper"
    assert [o["records"] for o in page.origin] == ["4"] and page.titles == sources.chapter_titles(ROOT)


def test_prepare_page_fails_naming_the_id_of_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    rows = _page_rows(curl_2d=_summary(_rec("fig3", [0.05, 0.06]), _rec("fig3", [0.05, 0.06])))
    with pytest.raises(AssertionError, match="fig3: .*more than once"):
        scorecard.prepare_page(rows, "paper", ROOT)
    with pytest.raises(AssertionError, match="ledger's ids"):
        data.check(data.paper_rows(rows)[1:], "paper")


def test_glue_values_glues_what_the_landing_page_cites(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    glued = {}
    monkeypatch.setattr(scorecard, "glue", lambda name, value, display=True: glued.setdefault(name, value))
    page = scorecard.prepare_page(_page_rows(), "paper", ROOT)
    scorecard.glue_values(page)
    assert glued["profile"] == "paper" and glued["n_items"] == COUNTED and glued["n_chapters_run"] == 1
    assert glued["n_reproduced"] == 1 and glued["n_uninformative"] == 1 and "n_not_tested" in glued
    assert glued["n_not_run"] == sum(r.status == "not run" for r in data.paper_rows(page.rows))
    assert list(glued["provenance"].index) == [page.titles["conservative_autoencoders"]]
    assert all(f"finding_{ch}" in glued for ch in scorecard.CHAPTER_NOTEBOOKS)


def test_show_functions_print_and_display_the_sections(tmp_path, monkeypatch, capsys):
    import IPython.display

    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    page = scorecard.prepare_page(_page_rows(), "paper", ROOT)
    scorecard.show_tally(page)
    scorecard.show_claims(page)
    scorecard.show_extras(page)
    assert capsys.readouterr().out == "No chapter records other readings under this profile.\n"
    assert shown[0].startswith(scorecard.render_tally(page.counts)) and "| **all claims** |" in shown[0]
    assert shown[1] == scorecard.render_markdown(data.paper_rows(page.rows), titles=page.titles)
    assert scorecard.show_provenance(page).equals(scorecard.provenance_frame(page.origin, "paper"))


def test_show_functions_say_when_there_is_nothing_to_show(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    page = scorecard.prepare_page(data.collect("paper", summaries={}, root=ROOT), "paper", ROOT)
    scorecard.show_extras(page)
    assert scorecard.show_provenance(page) is None
    assert capsys.readouterr().out.splitlines() == [
        "No chapter records other readings under this profile.",
        "No chapter has saved results under this profile yet."]
    assert list(scorecard.provenance_frame([], "paper").index) == ["none yet"]


# ----------------------------------------------------------------------------- the findings in words
def test_a_chapters_finding_names_what_holds_what_does_not_with_both_values_and_what_cannot_be_decided():
    summaries = {"mnist_symmetricity": _summary(
        _rec("table1.AE.relu", [0.81, 0.81, 0.812]), _rec("table1.AE.sigmoid", [0.951, 0.951, 0.951]),
        _rec("fig2.plateau.AE", [0.951, 0.951, 0.951]), _rec("fig1", [0.67, 0.66, 0.68], control=[0.67]),
        _rec("wl-higher", [True] * 12, n_seeds=3), _rec("wl-curvature", [0.2, 0.21], control=[0.6]))}
    rows = data.collect("paper", summaries=summaries, root=ROOT)
    text = scorecard.chapter_finding(rows, "mnist_symmetricity")
    assert text.startswith("Table 1, 8 cells: 1 holds, 1 does not hold (ours 14.8 percentage points below the paper's), "
                           "6 are not tested.")
    assert "Holds: " + words.expand(ledger.claim("wl-higher").statement) in text
    assert "Does not hold: " + words.expand(ledger.claim("wl-curvature").statement) + " (ours 20.5 %" in text
    assert "Cannot be decided: " in text and "a control (the same at initialisation)" in text
    assert "Why: " in text and "does better than ours" in text
    assert "fig2.plateau" not in text and "Figure 2a, 'Empirical" not in text  # a repeated number is not counted twice
    assert not words.abbreviations(text) - {"MNIST"}  # plain words: the abbreviations are spelled out
    assert scorecard.chapter_finding(rows, "curl_2d") == "Not run yet under this profile (1 claims wait for it)."
    md = findings.part_finding(rows, "mnist_symmetricity", markdown=True, link="sec-x")
    assert md.endswith("(#sec-x)") and "<abbr title=" in md
