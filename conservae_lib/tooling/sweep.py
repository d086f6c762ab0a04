"""The bad-input sweep: values drawn from every chapter's declared ranges, edges included, each run under ``smoke``.

The declared ranges (:class:`conservae_lib.foundations.parameters.Param`) are the truth: a value inside them runs,
a value outside is refused before any computing with one sentence naming the parameter. :func:`cases` draws, for
every chapter and parameter, the values at the edges of its range (the lowest allowed, a float's highest, every
choice, the other boolean, a one-element list) and :func:`run_case` runs each through the command line into a
scratch folder. A case passes when the chapter is refused in one line naming the parameter, or runs to completion;
it fails when the chapter stops inside the kernel (the range let through a value the chapter cannot handle).
Upper edges of integer sizes and lengths are left out: they cost only time, and the memory estimate refuses what
cannot fit.

``python -m conservae_lib sweep`` runs every case (about an hour on two cores); ``make test`` runs a fixed sample
(:func:`sample`, ``tests/tooling/test_sweep.py``). Book tooling.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from conservae_lib.foundations.parameters import Param
from .notebook_files import REPO_ROOT

__all__ = ["Case", "Outcome", "cases", "sample", "run_case", "SKIPPED"]

#: Parameters the sweep leaves alone: the device (this machine's), where data come from and where they live (other
#: sources need other files), and how many processes train side by side (only speed).
SKIPPED = ("device", "data_source", "data_root", "data_check_source", "data_check_root", "workers", "cpu_threads",
           "threads", "results_profile")


@dataclass(frozen=True)
class Case:
    """One chapter run with one parameter set to one value (every other parameter at its ``smoke`` value)."""

    chapter: str  # the notebook's stem, e.g. 04_mnist_symmetricity
    name: str
    value: Any

    @property
    def label(self) -> str:
        return f"{self.chapter} -p {self.name} {json.dumps(self.value)}"


@dataclass(frozen=True)
class Outcome:
    """What a case did: ``refused`` (one line naming the parameter, before any chapter ran), ``ran``, ``crashed``
    (an error inside the kernel) or ``slow`` (past the timeout); ``line`` is the command's last line."""

    case: Case
    status: str
    line: str

    @property
    def ok(self) -> bool:
        return self.status in ("refused", "ran")


def _edges(p: Param, smoke: Any) -> list[Any]:
    """The values at the edges of ``p``'s range, other than its smoke value."""
    if p.choices:
        out: list[Any] = [[c] if p.many else c for c in p.choices]
    elif p.kind is bool:
        out = [not smoke]
    elif p.kind in (int, float):
        lowest = None
        if p.low is not None:
            lowest = (p.low + 1 if p.kind is int else p.low + 1e-6) if p.strict else p.low
            lowest = int(lowest) if p.kind is int else float(lowest)
        out = [] if lowest is None else [lowest]
        if p.kind is float and p.high is not None:
            out.append(float(p.high))
        out = [[v] for v in out] if p.many else out
    else:
        out = []
    if p.optional:
        out.append(None)
    return [v for v in out if v != smoke and (p.problem(v) is None)]


def cases(chapters: Sequence[str] = ()) -> list[Case]:
    """Every case of the sweep, chapter by chapter in book order (``chapters``: notebook stems, default all)."""
    from .notebook_files import chapter_name, notebook_sources
    from .profiles import chapter_keys, declaration

    out = []
    for source in notebook_sources(REPO_ROOT, chapters):
        key = chapter_name(source)
        if key not in chapter_keys():
            continue
        decl = declaration(key)
        smoke = decl.table("smoke")
        for p in decl.params:
            if p.name not in SKIPPED:
                out += [Case(source.stem, p.name, v) for v in _edges(p, smoke[p.name])]
    return out


def sample(n: int, seed: int = 0) -> list[Case]:
    """``n`` cases spread over the chapters: round robin over each chapter's cases ordered by a seeded hash of
    their labels, so that a case stays in the sample when other cases come or go."""
    def key(c: Case) -> str:
        return hashlib.sha256(f"{seed}:{c.label}".encode()).hexdigest()

    by_chapter: dict[str, list[Case]] = {}
    for c in cases():
        by_chapter.setdefault(c.chapter, []).append(c)
    queues = [sorted(cs, key=key, reverse=True) for cs in by_chapter.values()]
    out: list[Case] = []
    while len(out) < n and any(queues):
        for cs in queues:
            if cs and len(out) < n:
                out.append(cs.pop())
    return out


def run_case(case: Case, folder: Path | None = None, timeout: float = 600) -> Outcome:
    """Run ``case`` through ``python -m conservae_lib run --profile smoke`` into ``folder`` (a scratch folder
    by default) and classify what happened (:class:`Outcome`)."""
    scratch = folder is None
    folder = Path(folder or tempfile.mkdtemp(prefix="conservae-sweep-"))
    cmd = [sys.executable, "-m", "conservae_lib", "run", "--profile", "smoke", "--output-dir", str(folder),
           "-p", case.name, json.dumps(case.value), case.chapter]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, TQDM_DISABLE="1"))
    except subprocess.TimeoutExpired:
        return Outcome(case, "slow", f"still running after {timeout:.0f} s")
    finally:
        if scratch:
            shutil.rmtree(folder, ignore_errors=True)
    err = proc.stderr.strip().splitlines()
    last = err[-1] if err else (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode == 0:
        return Outcome(case, "ran", last)
    named = len(err) == 1 and err[0].startswith(f"error: parameter {case.name!r}") and not proc.stdout.strip()
    return Outcome(case, "refused" if named else "crashed", last)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conservae_lib sweep [--cases N] [--chapter STEM …] [--timeout S]``: run the sweep, print one line
    per case, and return 1 when a case crashed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m conservae_lib sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=0, help="a sample of this many cases (default: every case)")
    parser.add_argument("--chapter", action="append", default=[], help="only this chapter (notebook stem); repeatable")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per case")
    args = parser.parse_args(argv)
    todo = sample(args.cases) if args.cases else cases(args.chapter)
    failed = 0
    for i, case in enumerate(todo, 1):
        out = run_case(case, timeout=args.timeout)
        failed += not out.ok
        print(f"[{i}/{len(todo)}] {out.status:8s} {case.label}: {out.line}", flush=True)
    print(f"{len(todo) - failed} of {len(todo)} cases refused in one line or ran; {failed} crashed or ran too long")
    return 1 if failed else 0
