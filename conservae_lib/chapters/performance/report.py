"""The performance appendix's tables, figure and sentences, made from measurements taken elsewhere.

Presentation only: the numbers come from :mod:`conservae_lib.chapters.performance.benchmark` (Jacobian metrics) and
:mod:`conservae_lib.chapters.performance.training_speed` (the training step, the pool of processes); everything
printed goes through :mod:`conservae_lib.presentation.report`, so a re-execution prints the same text. The book's
own runs (time per chapter, a device record) are shown by :mod:`conservae_lib.chapters.performance.runs_report`.

Chapter: appendix *Performance* (``notebooks/91_performance.md``), in its order: the machine, one-layer metrics,
deep models, training.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from conservae_lib.presentation.report import fmt, fmt_pct, fmt_small, frame
from .training_speed import step_flops

__all__ = [
    "machine_line", "metrics_summary",
    "metrics_speedup", "metrics_rows", "metrics_table", "deep_summary", "deep_speedup", "deep_rows", "deep_table",
    "step_summary", "training_speedup", "training_rows", "training_table", "metric_cost", "pool_summary",
]



def _fmt_s(x: float) -> str:
    return f"{fmt(x, 3)} s"


# ----------------------------------------------------------------------------- the machine
def machine_line(info: dict[str, Any]) -> str:
    """What the page was measured on, from :func:`conservae_lib.training.runtime.machine`."""
    return f"measured on: {info['device']} with {info['torch_threads']} torch threads; torch {info['torch']}"


# ----------------------------------------------------------------------------- Jacobian metrics
def metrics_summary(result: dict[str, Any]) -> str:
    """The setting of a :func:`~conservae_lib.chapters.performance.benchmark.metrics_benchmark` result and the largest
    disagreement between its three paths."""
    return (f"{result['n_points']} points, D = {result['D']}, H = {result['H']}, {result['dtype']}\n"
            f"largest relative difference between the three paths: "
            f"{fmt_small(max(result['agreement'].values()), 1e-14)} (goal: below 1e-6)")


def metrics_speedup(result: dict[str, Any]) -> str:
    """The Gram path's speed-ups against vmap(jacrev), for sym(J) and ‖J‖²_F."""
    speed = result["speedup"]
    return (f"Gram path against vmap(jacrev): {fmt(speed['symmetricity_vs_vmap_jacrev'], 3)}× faster for sym(J), "
            f"{fmt(speed['norm2_vs_vmap_jacrev'], 3)}× for ‖J‖²_F (goal: at least 300×)")


def metrics_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows (path, time, speed-up, agreement) of a
    :func:`~conservae_lib.chapters.performance.benchmark.metrics_benchmark` result."""
    s, sp, ag = result["seconds"], result["speedup"], result["agreement"]
    return [
        {"path": "Gram, sym(J) (fields.jacobian_symmetricity)", "time": _fmt_s(s["gram_symmetricity"]),
         "× faster than vmap(jacrev)": fmt(sp["symmetricity_vs_vmap_jacrev"], 3),
         "× faster than explicit": fmt(sp["symmetricity_vs_explicit"], 3),
         "max rel. difference to vmap(jacrev)": fmt_small(ag["gram_vs_vmap_jacrev_symmetricity"], 1e-14)},
        {"path": "Gram, ‖J‖²_F (fields.jacobian_norm2)", "time": _fmt_s(s["gram_norm2"]),
         "× faster than vmap(jacrev)": fmt(sp["norm2_vs_vmap_jacrev"], 3),
         "× faster than explicit": fmt(sp["norm2_vs_explicit"], 3),
         "max rel. difference to vmap(jacrev)": fmt_small(ag["gram_vs_vmap_jacrev_norm2"], 1e-14)},
        {"path": "explicit R D_h' Wᵀ, both", "time": _fmt_s(s["explicit"]),
         "× faster than vmap(jacrev)": fmt(sp["explicit_vs_vmap_jacrev"], 3), "× faster than explicit": "1",
         "max rel. difference to vmap(jacrev)": fmt_small(ag["explicit_vs_vmap_jacrev_symmetricity"], 1e-14)},
        {"path": "vmap(jacrev), both", "time": _fmt_s(s["vmap_jacrev"]), "× faster than vmap(jacrev)": "1",
         "× faster than explicit": fmt(1 / sp["explicit_vs_vmap_jacrev"], 3),
         "max rel. difference to vmap(jacrev)": "0"},
    ]


def metrics_table(result: dict[str, Any]) -> pd.DataFrame:
    """:func:`metrics_rows` as a table indexed by path."""
    return frame(metrics_rows(result), index="path")


def deep_summary(result: dict[str, Any]) -> str:
    """A :func:`~conservae_lib.chapters.performance.benchmark.deep_metrics_benchmark` result: the mean symmetricity
    exact and estimated, and the estimate's errors per point against the ones it states."""
    r = result
    return "\n".join([
        f"deep model {r['sizes']} ({r['activation']}, {r['dtype']}), {r['n_points']} points, {r['n_probes']} probes",
        f"mean sym(J): exact {fmt(r['mean_symmetricity_exact'], 4)}"
        f" | estimate {fmt(r['mean_symmetricity_estimate'], 4)}"
        f" ± stated standard error {fmt(r['mean_symmetricity_se'], 2)}",
        f"per point, median |estimate − exact| of sym(J): {fmt(r['point_symmetricity_abs_error_median'], 2)}"
        f" | median stated standard error: {fmt(r['point_symmetricity_se_median'], 2)}",
        f"per point, median relative error of ‖J‖²_F: {fmt(r['point_norm2_relative_error_median'], 2)}"
        f" | stated: {fmt(r['point_norm2_relative_se_median'], 2)}"
        f" | worst-case bound √(2/probes): {fmt(r['stated_bound_relative_se'], 2)}",
    ])


def deep_speedup(result: dict[str, Any]) -> str:
    """The Hutchinson estimate's speed-up against exact chunked Jacobians."""
    speedup = fmt(result["speedup_hutchinson_vs_exact"], 3)
    return f"Hutchinson estimate against exact chunked Jacobians: {speedup}× faster"


def deep_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows of a :func:`~conservae_lib.chapters.performance.benchmark.deep_metrics_benchmark` result."""
    s = result["seconds"]
    return [
        {"path": "exact Jacobians, chunked (fields.jacobian_quadratics)", "time": _fmt_s(s["exact_chunked"]),
         "mean sym(J)": fmt(result["mean_symmetricity_exact"], 5), "speed-up": "1"},
        {"path": f"Hutchinson, {result['n_probes']} probes (fields.jacobian_quadratics_estimate)",
         "time": _fmt_s(s["hutchinson"]), "mean sym(J)": fmt(result["mean_symmetricity_estimate"], 5),
         "speed-up": fmt(result["speedup_hutchinson_vs_exact"], 3)},
    ]


def deep_table(result: dict[str, Any]) -> pd.DataFrame:
    """:func:`deep_rows` as a table indexed by path."""
    return frame(deep_rows(result), index="path")


# ----------------------------------------------------------------------------- training
def step_summary(result: dict[str, Any]) -> str:
    """The step a :func:`~conservae_lib.chapters.performance.training_speed.training_benchmark` result timed, with its
    matrix products' work (:func:`~conservae_lib.chapters.performance.training_speed.step_flops`)."""
    b, d, h = result["batch_size"], result["D"], result["H"]
    return (f"step: batch {b}, D = {d}, H = {h}, {result['activation']}, Adam, float32; "
            f"{fmt(step_flops(b, d, h) / 1e6, 3)} MFLOP of matrix products per step")


def training_speedup(result: dict[str, Any]) -> str:
    """The default step's and ``training.fit``'s shares of the matmul floor."""
    step, fit = (fmt_pct(result["fraction_of_matmul"][k]) for k in ("step_adam", "fit"))
    return f"the default step reaches {step} of the matmul floor; training.fit {fit}"


def training_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows (variant, ms per step, GFLOP/s, fraction of the matmul floor)."""
    names = {
        "matmul": "the step's 5 matrix products alone (floor)",
        "forward_backward": "forward + backward only (no update)",
        "adam_update": "Adam update only (default)",
        "step_adam": "step: forward, backward, Adam (default), float(loss) each step",
        "step_adam_nosync": "same without float(loss) per step",
        "step_adam_foreach": "same with Adam(foreach=True)",
        "step_adam_fused": "same with Adam(fused=True)",
        "step_float64": "default step in float64",
        "fit": "training.fit (fused Adam, loss read once an epoch), per step",
    }
    rows = []
    for key, label in names.items():
        if key not in result["seconds_per_step"]:
            continue
        part = key in ("forward_backward", "adam_update")  # components, not whole steps
        sec = result["seconds_per_step"][key]
        rows.append({
            "variant": label, "ms per step": fmt(1e3 * sec, 3),
            "× the floor's time": fmt(sec / result["seconds_per_step"]["matmul"], 3),
            "GFLOP/s": "—" if part else fmt(result["gflops_per_s"][key], 3),
            "fraction of matmul floor": "—" if part else (
                "100.0 %" if key == "matmul" else fmt_pct(result["fraction_of_matmul"][key])),
        })
    return rows


def training_table(result: dict[str, Any]) -> pd.DataFrame:
    """:func:`training_rows` as a table indexed by variant."""
    return frame(training_rows(result), index="variant")


def metric_cost(result: dict[str, Any]) -> str:
    """What tracking sym(J) on the held-out points costs against one epoch of training."""
    r, share = result, result["metric_fraction_of_epoch"]
    return (f"sym(J) on {r['n_eval']} points: {fmt(1e3 * r['metric_seconds']['float32'], 3)} ms in float32 "
            f"({fmt_pct(share['float32'])} of an epoch), {fmt(1e3 * r['metric_seconds']['float64'], 3)} ms "
            f"in float64 ({fmt_pct(share['float64'])}); epoch of {r['n_train']} images: "
            f"{fmt(r['epoch_seconds'], 3)} s (goal: metrics below 10 % of training)")


def pool_summary(result: dict[str, Any]) -> str:
    """A :func:`~conservae_lib.chapters.performance.training_speed.pool_benchmark` result: wall times both ways, the
    steady-state throughput gain, and how far the two ways' weights differ."""
    r = result
    return (f"{r['n_runs']} runs × {r['epochs']} epochs: one after another with {r['threads']} threads "
            f"{fmt(r['wall_s']['alone'], 3)} s, in {r['workers']} processes {fmt(r['wall_s']['pool'], 3)} s; "
            f"steady-state throughput gain {fmt(r['throughput_gain'], 3)}× "
            f"(epoch {fmt(r['epoch_s']['alone'], 3)} s alone, {fmt(r['epoch_s']['pool_per_process'], 3)} s "
            f"per process in the pool); largest weight difference between the two ways: "
            f"{r['max_weight_difference']:.1e}")
