"""What the book's executed runs recorded: each chapter's wall time and device, its training time,
its claims, and the record of a whole-book run on another machine (a GPU).

Readers of what :mod:`conservae_lib.tooling.pipeline` writes into each executed notebook's metadata and
what the chapters write to ``results/<profile>/<chapter>/summary.json``; no measurement and no
formatting (the tables are in :mod:`conservae_lib.chapters.performance.report`).

* :func:`chapter_timings` — wall time, device and training time of each executed notebook.
* :func:`claims_of` — every chapter's claims under one profile; :func:`claim_rows` and
  :func:`compare_claims` join two runs' claims.
* :func:`save_measurements` — the performance page's measurements, where a device record finds them.
* :func:`device_record` — a whole-book run in one JSON-able record; :func:`load_device_record`
  reads the one stored under ``results/device/``; ``python -m conservae_lib.chapters.performance.book_runs record``
  writes one (``benchmarks/device_check.py`` runs the book first and then writes it).

Chapter: appendix *Performance* (``notebooks/91_performance.md``, sections "Time per chapter" and
"The same book on a GPU").
"""
from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any, Sequence

import torch

from conservae_lib.foundations import files
from conservae_lib.presentation import results
from conservae_lib.foundations.files import REPO_ROOT
from conservae_lib.training.runtime import machine

__all__ = ["stale_record", "BOOK_NOTEBOOKS", "chapter_timings", "claims_of", "claim_rows", "compare_claims", "save_measurements",
           "device_record", "device_record_path", "load_device_record"]

#: Chapter → its claims (each a summary's claim record).
Claims = dict[str, list[dict[str, Any]]]

#: The executed notebooks of the published book (profile ``paper``).
BOOK_NOTEBOOKS = REPO_ROOT / "book" / "notebooks"


def chapter_timings(notebook_dir: str | Path, results_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Wall time and device of each executed notebook in ``notebook_dir`` (from the metadata the
    pipeline writes: ``metadata["conservae"]["timing"]``), in book order; notebooks without a
    record are listed with ``wall_s=None``. With ``results_dir`` (``results/<profile>``), also
    ``train_s``: the training wall time the chapter's summary records run by run (its ``wall_s``
    mapping, summed; None when it records none) — what a first run costs even when the page itself
    was executed by reloading finished checkpoints."""
    rows = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text()).get("metadata", {}).get("conservae", {})
        except (OSError, json.JSONDecodeError):
            meta = {}
        timing = meta.get("timing") or {}
        rows.append({
            "notebook": path.stem, "profile": (meta.get("parameters") or {}).get("profile"),
            "wall_s": timing.get("wall_s"), "device": timing.get("device"),
            "train_s": _training_seconds(Path(results_dir), path.stem) if results_dir is not None else None,
        })
    return rows


def _training_seconds(results_dir: Path, notebook: str) -> float | None:
    """Sum of the per-run training wall times in ``<results_dir>/<chapter>/summary.json``."""
    summary = results_dir / notebook.split("_", 1)[-1] / "summary.json"
    try:
        runs = json.loads(summary.read_text()).get("wall_s")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(runs, dict) or not runs:
        return None
    values = [v for v in runs.values() if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(sum(values)) if values else None


def claims_of(results_root: str | Path, profile: str) -> Claims:
    """Chapter → its claims (id, ours, paper, verdict…) from ``<results_root>/<profile>/*/summary.json``."""
    out = {}
    for path in sorted((Path(results_root) / profile).glob("*/summary.json")):
        out[path.parent.name] = files.load_json(path).get("claims", [])
    return out


def claim_rows(here: Claims, there: Claims) -> list[dict[str, Any]]:
    """Every claim found in both runs: our number and verdict here and on the device."""
    rows = []
    for chapter, claims in here.items():
        other = {c["id"]: c for c in there.get(chapter, [])}
        for c in claims:
            o = other.get(c["id"])
            if o is None:
                continue
            rows.append({"chapter": chapter, "claim": c["id"], "paper": c.get("paper"), "ours here": c.get("ours"),
                         "ours on device": o.get("ours"), "verdict here": c.get("verdict"),
                         "verdict on device": o.get("verdict"), "same verdict": c.get("verdict") == o.get("verdict")})
    return rows


def compare_claims(record: dict[str, Any], profile: str) -> list[dict[str, Any]]:
    """:func:`claim_rows` of this checkout's results (:func:`claims_of` under the results root) against
    a device ``record``'s claims."""
    return claim_rows(claims_of(results.results_root(), profile), record["claims"])


#: The performance page's measurements, under ``<results root>/<profile>``.
_MEASUREMENTS = Path("performance") / "benchmark.json"


def save_measurements(profile: str, **parts: Any) -> Path:
    """Write the performance page's measurements (``metrics=…, deep=…`` — JSON-able results) to
    ``<results root>/<profile>/performance/benchmark.json``, where :func:`device_record` reads
    them; the page records no claims (no ``summary.json``)."""
    path = results.results_dir(_MEASUREMENTS.parent.name, profile) / _MEASUREMENTS.name
    return files.save_json(path, parts)


def device_record(notebook_dir: str | Path, results_root: str | Path, profile: str, command: str,
                  note: str = "") -> dict[str, Any]:
    """What a whole-book run on another machine (a GPU) produced, in one JSON-able record: the
    machine, the command, each notebook's wall time and device (:func:`chapter_timings`), every
    chapter's claims (``results_root/<profile>/<chapter>/summary.json``) and the performance
    page's measurements (``performance/benchmark.json``) when present, and a free-text ``note``
    (e.g. which commit ran). The performance appendix sets it beside this machine's run."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    base = Path(results_root) / profile
    keys = ("id", "statement", "ours", "paper", "verdict", "spread")
    claims = {chapter: [{k: c.get(k) for k in keys} for c in found]
              for chapter, found in claims_of(results_root, profile).items()}
    bench = base / _MEASUREMENTS
    here = machine(dev)
    # only pages executed on this device (a page left from another machine keeps its own label)
    chapters = [r for r in chapter_timings(notebook_dir, Path(results_root) / profile) if r["device"] in (here["device"], None) or dev.type == "cpu"]
    return {
        **here, "cuda": torch.version.cuda, "profile": profile, "command": command, "note": note,
        "date": datetime.date.today().isoformat(), "chapters": chapters, "claims": claims,
        "benchmark": files.load_json(bench) if bench.exists() else None,
    }


def device_record_path(profile: str) -> Path:
    """Where the performance appendix looks for a device run: ``<results root>/device/<profile>.json``."""
    return results.results_root() / "device" / f"{profile}.json"


def stale_record(record: dict[str, Any]) -> str | None:
    """Why a device ``record`` cannot be compared with this checkout's run, or None when it can: its claims must
    be today's ledger — the same ids, each judged under the same rule (a record keeps the rule each verdict
    came from). A record made before the claims or their rules changed measured another protocol."""
    from conservae_lib.claims import ledger

    recs = [c for cs in (record.get("claims") or {}).values() for c in cs if not c.get("reading")]
    ids = {c.get("id") for c in recs}
    if ids != set(ledger.ids()):
        return (f"it records {len(ids)} claims ({len(ids - set(ledger.ids()))} no longer registered), against the "
                f"{len(ledger.ids())} claims the ledger holds now")
    changed = [c["id"] for c in recs if c.get("rule") != ledger.claim(c["id"]).rule.describe()]
    if changed:
        return f"{len(changed)} of its claims were judged under rules that have changed since (e.g. {changed[0]})"
    return None


def load_device_record(profile: str) -> dict[str, Any] | None:
    """The stored record of a whole-book run on another device (:func:`device_record_path`), or
    None when none is stored for ``profile``."""
    path = device_record_path(profile)
    return files.load_json(path) if path.exists() else None


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m conservae_lib.chapters.performance.book_runs record PROFILE OUT --command CMD``: write the record
    of the run just made in this checkout (book/notebooks, results/)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m conservae_lib.chapters.performance.book_runs")
    ap.add_argument("what", choices=["record"])
    ap.add_argument("profile")
    ap.add_argument("out", type=Path)
    ap.add_argument("--command", default="")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    record = device_record(BOOK_NOTEBOOKS, results.results_root(), args.profile, args.command, args.note)
    files.save_json(args.out, record)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
