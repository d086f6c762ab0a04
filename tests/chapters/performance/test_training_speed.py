"""The training benchmarks run every variant they report, and the pool of processes trains the
same models as runs one after another (values, not timings)."""
from __future__ import annotations

from conservae_lib.chapters.performance import training_speed


def test_step_flops_counts_five_products_of_b_d_h():
    assert training_speed.step_flops(100, 784, 500) == 5 * 2 * 100 * 784 * 500


def test_training_benchmark_runs_every_variant():
    r = training_speed.training_benchmark(D=12, H=6, batch_size=4, n_train=16, n_eval=5, steps=2, repeat=1)
    assert {"matmul", "step_adam", "step_adam_foreach", "step_float64", "fit"} <= set(r["seconds_per_step"])
    assert all(v > 0 for v in r["fraction_of_matmul"].values())
    assert r["metric_fraction_of_epoch"]["float32"] > 0
    assert (r["D"], r["H"], r["batch_size"], r["activation"]) == (12, 6, 4, "sigmoid")


def test_pool_benchmark_trains_the_same_models_both_ways():
    r = training_speed.pool_benchmark(n_runs=2, epochs=1, workers=2, D=20, H=8, batch_size=10, n_train=40,
                                      n_eval=10)
    assert r["max_weight_difference"] < 1e-5
    assert r["throughput_gain"] > 0 and r["wall_s"]["pool"] > 0
    assert (r["n_runs"], r["workers"], r["D"], r["H"]) == (2, 2, 20, 8) and r["device"].startswith("CPU")
