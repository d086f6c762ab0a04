"""The performance appendix's account of the book's own runs: what each chapter cost, and a device record beside
this machine's run — compared only where both ran the same code.

Presentation only: the rows come from :mod:`conservae_lib.chapters.performance.book_runs` (:func:`~conservae_lib.chapters.performance.book_runs.chapter_timings`,
:func:`~conservae_lib.chapters.performance.book_runs.first_run`, the device record and which of its chapters are
stale); everything printed goes through :mod:`conservae_lib.presentation.report`, so a re-execution prints the
same text. Two times are kept apart everywhere: the *last execution* of a page (which, for a chapter that keeps
checkpoints, may have reloaded finished runs) and the cost of a *first run* (as far as it is known).

Chapter: appendix *Performance* (``notebooks/91_performance.md``), sections "Time per chapter" and "The same book
on a GPU".
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from conservae_lib.presentation import plotting
from conservae_lib.presentation.report import fmt, frame
from .book_runs import first_run, record_commits

__all__ = ["duration", "chapter_summary", "chapter_rows", "chapter_table", "chapter_figure", "device_summary",
           "time_rows", "time_table", "verdict_summary", "claims_table", "device_speed", "show_chapter_timings",
           "show_device_comparison", "NEW_RECORD"]

Row = dict[str, Any]

#: What the page says when no device record can be compared.
NEW_RECORD = ("A new device record is needed: run benchmarks/device_check.py on a GPU at this commit "
              "(its docstring gives the commands) and store its record as results/device/{profile}.json.")


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: "34.5 s", "2.55 min", "3.47 h" (3 significant digits); "—" for None."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{fmt(seconds, 3)} s"
    if seconds < 7200:
        return f"{fmt(seconds / 60, 3)} min"
    return f"{fmt(seconds / 3600, 3)} h"


# ----------------------------------------------------------------------------- time per chapter
def chapter_summary(timed: Sequence[Row]) -> str:
    """Two sentences on :func:`~conservae_lib.chapters.performance.book_runs.chapter_timings` rows with a wall time:
    the last executions' total (flagging the chapters that may have reloaded checkpoints) and the first-run cost
    where it is known (naming the chapters where it is not); or why there are none."""
    if not timed:
        return "No executed notebooks with timings next to this installation (e.g. in Colab)."
    reloading = [r["notebook"] for r in timed if r.get("checkpoints")]
    last = f"last executions: {duration(sum(r['wall_s'] for r in timed))} in all over {len(timed)} notebooks"
    devices = {r.get("device") for r in timed}
    if len(devices) == 1 and None not in devices:
        last += f", all on {devices.pop()}"
    if reloading:
        verb = "keeps checkpoints and may have" if len(reloading) == 1 else "keep checkpoints and may have"
        last += f" (of which {', '.join(reloading)} {verb} reloaded them)"
    known = [(r, first_run(r)[0]) for r in timed]
    unknown = [r["notebook"] for r, s in known if s is None]
    first = (f"first runs: {duration(sum(s for _, s in known if s is not None))} of compute in all over the "
             f"{len(timed) - len(unknown)} notebooks whose first-run cost is known")
    if unknown:
        they = "it keeps checkpoints and records" if len(unknown) == 1 else "they keep checkpoints and record"
        first += f"; not recorded for {', '.join(unknown)} ({they} no training time)"
    return last + "\n" + first


def chapter_rows(timed: Sequence[Row]) -> list[dict[str, str]]:
    """Per timed chapter: the last execution's wall time (and its device, when the chapters ran on more than one:
    :func:`chapter_summary` names a common one), whether it can have reloaded checkpoints, and the first run's
    cost with where that number comes from (never the last execution of a chapter that keeps checkpoints)."""
    several = len({r.get("device") for r in timed}) > 1
    rows = []
    for r in timed:
        seconds, basis = first_run(r)
        row = {"notebook": r["notebook"], "last execution": duration(r["wall_s"])}
        if several:
            row["device"] = r.get("device") or "?"
        row.update({"checkpoints": "kept: may reload" if r.get("checkpoints") else "none",
                    "first run": duration(seconds) if seconds is not None else "not recorded",
                    "first run from": basis or "—"})
        rows.append(row)
    return rows


def chapter_table(timed: Sequence[Row]) -> pd.DataFrame | None:
    """:func:`chapter_rows` as a table indexed by notebook; None when no chapter is timed."""
    return frame(chapter_rows(timed), index="notebook") if timed else None


@plotting.book_figure
def chapter_figure(timed: Sequence[Row]) -> plt.Figure:
    """Per timed chapter, in book order from the top, two horizontal bars on a log scale of minutes: the last
    execution and the first run where its cost is known (:func:`~conservae_lib.chapters.performance.book_runs.first_run`);
    a note in an empty panel when no chapter is timed, so that the page's figure always exists."""
    fig, axes = plotting.column_figure(height=0.42 * len(timed) + 1.6)
    ax = axes[0, 0]
    if timed:
        names = [r["notebook"] for r in timed][::-1]
        pos = list(range(len(names)))
        last = [r["wall_s"] / 60 for r in timed][::-1]
        first = [(first_run(r)[0] or 0.0) / 60 for r in timed][::-1]
        ax.barh([p + 0.2 for p in pos], last, height=0.4, color="tab:blue", label="last execution")
        ax.barh([p - 0.2 for p in pos], first, height=0.4, color="tab:orange", label="first run (where known)")
        ax.set_yticks(pos, names)
        ax.set_xscale("log")
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no chapter is timed yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("time (min, log scale)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the book on another device
def device_summary(record: Row | None, timed: Sequence[Row], profile: str, stale: str | None = None) -> str:
    """The device record's machine, date, commit and command; then either ``stale, not compared`` with why
    (``stale``, from :func:`~conservae_lib.chapters.performance.book_runs.stale_record`) and :data:`NEW_RECORD`, or
    its note. A stale record's note is not repeated: it speaks of code that no longer runs here."""
    if record is None:
        return (f"No run on another device is recorded for the {profile!r} profile ({profile}.json).\n"
                + NEW_RECORD.format(profile=profile))
    commits, stored = record_commits(record)
    at = ", ".join(commits) or "not recorded"
    if commits and not stored:
        at += " (named in its note; the record stores no commit)"
    lines = [f"device: {record['device']} (torch {record['torch']}, CUDA {record['cuda']}), run of {record['date']}",
             f"made at commit: {at}", f"command: {record['command']}"]
    if stale:
        lines += [f"stale, not compared: {stale}.", NEW_RECORD.format(profile=profile)]
    elif record.get("note"):
        lines.append(f"note: {record['note']}")
    return "\n".join(lines)


def time_rows(here: Sequence[Row], there: Sequence[Row], stale: dict[str, str]) -> list[dict[str, str]]:
    """Per notebook of this machine: the first-run cost here and on the device and their ratio — only where the
    device ran the same code (not in ``stale``, from :func:`~conservae_lib.chapters.performance.book_runs.stale_notebooks`)
    and both costs are known the same way; otherwise why not."""
    other = {r["notebook"]: r for r in there}
    rows = []
    for r in here:
        name, o = r["notebook"], other.get(r["notebook"])
        (a, how_a), (b, how_b) = first_run(r), first_run(o or {})
        row = {"notebook": name, "first run here": duration(a), "first run on the device": duration(b),
               "here / device": "—", "compared": "yes"}
        if o is None:
            row["compared"] = "not in the record"
        elif name in stale:
            row.update({"first run on the device": "—", "compared": f"stale, not compared: {stale[name]}"})
        elif a is None or b is None or how_a != how_b or not b:
            row["compared"] = "no: the first-run cost is not known the same way on both"
        else:
            row["here / device"] = f"{fmt(a / b, 3)}×"
        rows.append(row)
    return rows


def time_table(timed: Sequence[Row], record: Row, stale: dict[str, str]) -> pd.DataFrame:
    """:func:`time_rows` of this machine's timed chapters against a device record's, by notebook."""
    return frame(time_rows(timed, record["chapters"], stale), index="notebook")


def verdict_summary(rows: Sequence[Row], n_notebooks: int) -> str:
    """How many of the :func:`~conservae_lib.chapters.performance.book_runs.claim_rows` (of the ``n_notebooks``
    chapters that ran the same code on both machines) get the same verdict; what the table shows."""
    same = sum(r["same verdict"] for r in rows)
    return (f"{same} of {len(rows)} claims get the same verdict on both machines (claims of the {n_notebooks} "
            "chapters that ran the same code on both)\nthe Table 1 cells, and every claim whose verdict differs:")


def claims_table(rows: Sequence[Row]) -> pd.DataFrame:
    """The :func:`~conservae_lib.chapters.performance.book_runs.claim_rows` of Table 1 and those whose verdict differs,
    numbers to 4 significant digits."""
    return frame([{k: (fmt(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows
                  if not r["same verdict"] or r["claim"].startswith("table1")], index="claim")


def device_speed(record: Row) -> str | None:
    """The device's Gram-path speed-up and ``training.fit``'s share of its matmul floor, from the
    performance page's measurements in the record; None when it holds none."""
    from conservae_lib.presentation.report import fmt_pct

    gpu = record.get("benchmark") or {}
    if not (gpu.get("metrics") and gpu.get("training")):
        return None
    return (f"on the device: Gram-path sym(J) {fmt(gpu['metrics']['speedup']['symmetricity_vs_vmap_jacrev'], 3)}× "
            f"faster than vmap(jacrev) (float64, {gpu['metrics']['n_points']} points); training.fit at "
            f"{fmt_pct(gpu['training']['fraction_of_matmul']['fit'])} of its matmul floor")


# ----------------------------------------------------------------------------- what a cell shows
def show_chapter_timings(timed: Sequence[Row]) -> None:
    """Print the chapters' two time sentences and, when any chapter was timed, display their table (the
    page's figure is :func:`chapter_figure`, glued by the chapter)."""
    from IPython.display import display

    print(chapter_summary(timed))
    if timed:
        display(chapter_table(timed))


def show_device_comparison(record: Row | None, timed: Sequence[Row], claim_rows: Sequence[Row], profile: str,
                           stale: str | None = None, stale_notebooks: dict[str, str] | None = None) -> None:
    """Print what the device record says (or that there is none). A record of which nothing ran this checkout's
    code (``stale``) is labelled ``stale, not compared`` and nothing of it is compared; otherwise display the
    first-run costs here and there chapter by chapter (``stale_notebooks`` marked, not compared), the verdicts of
    the chapters that ran the same code (``claim_rows``) and the device's speed-up when its performance page ran
    the same code."""
    from IPython.display import display

    print(device_summary(record, timed, profile, stale))
    if record is None or stale:
        return
    stale_notebooks = stale_notebooks or {}
    display(time_table(timed, record, stale_notebooks))
    n_same = sum(r["notebook"] not in stale_notebooks for r in record["chapters"])
    print(verdict_summary(claim_rows, n_same))
    display(claims_table(claim_rows))
    speed = device_speed(record) if not any(n.startswith("91_") for n in stale_notebooks) else None
    if speed:
        print(speed)
