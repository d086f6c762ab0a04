"""The readers of what the book's runs recorded: chapter timings from the notebooks' metadata,
training times and claims from the summaries, and a whole-book device record."""
from __future__ import annotations

import json

import pytest

from conservae_lib.chapters.performance import book_runs


def _notebook(path, meta: dict | None = None) -> None:
    path.write_text(json.dumps({"cells": [], "metadata": meta or {}, "nbformat": 4, "nbformat_minor": 5}))


def test_chapter_timings_read_the_pipeline_metadata(tmp_path):
    _notebook(tmp_path / "02_x.ipynb", {"conservae": {"parameters": {"profile": "paper"},
                                                      "timing": {"wall_s": 12.5, "device": "CPU (2 cores)"}}})
    _notebook(tmp_path / "01_y.ipynb")
    (tmp_path / "03_broken.ipynb").write_text("{not json")
    rows = book_runs.chapter_timings(tmp_path)
    assert [r["notebook"] for r in rows] == ["01_y", "02_x", "03_broken"]
    assert rows[0]["wall_s"] is None and rows[2]["wall_s"] is None
    assert rows[1] == {"notebook": "02_x", "profile": "paper", "wall_s": 12.5, "device": "CPU (2 cores)", "train_s": None,
                       "checkpoints": False, "code": None}


def test_chapter_timings_add_the_training_time_the_summary_records_run_by_run(tmp_path):
    nbs, res = tmp_path / "nb", tmp_path / "results"
    nbs.mkdir()
    _notebook(nbs / "04_mnist_x.ipynb")
    _notebook(nbs / "05_y.ipynb")
    (res / "mnist_x").mkdir(parents=True)
    (res / "mnist_x" / "summary.json").write_text(json.dumps({"wall_s": {"a": 10.0, "b": 2.5, "c": None}}))
    (res / "y").mkdir()
    (res / "y" / "summary.json").write_text(json.dumps({"wall_s": 3.0}))  # not run by run: no training time
    rows = book_runs.chapter_timings(nbs, res)
    assert [r["train_s"] for r in rows] == [12.5, None]


def _book(tmp_path) -> dict:
    nb = tmp_path / "notebooks"
    nb.mkdir()
    _notebook(nb / "04_x.ipynb", {"conservae": {"parameters": {"profile": "paper"},
                                                "timing": {"wall_s": 12.0, "device": "GPU"}}})
    chapter = tmp_path / "results" / "paper" / "mnist_symmetricity"
    chapter.mkdir(parents=True)
    claim = {"id": "table1.AE.relu", "statement": "s", "ours": 81.0, "paper": 95.9, "verdict": "not reproduced",
             "spread": 0.3, "section": "x"}
    (chapter / "summary.json").write_text(json.dumps({"claims": [claim]}))
    return claim


def test_a_device_record_holds_timings_and_claims(tmp_path):
    claim = _book(tmp_path)
    rec = book_runs.device_record(tmp_path / "notebooks", tmp_path / "results", "paper", "make book")
    assert rec["chapters"] == [{"notebook": "04_x", "profile": "paper", "wall_s": 12.0, "device": "GPU", "train_s": None,
                                "checkpoints": False, "code": None}]
    assert rec["commit"] is None or len(rec["commit"]) == 40
    assert rec["claims"]["mnist_symmetricity"][0]["ours"] == 81.0 and rec["benchmark"] is None and rec["note"] == ""
    assert "section" not in rec["claims"]["mnist_symmetricity"][0]
    assert book_runs.claims_of(tmp_path / "results", "paper") == {"mnist_symmetricity": [claim]}


def test_claims_of_two_runs_are_joined_by_chapter_and_id(tmp_path, monkeypatch):
    claim = _book(tmp_path)
    there = {"mnist_symmetricity": [dict(claim, ours=83.0, verdict="partly")], "other": [claim]}
    (row,) = book_runs.claim_rows(book_runs.claims_of(tmp_path / "results", "paper"), there)
    assert row["ours here"] == 81.0 and row["ours on device"] == 83.0 and row["same verdict"] is False
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path / "results"))
    assert book_runs.compare_claims({"claims": there}, "paper", ["04_mnist_symmetricity"]) == []  # judged under no rule
    from conservae_lib.claims import ledger

    rule = ledger.claim("table1.AE.relu").rule.describe()
    there = {"mnist_symmetricity": [dict(there["mnist_symmetricity"][0], rule=rule)]}
    assert book_runs.compare_claims({"claims": there}, "paper", ["04_mnist_symmetricity"]) == [row]
    assert book_runs.compare_claims({"claims": there}, "paper", ["01_other"]) == []  # not a compared chapter
    assert book_runs.claim_rows({"mnist_symmetricity": [claim]}, {}) == []


def test_measurements_are_saved_where_the_device_record_reads_them(tmp_path, monkeypatch):
    _book(tmp_path)
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path / "results"))
    path = book_runs.save_measurements("paper", metrics={"n_points": 3}, chapters=[])
    assert path == tmp_path / "results" / "paper" / "performance" / "benchmark.json"
    rec = book_runs.device_record(tmp_path / "notebooks", tmp_path / "results", "paper", "cmd", note="n")
    assert rec["benchmark"] == {"chapters": [], "metrics": {"n_points": 3}} and rec["note"] == "n"


def test_a_stored_device_record_is_found_by_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    assert book_runs.device_record_path("paper") == tmp_path / "device" / "paper.json"
    assert book_runs.load_device_record("paper") is None
    (tmp_path / "device").mkdir()
    (tmp_path / "device" / "paper.json").write_text(json.dumps({"device": "GPU", "chapters": []}))
    assert book_runs.load_device_record("paper") == {"device": "GPU", "chapters": []}


def test_the_command_line_writes_a_record(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path / "results"))
    out = tmp_path / "rec.json"
    book_runs.main(["record", "paper", str(out), "--command", "make book"])
    assert json.loads(out.read_text())["command"] == "make book" and "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        book_runs.main(["replay", "paper", str(out)])


def test_code_digests_tell_runs_of_the_same_code_apart():
    meta = {"source_sha": "s", "library_sha": "l", "parameters": {"profile": "paper"}, "colab_sha": "x"}
    same = book_runs.code_digest(dict(meta, colab_sha="y", timing={"wall_s": 3}))
    assert book_runs.code_digest(meta) == same and len(same) == 16
    assert book_runs.code_digest(dict(meta, library_sha="l2")) != same
    assert book_runs.code_digest({"timing": {}}) is None


def test_chapters_that_keep_checkpoints_are_read_from_their_code(tmp_path):
    assert book_runs.keeps_checkpoints("mnist_symmetricity") and book_runs.keeps_checkpoints("mnist_conservative_part")
    assert not book_runs.keeps_checkpoints("curl_2d") and not book_runs.keeps_checkpoints("scorecard")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.py").write_text("fit(m, checkpoint=None)\n")
    assert not book_runs.keeps_checkpoints("x", tmp_path)
    (tmp_path / "x" / "b.py").write_text("fit(m, checkpoint=path)\n")
    assert book_runs.keeps_checkpoints("x", tmp_path)


def test_the_stored_gpu_record_is_stale():
    """The GPU record of 2026-11-27 stores no code digests: nothing of it is compared."""
    from conservae_lib.presentation import results

    rows = book_runs.chapter_timings(book_runs.BOOK_NOTEBOOKS, results.results_root() / "paper")
    record = book_runs.load_device_record("paper")
    assert record is not None and not any(c.get("code") for c in record["chapters"])
    assert book_runs.stale_record(record, rows) and book_runs.compared_notebooks(record, rows) == []
    assert book_runs.record_commits(record) == (["781798c", "b36b839"], False)
