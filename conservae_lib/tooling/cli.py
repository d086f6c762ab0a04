"""The command line: ``python -m conservae_lib run|check|list|parameters|pretrain`` (entry point ``conservae``).

* ``run [names] --profile P [-p NAME VALUE] [--output-dir D] [--force]`` — execute chapters
  (:func:`conservae_lib.tooling.pipeline.run`), every ``-p`` checked against the chapters' declarations
  before any kernel starts;
* ``check --profile P`` — name the executed notebooks that are out of date (status 1 if any);
* ``list`` — the chapters;
* ``parameters [--write]`` — check (rewrite) the notebooks' papermill cells against the declarations;
* ``pretrain --profile P [--workers K] [--threads T] [--budget-min M]`` — train chapter 04's runs from a shell
  (resumable; under ``full`` in parts, each finished run writing its result file);
* ``sweep [--cases N] [--chapter STEM] [--timeout S]`` — the bad-input sweep (:mod:`conservae_lib.tooling.sweep`).
Errors are one line; Ctrl-C or SIGTERM prints one line and exits with status 130. Book tooling.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from .notebook_files import REPO_ROOT, chapter_name, notebook_sources
from .pipeline import chapter_parameters, default_output_dir, results_root_for, run
from .staleness import is_current


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split_parameters(argv: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Take every ``-p NAME VALUE`` / ``--parameter NAME VALUE`` out of ``argv`` before argparse
    sees it: argparse would read a value such as ``-Infinity`` or ``-1e5`` as an option."""
    rest, pairs, i = [], [], 0
    while i < len(argv):
        if argv[i] in ("-p", "--parameter"):
            if len(argv) - i < 3:
                raise SystemExit(f"error: {argv[i]} needs a NAME and a VALUE, e.g. -p seed 3.")
            pairs.append((argv[i + 1], argv[i + 2]))
            i += 3
        else:
            rest.append(argv[i])
            i += 1
    return rest, pairs


INTERRUPTED = "interrupted; re-run the same command to resume from the checkpoints"


def _parser() -> argparse.ArgumentParser:
    """The command line's options: ``run``, ``check``, ``list``, ``pretrain``, ``parameters`` (``sweep`` parses its own)."""
    parser = argparse.ArgumentParser(prog="python -m conservae_lib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute chapters (paper: into book/notebooks)")
    p_run.add_argument("names", nargs="*", help="chapters to run (default: all)")
    p_run.add_argument("--profile", default="paper")
    p_run.add_argument("--force", action="store_true", help="re-execute even if up to date")
    p_run.add_argument("--output-dir", type=Path, default=None,
                       help="folder for the notebooks; results then go to <output-dir>/results")
    p_run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="override a chapter parameter (value parsed as JSON when possible); the run then "
                            "writes to --output-dir, or .tmp/variants/<profile>, never to results/<profile>")
    p_check = sub.add_parser("check", help="list executed notebooks that are out of date")
    p_check.add_argument("--profile", default="paper")
    p_check.add_argument("--output-dir", type=Path, default=None,
                         help="folder of the notebooks to check (default: that of the profile)")
    sub.add_parser("list", help="list the chapters")
    p_pre = sub.add_parser("pretrain", help="train chapter 04's runs into its checkpoint folder (the chapter then "
                                             "reloads them)")
    p_pre.add_argument("--profile", default="paper")
    p_pre.add_argument("--workers", type=int, default=1, help="processes training runs side by side")
    p_pre.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p_pre.add_argument("--budget-min", type=float, default=None,
                       help="start no run after this many minutes (runs in progress finish; with the profile's "
                            "run_files each finished run has its result file): run again to continue")
    p_par = sub.add_parser("parameters", help="check that every notebook's parameters cell matches its declaration")
    p_par.add_argument("--write", action="store_true", help="rewrite the cells that differ")
    sub.add_parser("sweep", help="run the bad-input sweep under smoke (python -m conservae_lib sweep --help)")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    raw = list(argv) if argv is not None else sys.argv[1:]
    if raw[:1] == ["sweep"]:  # its own options (conservae_lib.tooling.sweep)
        from .sweep import main as sweep_main

        return sweep_main(raw[1:])
    args_in, pairs = _split_parameters(raw)
    args = _parser().parse_args(args_in)

    if args.command == "list":
        for s in notebook_sources():
            print(s.stem)
        return 0
    if args.command == "parameters":
        return _parameters_cells(args.write)
    from conservae_lib.foundations.parameters import PROFILES

    if args.profile not in PROFILES:
        print(f"error: parameter 'profile' got {args.profile!r}, but it must be one of {', '.join(PROFILES)}.",
              file=sys.stderr)
        return 2
    if args.command == "pretrain":
        if args.workers < 1 or args.threads < 0 or (args.budget_min is not None and not args.budget_min > 0):
            print(f"error: --workers must be ≥ 1, --threads ≥ 0 and --budget-min > 0; got {args.workers}, "
                  f"{args.threads} and {args.budget_min}.", file=sys.stderr)
            return 2
        return _pretrain(args.profile, args.workers, args.threads, args.budget_min)
    if args.command == "check":
        return _check(args.profile, args.output_dir)
    extra = {name: _parse_value(value) for name, value in [*args.parameter, *pairs]}
    return _run_chapters(args, extra, quiet=argv is None)


def _run_chapters(args: argparse.Namespace, extra: dict[str, Any], quiet: bool) -> int:
    """``run``: execute the chapters; Ctrl-C or SIGTERM → :data:`INTERRUPTED` and 130, a failed cell → one line and 1."""
    if quiet:  # the real command line: SIGTERM stops a run as Ctrl-C does (kernel and its workers first)
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        validate_parameters(args.profile, args.names, extra)
        run(args.profile, args.names, args.output_dir, args.force, extra)
    except KeyboardInterrupt:
        return _interrupted(quiet=quiet)
    except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
        if getattr(err, "ename", None) == "KeyboardInterrupt":  # the kernel got the Ctrl-C too
            return _interrupted(quiet=quiet)
        partial = getattr(err, "partial_notebook", None)
        where = f" (the notebook as far as it ran: {partial})" if partial is not None and Path(partial).exists() else ""
        print(f"error: {_short_error(err)}{where}", file=sys.stderr)
        return 1
    except SystemExit as err:
        if isinstance(err.code, str):
            print(err.code, file=sys.stderr)
            return 1
        raise
    return 0


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM (``kill``, a scheduler's stop): raise KeyboardInterrupt, so that the run unwinds as after Ctrl-C —
    papermill shuts the kernel's process group down (the kernel and its pool workers) before the chapter's lock
    is released, :data:`INTERRUPTED` is the one line printed, and a re-run resumes from the checkpoints."""
    raise KeyboardInterrupt


def _interrupted(quiet: bool) -> int:
    """Ctrl-C: print :data:`INTERRUPTED` and return 130 (128 + SIGINT). With ``quiet`` (the real
    command line), everything the kernel client's threads, papermill's loggers and the exit
    handlers would print afterwards (ZMQ errors, 'Kernel died') goes to /dev/null, so that one
    line is all the user sees. Checkpoints are written atomically, so a re-run resumes."""
    if not quiet:
        print(INTERRUPTED, file=sys.stderr, flush=True)
        return 130
    import logging

    logging.disable(logging.CRITICAL)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)  # threads and C code write to fd 2 directly
        sys.stderr = open(os.devnull, "w")
        os.write(saved, (INTERRUPTED + "\n").encode())
        os.close(saved)
    except OSError:
        print(INTERRUPTED, file=sys.stderr, flush=True)
    return 130


def _pretrain(profile: str, workers: int, threads: int, budget_min: float | None = None) -> int:
    """``pretrain``: every run chapter 04 trains under ``profile``
    (:func:`conservae_lib.chapters.mnist_symmetricity.table1_jobs.train_table1`), in a pool of ``workers`` processes, into the
    chapter's checkpoint folder (and, with the profile's ``run_files``, each run's result file under ``runs/``); the
    chapter then reloads them. With ``budget_min`` no run starts after that many minutes; a budget that ends first
    prints what is left and exits 0 (run again to continue)."""
    import torch

    from conservae_lib.chapters.mnist_symmetricity import parameters, table1_jobs as J
    from conservae_lib.chapters.mnist_symmetricity.run_files import BudgetSpent
    from conservae_lib.presentation import results

    if threads:
        torch.set_num_threads(threads)
    cfg = parameters.PARAMETERS.configure(profile)
    where = results.results_dir("mnist_symmetricity", profile)
    try:
        tr = J.train_table1(cfg, J.load_data(cfg), where / "checkpoints", workers=workers,
                            runs_dir=where / "runs" if cfg.run_files else None,
                            budget_s=None if budget_min is None else 60 * budget_min)
    except BudgetSpent as err:
        print(f"budget spent: {err}", flush=True)
        return 0
    for r in tr.every:
        print(f"{r.name}: sym {r.final():.4f}, {r.wall_s:.0f} s{'; degenerate' if r.degenerate else ''}", flush=True)
    print(f"primary optimiser(s): {', '.join(tr.coprimary)}; lead: {tr.lead}", flush=True)
    return 0


def _parameters_cells(write: bool, root: Path = REPO_ROOT) -> int:
    """``parameters``: name the notebooks whose papermill cell differs from the chapter's declaration
    (status 1), or rewrite them with ``--write``."""
    from .profiles import sync_cells

    stale = sync_cells(root / "notebooks", write=write)
    for name in stale:
        print(f"{'rewrote' if write else 'out of date'}: parameters cell of notebooks/{name}")
    return 1 if stale and not write else 0


def _check(profile: str, output_dir: Path | None, root: Path = REPO_ROOT) -> int:
    """``check``: list the notebooks of ``profile`` (in ``output_dir`` or the profile's folder,
    :func:`default_output_dir`) that are missing or out of date; status 1 when any is."""
    folder = Path(output_dir) if output_dir is not None else default_output_dir(profile, root)
    results_root = results_root_for(folder, output_dir is not None, root)
    stale = [s.stem for s in notebook_sources(root)
             if not is_current(s, folder / f"{s.stem}.ipynb", {"profile": profile}, root, results_root)]
    for name in stale:
        print(f"stale: {name}")
    return 1 if stale else 0


def validate_parameters(profile: str, names: Sequence[str], extra: dict[str, Any], root: Path = REPO_ROOT) -> None:
    """Check the profile and ``-p`` overrides against every chosen chapter's table before any
    kernel starts, so that a bad value fails at once with the sentence from
    :func:`conservae_lib.foundations.parameters.configure`. A name that no chosen chapter defines is an error
    (for one chapter, configure's own sentence)."""
    from conservae_lib.foundations.parameters import ParameterError
    from .profiles import chapter_keys, configure, declaration

    if "profile" in extra:
        raise ParameterError(f"parameter 'profile' (given {extra['profile']!r}) is chosen with --profile, not -p; "
                             f"run with --profile {extra['profile']} instead.")
    if "chapter" in extra:
        raise ParameterError(f"parameter 'chapter' (given {extra['chapter']!r}) is set by the pipeline from the "
                             "chapter's file name; name the chapter as an argument instead.")
    sources = notebook_sources(root, names)
    tabled = [s for s in sources if chapter_name(s) in chapter_keys()]
    for source in tabled:
        configure(chapter_name(source), profile, **(extra if len(sources) == 1 else chapter_parameters(source, extra)))
    if len(sources) > 1 and len(tabled) == len(sources):
        known = set().union(*(declaration(chapter_name(s)).names for s in tabled))
        for name, value in extra.items():
            if name not in known:
                raise ParameterError(f"parameter {name!r} (given {value!r}) is not a parameter of any chosen chapter; "
                                     f"it must be one of {', '.join(['profile', *sorted(known)])}.")


def _short_error(err: Exception) -> str:
    """One line: the exception a notebook cell raised (papermill's ``ename``/``evalue``) or
    ``err`` itself, without the traceback."""
    evalue = getattr(err, "evalue", None)
    ename = getattr(err, "ename", None)
    if evalue is not None:
        lines = str(evalue).strip().splitlines()
        return f"{ename}: {lines[0] if lines else ''}".strip()
    lines = str(err).strip().splitlines()
    if isinstance(err, ValueError) and lines:
        return lines[0]
    return f"{type(err).__name__}: {lines[-1]}" if lines else repr(err)
