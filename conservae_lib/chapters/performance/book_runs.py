"""What the book's executed runs recorded: each chapter's wall time and device, its training time,
its claims, and the record of a whole-book run on another machine (a GPU).

Readers of what :mod:`conservae_lib.tooling.pipeline` writes into each executed notebook's metadata and
what the chapters write to ``results/<profile>/<chapter>/summary.json``; no measurement and no
formatting (the tables are in :mod:`conservae_lib.chapters.performance.runs_report`).

* :func:`chapter_timings` — per executed notebook: the wall time of its last execution, its device, the
  training time its summary records run by run, whether the chapter keeps checkpoints, and a digest of the
  code it ran; :func:`first_run` — what a first run of it costs, as far as it is known (never a reload).
* :func:`claims_of` — every chapter's claims under one profile; :func:`claim_rows` and
  :func:`compare_claims` join two runs' claims.
* :func:`save_measurements` — the performance page's measurements, where a device record finds them.
* :func:`device_record` — a whole-book run in one JSON-able record (with its commit and each chapter's code
  digest); :func:`load_device_record` reads the one stored under ``results/device/``;
  ``python -m conservae_lib.chapters.performance.book_runs record`` writes one (``benchmarks/device_check.py``
  runs the book first and then writes it). :func:`stale_notebooks`, :func:`compared_notebooks` and
  :func:`stale_record` say which of its chapters ran the code of this checkout's pages: only those are compared.

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

__all__ = ["BOOK_NOTEBOOKS", "chapter_timings", "keeps_checkpoints", "code_digest", "first_run", "claims_of",
           "claim_rows", "compare_claims", "save_measurements", "device_record", "device_record_path",
           "load_device_record", "record_commits", "stale_notebooks", "compared_notebooks", "stale_record"]

#: Chapter → its claims (each a summary's claim record).
Claims = dict[str, list[dict[str, Any]]]

#: The executed notebooks of the published book (profile ``paper``).
BOOK_NOTEBOOKS = REPO_ROOT / "book" / "notebooks"
#: The chapters' library code (one folder per chapter), read by :func:`keeps_checkpoints`.
CHAPTERS_DIR = Path(__file__).resolve().parents[1]


def chapter_timings(notebook_dir: str | Path, results_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Per executed notebook in ``notebook_dir``, in book order (from the metadata the pipeline writes):

    * ``wall_s``, ``device`` — the wall time of its *last execution* and where it ran
      (``metadata["conservae"]["timing"]``; None without a record). For a chapter that keeps checkpoints this
      may be a reload of finished runs, not what a first run costs;
    * ``train_s`` — with ``results_dir`` (``results/<profile>``), the training wall time the chapter's summary
      records run by run (its ``wall_s`` mapping, summed; None when it records none): the trainer adds up the
      time of every session of a resumed run, so this is a first run's training cost whatever the last
      execution reloaded;
    * ``checkpoints`` — whether the chapter resumes from checkpoints (:func:`keeps_checkpoints`);
    * ``code`` — :func:`code_digest` of what the notebook was made from (None without a record)."""
    rows = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text()).get("metadata", {}).get("conservae", {})
        except (OSError, json.JSONDecodeError):
            meta = {}
        timing = meta.get("timing") or {}
        chapter = _chapter(path.stem)
        rows.append({
            "notebook": path.stem, "profile": (meta.get("parameters") or {}).get("profile"),
            "wall_s": timing.get("wall_s"), "device": timing.get("device"),
            "train_s": _training_seconds(Path(results_dir), chapter) if results_dir is not None else None,
            "checkpoints": keeps_checkpoints(chapter), "code": code_digest(meta),
        })
    return rows


def _chapter(notebook: str) -> str:
    """``04_mnist_symmetricity`` → ``mnist_symmetricity``."""
    return notebook.split("_", 1)[-1]


def _training_seconds(results_dir: Path, chapter: str) -> float | None:
    """Sum of the per-run training wall times in ``<results_dir>/<chapter>/summary.json``."""
    try:
        runs = json.loads((results_dir / chapter / "summary.json").read_text()).get("wall_s")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(runs, dict) or not runs:
        return None
    values = [v for v in runs.values() if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(sum(values)) if values else None


def keeps_checkpoints(chapter: str, chapters_dir: Path = CHAPTERS_DIR) -> bool:
    """Whether the chapter's code (``conservae_lib/chapters/<chapter>/*.py``) trains with a ``checkpoint=``
    argument — :func:`conservae_lib.training.trainer.fit` then resumes from it, so a re-execution of the page can
    reload finished runs instead of training them. Read from the source, so it holds in any checkout."""
    import ast

    for path in sorted((chapters_dir / chapter).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(
                    k.arg == "checkpoint" and not (isinstance(k.value, ast.Constant) and k.value.value is None)
                    for k in node.keywords):
                return True
    return False


def code_digest(meta: dict[str, Any]) -> str | None:
    """One digest of what an executed notebook was made from — its source, the library code it imports and its
    parameters, as the pipeline records them (``source_sha``, ``library_sha``, ``parameters``) — or None when
    the notebook records none. Two runs with the same digest ran the same code."""
    import hashlib

    keys = ("source_sha", "library_sha", "parameters")
    if not all(meta.get(k) for k in keys):
        return None
    return hashlib.sha256(json.dumps({k: meta[k] for k in keys}, sort_keys=True).encode()).hexdigest()[:16]


#: How :func:`first_run` knows a first run's cost.
FROM_TRAINING = "training, summed"
FROM_EXECUTION = "execution"


def first_run(row: dict[str, Any]) -> tuple[float | None, str | None]:
    """(seconds, how it is known) of a first run of a :func:`chapter_timings` row, or (None, None) when unknown.

    The training time summed over runs when the summary records it (:data:`FROM_TRAINING`; a lower bound of the
    whole chapter's cost, which adds evaluation and, with several workers, is spread over them); else the last
    execution's wall time only for a chapter that keeps no checkpoints (:data:`FROM_EXECUTION`: it recomputes
    everything each time). A chapter that keeps checkpoints and records no training time has no known first-run
    cost: its last execution may have been a reload."""
    if row.get("train_s") is not None:
        return float(row["train_s"]), FROM_TRAINING
    if not row.get("checkpoints") and row.get("wall_s") is not None:
        return float(row["wall_s"]), FROM_EXECUTION
    return None, None


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


def compare_claims(record: dict[str, Any], profile: str, notebooks: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`claim_rows` of this checkout's results (:func:`claims_of` under the results root) against a device
    ``record``'s claims, for the chapters of ``notebooks`` only (:func:`compared_notebooks`: those that ran the same
    code) and only the claims judged under today's rule (a record keeps the rule each verdict came from)."""
    from conservae_lib.claims import ledger

    chapters = {_chapter(n) for n in notebooks}
    known = set(ledger.ids())
    def today(c: dict[str, Any]) -> bool:
        return c.get("id") in known and c.get("rule") == ledger.claim(c["id"]).rule.describe()

    there = {ch: [c for c in claims if today(c)] for ch, claims in (record.get("claims") or {}).items() if ch in chapters}
    here = {ch: claims for ch, claims in claims_of(results.results_root(), profile).items() if ch in chapters}
    return claim_rows(here, there)


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
    machine, the command, the commit it ran (``git rev-parse HEAD``), each notebook's wall time, device and code
    digest (:func:`chapter_timings`), every chapter's claims (``results_root/<profile>/<chapter>/summary.json``)
    and the performance page's measurements (``performance/benchmark.json``) when present, and a free-text
    ``note``. The performance appendix sets it beside this machine's run, chapter by chapter where the code digests
    agree (:func:`compared_notebooks`)."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    base = Path(results_root) / profile
    keys = ("id", "statement", "ours", "paper", "verdict", "spread", "rule")
    claims = {chapter: [{k: c.get(k) for k in keys} for c in found]
              for chapter, found in claims_of(results_root, profile).items()}
    bench = base / _MEASUREMENTS
    here = machine(dev)
    # only pages executed on this device (a page left from another machine keeps its own label)
    chapters = [r for r in chapter_timings(notebook_dir, Path(results_root) / profile) if r["device"] in (here["device"], None) or dev.type == "cpu"]
    return {
        **here, "cuda": torch.version.cuda, "profile": profile, "command": command, "note": note,
        "commit": _head_commit(), "date": datetime.date.today().isoformat(), "chapters": chapters, "claims": claims,
        "benchmark": files.load_json(bench) if bench.exists() else None,
    }


def _head_commit(root: Path = REPO_ROOT) -> str | None:
    """``git rev-parse HEAD`` of the checkout, or None (no git, not a checkout)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and len(out.stdout.strip()) == 40 else None


def device_record_path(profile: str) -> Path:
    """Where the performance appendix looks for a device run: ``<results root>/device/<profile>.json``."""
    return results.results_root() / "device" / f"{profile}.json"


def load_device_record(profile: str) -> dict[str, Any] | None:
    """The stored record of a whole-book run on another device (:func:`device_record_path`), or
    None when none is stored for ``profile``."""
    path = device_record_path(profile)
    return files.load_json(path) if path.exists() else None


def record_commits(record: dict[str, Any]) -> tuple[list[str], bool]:
    """The commits a device record was made at, short (7 characters), and whether the record stores them itself
    (``commit``) — else the ones its free-text note names (a record older than the ``commit`` field)."""
    import re

    if record.get("commit"):
        return [str(record["commit"])[:7]], True
    named = re.findall(r"\b[0-9a-f]{7,40}\b", str(record.get("note") or ""))
    return list(dict.fromkeys(c[:7] for c in named)), False


def stale_notebooks(record: dict[str, Any], here: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Notebook → why the record's run of it is not compared with this checkout's page (``here``: this checkout's
    :func:`chapter_timings`): the record stores no code digest for it (older records), this checkout has no page
    of it, or the digests differ (another source, library code or parameters: another commit's code)."""
    mine = {r["notebook"]: r.get("code") for r in here}
    out = {}
    for r in record.get("chapters") or []:
        name, theirs = r.get("notebook"), r.get("code")
        if not theirs:
            out[name] = "the record stores no digest of the code it ran"
        elif not mine.get(name):
            out[name] = "this checkout has no executed page of it with a code digest"
        elif mine[name] != theirs:
            out[name] = "it ran other code than this checkout's page (source, library or parameters differ)"
    return out


def compared_notebooks(record: dict[str, Any], here: Sequence[dict[str, Any]]) -> list[str]:
    """The notebooks whose run in ``record`` used the same code as this checkout's page: the only ones compared."""
    stale = stale_notebooks(record, here)
    return [r["notebook"] for r in record.get("chapters") or [] if r.get("notebook") not in stale]


def stale_record(record: dict[str, Any], here: Sequence[dict[str, Any]]) -> str | None:
    """Why nothing of ``record`` can be compared with this checkout's run, or None when some chapter can
    (:func:`compared_notebooks`; the others are named by :func:`stale_notebooks`)."""
    if compared_notebooks(record, here):
        return None
    reasons = sorted(set(stale_notebooks(record, here).values()))
    return "; ".join(reasons) if reasons else "it records no chapter"


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
