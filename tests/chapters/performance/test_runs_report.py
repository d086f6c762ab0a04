"""The performance appendix's account of the book's runs: a reload is never reported as a first-run cost, and a
device record of other code is labelled with its commit, marked "stale, not compared" and compared with nothing."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.performance import book_runs  # noqa: E402
from conservae_lib.chapters.performance import runs_report as R  # noqa: E402

TIMED = [{"notebook": "01_a", "profile": "paper", "wall_s": 60.0, "device": "CPU", "train_s": None,
          "checkpoints": False, "code": "c1"},
         {"notebook": "04_b", "profile": None, "wall_s": 30.0, "device": None, "train_s": 12345.0,
          "checkpoints": True, "code": "c4"},
         {"notebook": "07_c", "profile": "paper", "wall_s": 150.0, "device": "CPU", "train_s": None,
          "checkpoints": True, "code": "c7"}]
RECORD = {"device": "GPU X", "torch": "2.0", "cuda": "12.1", "date": "2026-01-02", "command": "make book",
          "note": "n", "commit": "0123456789abcdef0123456789abcdef01234567",
          "chapters": [{"notebook": "01_a", "wall_s": 30.0, "train_s": None, "checkpoints": False, "code": "c1"},
                       {"notebook": "04_b", "wall_s": 900.0, "train_s": 4000.0, "checkpoints": True, "code": "old"},
                       {"notebook": "07_c", "wall_s": 100.0, "train_s": None, "checkpoints": True, "code": "c7"}],
          "benchmark": {"metrics": {"speedup": {"symmetricity_vs_vmap_jacrev": 35.94}, "n_points": 1000},
                        "training": {"fraction_of_matmul": {"fit": 0.2031}}}}
OLD = {k: v for k, v in RECORD.items() if k != "commit"}
OLD = dict(OLD, note="Code: commit 781798c for 01–04, b36b839 for the rest. Later commits changed nothing.",
           chapters=[{k: v for k, v in r.items() if k != "code"} for r in RECORD["chapters"]])


def test_durations_read_in_their_unit():
    assert [R.duration(s) for s in (34.5, 153.0, 12500.0, None)] == ["34.5 s", "2.55 min", "3.47 h", "—"]


def test_a_reload_is_never_reported_as_a_first_run_cost():
    """04_b's last execution (30 s) reloaded checkpoints: its first run is its recorded training. 07_c keeps
    checkpoints and records no training: its first run is unknown, not its 150 s. 01_a keeps none: its execution is
    a first run."""
    assert [book_runs.first_run(r) for r in TIMED] == [
        (60.0, book_runs.FROM_EXECUTION), (12345.0, book_runs.FROM_TRAINING), (None, None)]
    table = R.chapter_table(TIMED)
    assert table.loc["04_b", "first run"] == "3.43 h" and table.loc["04_b", "last execution"] == "30 s"
    assert table.loc["07_c", "first run"] == "not recorded" and "150" not in table.loc["07_c", "first run"]
    assert table.loc["07_c", "checkpoints"] == "kept: may reload" and table.loc["01_a", "first run"] == "60 s"
    summary = R.chapter_summary(TIMED).split("\n")
    assert summary[0] == ("last executions: 4 min in all over 3 notebooks (of which 04_b, 07_c keep checkpoints and "
                          "may have reloaded them)")
    assert summary[1] == ("first runs: 3.45 h of compute in all over the 2 notebooks whose first-run cost is known; "
                          "not recorded for 07_c (it keeps checkpoints and records no training time)")
    assert R.chapter_summary([]).startswith("No executed notebooks") and R.chapter_table([]) is None


def test_one_device_is_named_once_not_in_every_row():
    assert "device" in R.chapter_table(TIMED).columns  # CPU and an unknown device
    same = [dict(r, device="CPU") for r in TIMED]
    assert "device" not in R.chapter_table(same).columns
    assert R.chapter_summary(same).split("\n")[0].startswith("last executions: 4 min in all over 3 notebooks, all on CPU (")


def test_the_checker_would_see_a_reload_passed_off_as_a_first_run(monkeypatch):
    """The bad case: a first_run that falls back on the last execution whatever the chapter keeps."""
    monkeypatch.setattr(R, "first_run", lambda r: (r["train_s"] or r["wall_s"], "execution"))
    assert R.chapter_table(TIMED).loc["07_c", "first run"] != "not recorded"


def test_a_record_of_other_code_is_stale_labelled_with_its_commit_and_not_compared():
    stale = book_runs.stale_notebooks(OLD, TIMED)
    assert set(stale) == {"01_a", "04_b", "07_c"}
    why = book_runs.stale_record(OLD, TIMED)
    assert why == "the record stores no digest of the code it ran"
    assert book_runs.compared_notebooks(OLD, TIMED) == []
    text = R.device_summary(OLD, TIMED, "paper", why).split("\n")
    assert text[1] == "made at commit: 781798c, b36b839 (named in its note; the record stores no commit)"
    assert text[3] == f"stale, not compared: {why}." and text[4] == R.NEW_RECORD.format(profile="paper")
    assert not any("Later commits changed nothing" in line for line in text), "a stale record's note is repeated"


def test_only_chapters_that_ran_the_same_code_are_compared():
    stale = book_runs.stale_notebooks(RECORD, TIMED)
    assert list(stale) == ["04_b"] and book_runs.stale_record(RECORD, TIMED) is None
    assert book_runs.compared_notebooks(RECORD, TIMED) == ["01_a", "07_c"]
    rows = {r["notebook"]: r for r in R.time_rows(TIMED, RECORD["chapters"], stale)}
    assert rows["01_a"]["here / device"] == "2×" and rows["01_a"]["compared"] == "yes"
    assert rows["04_b"]["here / device"] == "—" and rows["04_b"]["compared"].startswith("stale, not compared: ")
    assert rows["04_b"]["first run on the device"] == "—"
    assert rows["07_c"]["here / device"] == "—" and rows["07_c"]["compared"].startswith("no: ")
    assert R.device_summary(RECORD, TIMED, "paper").split("\n")[1:] == ["made at commit: 0123456", "command: make book",
                                                                        "note: n"]


def test_the_checker_would_see_a_stale_chapter_compared(monkeypatch):
    """The bad case: a comparison that ignores the code digests sets 04_b's old run beside today's."""
    rows = {r["notebook"]: r for r in R.time_rows(TIMED, RECORD["chapters"], {})}
    assert rows["04_b"]["here / device"] != "—"


def test_the_cells_show_a_stale_record_and_nothing_of_it(capsys, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    R.show_chapter_timings(TIMED)
    assert capsys.readouterr().out.strip() == R.chapter_summary(TIMED) and len(shown) == 1
    shown.clear()
    R.show_device_comparison(None, TIMED, [], "paper")
    assert R.NEW_RECORD.format(profile="paper") in capsys.readouterr().out and shown == []
    R.show_device_comparison(OLD, TIMED, [], "paper", book_runs.stale_record(OLD, TIMED),
                             book_runs.stale_notebooks(OLD, TIMED))
    out = capsys.readouterr().out
    assert "stale, not compared" in out and "same verdict" not in out and shown == []
    claims = [{"chapter": "a", "claim": "table1.x", "paper": 95.9, "ours here": 81.04, "ours on device": 81.0,
               "verdict here": "partly", "verdict on device": "partly", "same verdict": True}]
    R.show_device_comparison(RECORD, TIMED, claims, "paper", None, book_runs.stale_notebooks(RECORD, TIMED))
    out = capsys.readouterr().out
    assert R.verdict_summary(claims, 2) in out and R.device_speed(RECORD) in out and len(shown) == 2
    assert R.verdict_summary(claims, 2).startswith("1 of 1 claims get the same verdict on both machines (claims of "
                                                   "the 2 chapters that ran the same code on both)")
    plt.close("all")


def test_the_books_own_page_reports_no_reload_as_a_first_run():
    """On the book's executed notebooks: a chapter that keeps checkpoints shows, as its first run, its recorded
    training or nothing — never its last execution; and the stored device record is compared only chapter by
    chapter where the code agrees."""
    from conservae_lib.presentation import results

    rows = book_runs.chapter_timings(book_runs.BOOK_NOTEBOOKS, results.results_root() / "paper")
    assert {r["notebook"] for r in rows if r["checkpoints"]} >= {"04_mnist_symmetricity", "07_mnist_conservative_part"}
    for r in rows:
        seconds, basis = book_runs.first_run(r)
        if r["checkpoints"]:
            assert basis != book_runs.FROM_EXECUTION, r["notebook"]
            assert seconds is None or seconds == r["train_s"], r["notebook"]
    record = book_runs.load_device_record("paper")
    if record is not None:
        compared = set(book_runs.compared_notebooks(record, rows))
        mine = {r["notebook"]: r["code"] for r in rows}
        assert all(c.get("code") and c["code"] == mine.get(c["notebook"])
                   for c in record["chapters"] if c["notebook"] in compared)
