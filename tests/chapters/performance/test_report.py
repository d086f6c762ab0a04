"""The performance appendix's sentences and tables say what its measurements hold, in the text the
page prints (fixed digits), from hand-made results of the shapes the benchmarks return."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from conservae_lib.chapters.performance import benchmark, training_speed  # noqa: E402
from conservae_lib.chapters.performance import report as P  # noqa: E402
from conservae_lib.training import runtime  # noqa: E402


def test_machine_line():
    info = {"device": "CPU (2 cores, x86_64)", "torch_threads": 2, "torch": "2.13.0+cpu"}
    assert P.machine_line(info) == "measured on: CPU (2 cores, x86_64) with 2 torch threads; torch 2.13.0+cpu"
    assert P.machine_line(runtime.machine("cpu")).startswith("measured on: CPU")


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
