"""The performance appendix's tables, figure and sentences, made from measurements taken elsewhere.

Presentation only: the numbers come from :mod:`conservae_lib.chapters.performance.benchmark` (Jacobian metrics),
:mod:`conservae_lib.chapters.performance.training_speed` (the training step, the pool of processes) and
:mod:`conservae_lib.chapters.performance.book_runs` (each chapter's time, a device record); everything printed goes
through :mod:`conservae_lib.presentation.report`, so a re-execution prints the same text.

Chapter: appendix *Performance* (``notebooks/91_performance.md``), in its order: the machine,
time per chapter, the same book on a GPU, one-layer metrics, deep models, training.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from conservae_lib.presentation import plotting
from conservae_lib.presentation.report import fmt, fmt_pct, fmt_small, frame
from .training_speed import step_flops

__all__ = [
    "machine_line", "chapter_summary", "chapter_table", "chapter_figure", "device_summary", "time_rows",
    "time_table", "verdict_summary", "claims_table", "device_speed", "metrics_summary",
    "metrics_speedup", "metrics_rows", "metrics_table", "deep_summary", "deep_speedup", "deep_rows", "deep_table",
    "step_summary", "training_speedup", "training_rows", "training_table", "metric_cost", "pool_summary",
]

Row = dict[str, Any]


def _fmt_s(x: float) -> str:
    return f"{fmt(x, 3)} s"


def _minutes(rows: Sequence[Row]) -> str:
    return fmt(sum(r["wall_s"] for r in rows) / 60, 3)


# ----------------------------------------------------------------------------- the machine, the book
def machine_line(info: dict[str, Any]) -> str:
    """What the page was measured on, from :func:`conservae_lib.training.runtime.machine`."""
    return f"measured on: {info['device']} with {info['torch_threads']} torch threads; torch {info['torch']}"


def chapter_summary(timed: Sequence[Row]) -> str:
    """Total execution time of the timed chapters (:func:`conservae_lib.chapters.performance.book_runs.chapter_timings`
    rows with a wall time) against the paper profile's budget, or why there are none."""
    if not timed:
        return "No executed notebooks with timings next to this installation (e.g. in Colab)."
    return f"total: {_minutes(timed)} min over {len(timed)} notebooks (budget for the paper profile: 25 min)"


def chapter_table(timed: Sequence[Row]) -> pd.DataFrame | None:
    """Per timed chapter: profile, wall time, share of the total, device, training time summed
    over runs; None when no chapter is timed."""
    if not timed:
        return None
    total = sum(r["wall_s"] for r in timed)
    return frame([
        {"notebook": r["notebook"], "profile": r["profile"] or "?", "wall time": _fmt_s(r["wall_s"]),
         "share": fmt_pct(r["wall_s"] / total), "device": r["device"] or "?",
         "training, summed over runs": _fmt_s(r["train_s"]) if r["train_s"] is not None else "—"}
        for r in timed
    ], index="notebook")


@plotting.book_figure
def chapter_figure(timed: Sequence[Row]) -> plt.Figure:
    """Horizontal bars: each timed chapter's wall time in minutes, in book order from the top (a note
    in an empty panel when no chapter is timed, so that the page's figure always exists)."""
    fig, axes = plotting.column_figure(height=0.3 * len(timed) + 1.2)
    ax = axes[0, 0]
    if timed:
        ax.barh([r["notebook"] for r in timed][::-1], [r["wall_s"] / 60 for r in timed][::-1], color="tab:blue")
    else:
        ax.text(0.5, 0.5, "no chapter is timed yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("wall time (min)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the book on another device
def device_summary(record: dict[str, Any] | None, timed: Sequence[Row], profile: str, stale: str | None = None) -> str:
    """The device record's machine, command, note and total time beside this machine's; or that
    none is recorded for ``profile``. A ``stale`` record (why) is named with its date and command only, its note
    marked as the record's own words, and no total is set beside this machine's."""
    if record is None:
        return f"No run on another device is recorded for the {profile!r} profile ({profile}.json)."
    there = [r for r in record["chapters"] if r["wall_s"] is not None]
    lines = [f"device: {record['device']} (torch {record['torch']}, CUDA {record['cuda']}), run of {record['date']}",
             f"command: {record['command']}"]
    if record.get("note"):
        lines.append(f"{'the record’s own note, from when it was made' if stale else 'note'}: {record['note']}")
    if not stale:
        lines.append(f"total: {_minutes(timed)} min here, {_minutes(there)} min on the device")
    return "\n".join(lines)


def time_rows(here: Sequence[Row], there: Sequence[Row]) -> list[dict[str, str]]:
    """Per notebook: wall time in two runs (this machine's pages, a device record's) and the ratio."""
    other = {r["notebook"]: r for r in there}
    rows = []
    for r in here:
        o = other.get(r["notebook"], {})
        a, b = r.get("wall_s"), o.get("wall_s")
        rows.append({"notebook": r["notebook"],
                     "here": "—" if a is None else _fmt_s(a), "device": "—" if b is None else _fmt_s(b),
                     "here / device": "—" if not (a and b) else f"{fmt(a / b, 3)}×"})
    return rows


def time_table(timed: Sequence[Row], record: dict[str, Any]) -> pd.DataFrame:
    """:func:`time_rows` of this machine's timed chapters against a device record's, by notebook."""
    return frame(time_rows(timed, record["chapters"]), index="notebook")


def verdict_summary(rows: Sequence[Row]) -> str:
    """How many of the :func:`~conservae_lib.chapters.performance.book_runs.claim_rows` get the same verdict on both
    machines; what the table shows."""
    same = sum(r["same verdict"] for r in rows)
    return (f"{same} of {len(rows)} claims get the same verdict on both machines\n"
            "the Table 1 cells, and every claim whose verdict differs:")


def claims_table(rows: Sequence[Row]) -> pd.DataFrame:
    """The :func:`~conservae_lib.chapters.performance.book_runs.claim_rows` of Table 1 and those whose verdict differs,
    numbers to 4 significant digits."""
    return frame([{k: (fmt(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows
                  if not r["same verdict"] or r["claim"].startswith("table1")], index="claim")


def device_speed(record: dict[str, Any]) -> str | None:
    """The device's Gram-path speed-up and ``training.fit``'s share of its matmul floor, from the
    performance page's measurements in the record; None when it holds none."""
    gpu = record.get("benchmark") or {}
    if not (gpu.get("metrics") and gpu.get("training")):
        return None
    return (f"on the device: Gram-path sym(J) {fmt(gpu['metrics']['speedup']['symmetricity_vs_vmap_jacrev'], 3)}× "
            f"faster than vmap(jacrev) (float64, {gpu['metrics']['n_points']} points); training.fit at "
            f"{fmt_pct(gpu['training']['fraction_of_matmul']['fit'])} of its matmul floor")


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


# ----------------------------------------------------------------------------- what a cell shows
def show_chapter_timings(timed: Sequence[Row]) -> None:
    """Print the chapters' wall-time sentence and, when any chapter was timed, display their table (the
    page's figure is :func:`chapter_figure`, glued by the chapter)."""
    from IPython.display import display

    print(chapter_summary(timed))
    if timed:
        display(chapter_table(timed))


def show_device_comparison(record: dict[str, Any] | None, timed: Sequence[Row], claim_rows: Sequence[Row],
                           profile: str, stale: str | None = None) -> None:
    """Print what the device record says (or that there is none); with a record, display the wall times
    here and there, the verdicts on the speed claims (``claim_rows``) and the device's speed-up — unless the
    record is ``stale`` (why, from :func:`conservae_lib.chapters.performance.book_runs.stale_record`): then only that."""
    from IPython.display import display

    print(device_summary(record, timed, profile, stale))
    if record is None:
        return
    if stale:
        print(f"This record is kept out of every comparison: {stale}, so its times and verdicts belong to code that "
              "no longer runs here. A fresh run on a GPU (benchmarks/device_check.py) replaces it.")
        return
    display(time_table(timed, record))
    print(verdict_summary(claim_rows))
    display(claims_table(claim_rows))
    speed = device_speed(record)
    if speed:
        print(speed)
