"""The performance appendix's sentences and tables say what its measurements hold, in the text the
page prints (fixed digits), from hand-made results of the shapes the benchmarks return."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from conservae_lib.chapters.performance import benchmark, training_speed
from conservae_lib.chapters.performance import report as P# noqa: E402
from conservae_lib.training import runtime  # noqa: E402

TIMED = [{"notebook": "01_a", "profile": "paper", "wall_s": 60.0, "device": "CPU", "train_s": None},
         {"notebook": "04_b", "profile": None, "wall_s": 180.0, "device": None, "train_s": 1234.5}]
RECORD = {"device": "GPU X", "torch": "2.0", "cuda": "12.1", "date": "2026-01-02", "command": "make book", "note": "",
          "chapters": [{"notebook": "01_a", "wall_s": 30.0}, {"notebook": "04_b", "wall_s": None}],
          "benchmark": {"metrics": {"speedup": {"symmetricity_vs_vmap_jacrev": 35.94}, "n_points": 1000},
                        "training": {"fraction_of_matmul": {"fit": 0.2031}}}}


def test_machine_line():
    info = {"device": "CPU (2 cores, x86_64)", "torch_threads": 2, "torch": "2.13.0+cpu"}
    assert P.machine_line(info) == "measured on: CPU (2 cores, x86_64) with 2 torch threads; torch 2.13.0+cpu"
    assert P.machine_line(runtime.machine("cpu")).startswith("measured on: CPU")


def test_chapter_summary_table_and_figure():
    assert P.chapter_summary([]).startswith("No executed notebooks") and P.chapter_table([]) is None
    assert P.chapter_summary(TIMED) == "total: 4 min over 2 notebooks (budget for the paper profile: 25 min)"
    table = P.chapter_table(TIMED)
    assert list(table.index) == ["01_a", "04_b"]
    assert table.loc["01_a"].tolist() == ["paper", "60 s", "25.0 %", "CPU", "—"]
    assert table.loc["04_b"].tolist() == ["?", "180 s", "75.0 %", "?", "1.23e+03 s"]
    fig = P.chapter_figure(TIMED)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["04_b", "01_a"]  # book order from the top
    assert [p.get_width() for p in ax.patches] == [3.0, 1.0] and ax.get_xlabel() == "wall time (min)"
    plt.close(fig)


def test_device_summary_and_time_table():
    assert P.device_summary(None, TIMED, "paper") == \
        "No run on another device is recorded for the 'paper' profile (paper.json)."
    text = P.device_summary(dict(RECORD, note="commit abc"), TIMED, "paper").split("\n")
    assert text == ["device: GPU X (torch 2.0, CUDA 12.1), run of 2026-01-02", "command: make book",
                    "note: commit abc", "total: 4 min here, 0.5 min on the device"]
    assert len(P.device_summary(RECORD, TIMED, "paper").split("\n")) == 3  # no note line without a note
    rows = P.time_rows(TIMED + [{"notebook": "09_new", "wall_s": None}], RECORD["chapters"])
    assert rows[0] == {"notebook": "01_a", "here": "60 s", "device": "30 s", "here / device": "2×"}
    assert rows[1]["device"] == "—" and rows[1]["here / device"] == "—" and rows[2]["here"] == "—"
    assert list(P.time_table(TIMED, RECORD).columns) == ["here", "device", "here / device"]


def test_claims_summary_table_and_device_speed():
    rows = [{"chapter": "a", "claim": "table1.x", "paper": 95.9, "ours here": 81.04, "ours on device": 81.0,
             "verdict here": "partly", "verdict on device": "partly", "same verdict": True},
            {"chapter": "a", "claim": "prop3", "paper": None, "ours here": 0.5, "ours on device": 0.6,
             "verdict here": "partly", "verdict on device": "reproduced", "same verdict": False},
            {"chapter": "a", "claim": "fig3", "paper": None, "ours here": 1.0, "ours on device": 1.0,
             "verdict here": "reproduced", "verdict on device": "reproduced", "same verdict": True}]
    assert P.verdict_summary(rows) == ("2 of 3 claims get the same verdict on both machines\n"
                                       "the Table 1 cells, and every claim whose verdict differs:")
    table = P.claims_table(rows)
    assert list(table.index) == ["table1.x", "prop3"] and table.loc["table1.x", "ours here"] == "81.04"
    assert P.device_speed(RECORD) == ("on the device: Gram-path sym(J) 35.9× faster than vmap(jacrev) (float64, "
                                      "1000 points); training.fit at 20.3 % of its matmul floor")
    assert P.device_speed(dict(RECORD, benchmark=None)) is None


@pytest.fixture(scope="module")
def metrics():
    return benchmark.metrics_benchmark(D=20, H=10, n_points=12, chunk_size=5, repeat=1)


def test_metrics_texts_and_table(metrics):
    assert P.metrics_summary(metrics) == ("12 points, D = 20, H = 10, float64\nlargest relative difference between "
                                          "the three paths: < 1e-14 (goal: below 1e-6)")
    assert P.metrics_speedup(metrics).startswith("Gram path against vmap(jacrev): ")
    table = P.metrics_table(metrics)
    assert len(table) == 4 and table.iloc[3]["× faster than vmap(jacrev)"] == "1"
    assert P.metrics_rows(metrics) == table.reset_index().to_dict("records")


def test_deep_texts_and_table():
    r = benchmark.deep_metrics_benchmark(sizes=(12, 8, 12), n_points=10, n_probes=8, chunk_size=4)
    lines = P.deep_summary(r).split("\n")
    assert lines[0] == "deep model [12, 8, 12] (sigmoid, float64), 10 points, 8 probes" and len(lines) == 4
    assert lines[3].endswith("| worst-case bound √(2/probes): 0.5")
    assert P.deep_speedup(r).startswith("Hutchinson estimate against exact chunked Jacobians: ")
    assert list(P.deep_table(r)["speed-up"])[0] == "1" and len(P.deep_rows(r)) == 2


def test_training_texts_and_tables():
    r = training_speed.training_benchmark(D=12, H=6, batch_size=4, n_train=16, n_eval=5, steps=2, repeat=1)
    assert P.step_summary(r) == ("step: batch 4, D = 12, H = 6, sigmoid, Adam, float32; "
                                 "0.00288 MFLOP of matrix products per step")
    assert P.training_speedup(r).startswith("the default step reaches ")
    table = P.training_table(r)
    assert len(table) >= 6 and table.loc["the step's 5 matrix products alone (floor)", "fraction of matmul floor"] == "100.0 %"
    assert table.loc["forward + backward only (no update)", "GFLOP/s"] == "—"
    assert P.metric_cost(r).startswith("sym(J) on 5 points: ") and "epoch of 16 images" in P.metric_cost(r)


def test_pool_summary():
    pool = {"n_runs": 4, "epochs": 4, "threads": 2, "workers": 2, "wall_s": {"alone": 2.344, "pool": 5.18},
            "throughput_gain": 1.111, "epoch_s": {"alone": 0.119, "pool_per_process": 0.214},
            "max_weight_difference": 2.2e-08}
    assert P.pool_summary(pool) == (
        "4 runs × 4 epochs: one after another with 2 threads 2.34 s, in 2 processes 5.18 s; steady-state "
        "throughput gain 1.11× (epoch 0.119 s alone, 0.214 s per process in the pool); largest weight "
        "difference between the two ways: 2.2e-08")


def test_the_cells_show_the_sentences_then_the_tables(capsys, monkeypatch):
    """What the page's two timing cells show: the sentence first; tables only where there is something."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(plt, "show", lambda: None)
    P.show_chapter_timings([])
    assert capsys.readouterr().out.startswith("No executed notebooks") and shown == []
    P.show_chapter_timings(TIMED)
    assert capsys.readouterr().out.strip() == P.chapter_summary(TIMED) and len(shown) == 1
    plt.close("all")
    shown.clear()
    P.show_device_comparison(None, TIMED, [], "paper")
    assert capsys.readouterr().out.strip() == P.device_summary(None, TIMED, "paper") and shown == []
    rows = [{"chapter": "a", "claim": "prop3", "paper": None, "ours here": 0.5, "ours on device": 0.6,
             "verdict here": "partly", "verdict on device": "reproduced", "same verdict": False}]
    from conservae_lib.claims import ledger

    current = dict(RECORD, claims={"all": [ledger.judge(cid, not_tested="x") for cid in ledger.ids()]})
    P.show_device_comparison(current, TIMED, rows, "paper", stale=None)
    out = capsys.readouterr().out
    assert P.verdict_summary(rows) in out and P.device_speed(RECORD) in out and len(shown) == 2
    shown.clear()
    P.show_device_comparison(RECORD, TIMED, rows, "paper", stale="it records 0 claims")  # a record of other claims
    out = capsys.readouterr().out
    assert "kept out of every comparison" in out and P.verdict_summary(rows) not in out and shown == []


def test_a_stale_record_sets_no_total_beside_this_machines():
    text = P.device_summary(dict(RECORD, note="later commits changed nothing"), TIMED, "paper", stale="other claims")
    assert "total:" not in text and "the record’s own note, from when it was made: later commits" in text
    assert "total:" in P.device_summary(RECORD, TIMED, "paper")
