"""From Jupytext sources to executed notebooks: ``python -m conservae_lib run --profile paper``.

For every ``notebooks/NN_name.md`` the pipeline

1. reads the MyST-markdown source with jupytext and prepends the hidden Colab install cell
   (built from the repository URL in ``_config.yml``, so the URL lives in one place);
2. executes it with papermill, injecting ``profile`` (and any ``-p name value`` given);
3. normalises the result — stable cell ids, no timestamps or papermill timing, the injected
   parameters cell tagged ``remove-cell`` — and records in the notebook's metadata the digests
   of its inputs (source, parameters, the library modules it imports) with wall time and device;
4. writes ``<output dir>/NN_name.ipynb`` (``book/notebooks`` by default).

A notebook whose inputs (:mod:`conservae_lib.tooling.staleness`: source, parameters, the code of the
library modules it imports, the files its page declares) match the ones recorded in its existing
output is skipped; a re-run whose outputs are unchanged leaves the file untouched, so re-running
with the same inputs is byte-identical and git shows no diff.

Where results go (the published ones are never touched by a variant run):

* the published run — ``--profile paper``, no ``-p``, no ``--output-dir`` — writes
  ``book/notebooks/`` and ``results/paper/`` (or ``$CONSERVAE_RESULTS/paper/``);
* ``--profile smoke``/``full`` without ``-p`` or ``--output-dir`` write ``results/<profile>/``
  and their notebooks to ``results/<profile>/notebooks/``;
* a run with any ``-p`` override or with ``--output-dir`` is a *variant*: its notebooks go to
  the output folder (``.tmp/variants/<profile>/`` when only ``-p`` is given) and its results to
  ``<output folder>/results/<profile>/``, so ``results/<profile>/`` stays byte-identical.

The kernel gets ``CONSERVAE_RESULTS`` (the results root) and ``CONSERVAE_INPUTS_DIGEST`` (a digest
of everything :func:`inputs_digest` records), which :func:`conservae_lib.presentation.results.save_summary`
writes into each summary; a published run's kernel also gets ``CONSERVAE_PUBLISH=1``, without which no
summary is written into the repository's published ``results/paper`` or ``results/full`` (a notebook run
by hand or by papermill writes to ``results/unpublished/`` instead). A variant's output folder may not be,
contain or lie inside a published folder (:data:`PUBLISHED`, :func:`check_variant_folder`). One run of a chapter into one folder at a time: a second one is refused
with the holder's process id and start time. Ctrl-C prints one line and exits with status 130.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from .notebook_files import (METADATA_KEY, REPO_ROOT, chapter_name, dumps, load_source, normalize, notebook_sources, without_timing)
from .staleness import inputs_digest, inputs_sha, is_current

#: Where a run with ``-p`` overrides but no ``--output-dir`` puts its notebooks (and results).
VARIANTS_DIR = Path(".tmp") / "variants"
#: Where the per-chapter run locks live (never in an output folder, so nothing to commit or clean).
LOCKS_DIR = Path(".tmp") / "locks"
#: The folders that only the published runs write (relative to the repository root): the book's pages and the
#: committed results. A variant's output folder may not be one of them, contain one, or lie inside one.
PUBLISHED = (Path("book") / "notebooks", Path("results") / "paper", Path("results") / "full", Path("results") / "device")
#: Set (to "1") in the kernel of a published run only; without it a summary is not written into the repository's
#: published results (:func:`conservae_lib.presentation.results.summary_dir`).
PUBLISH_ENV = "CONSERVAE_PUBLISH"


class RunLockedError(RuntimeError):
    """Another run of the same chapter into the same output folder is in progress."""


class OutputNotWritableError(RuntimeError):
    """The output folder or the results folder of a run cannot be written."""


class PublishedFolderError(ValueError):
    """A variant run was pointed at a folder that holds (or lies in) the published results or pages."""


def check_variant_folder(output_dir: Path, root: Path = REPO_ROOT) -> None:
    """Refuse, before any kernel starts, a variant whose output folder — resolved, symlinks followed, so
    ``.``, an empty name or a link to the repository are seen for what they are — is one of the
    :data:`PUBLISHED` folders, contains one, or lies inside one: its notebooks or its ``results/`` would
    replace published files."""
    out = Path(output_dir).resolve()
    for rel in PUBLISHED:
        pub = (root / rel).resolve()
        if out == pub or _inside(pub, out) or _inside(out, pub):
            raise PublishedFolderError(
                f"--output-dir {str(output_dir) or repr('')} resolves to {out}, which "
                + ("is" if out == pub else "contains" if _inside(pub, out) else "lies inside")
                + f" the published folder {rel}; a variant run writes elsewhere (e.g. --output-dir .tmp/try).")


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and folder in path.parents


def chapter_parameters(source: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """The ``-p`` overrides that concern one chapter: those it declares (all of them for a
    notebook without a declaration). Running several chapters with ``-p seed 1`` thus reaches the
    chapters that have a seed and leaves the others alone."""
    from .profiles import chapter_keys, declaration

    name = chapter_name(source)
    if name not in chapter_keys():
        return dict(extra)
    names = declaration(name).names
    return {k: v for k, v in extra.items() if k in names}


#: Kernel arguments: keep the kernel's own log to errors. ipykernel warns on every start that its
#: TCP transport is not encrypted (the kernel listens on 127.0.0.1 for this process only); that
#: warning says nothing a reader of a chapter run can act on.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
#: Where the kernel process's own stdout/stderr go (its log, messages C code writes to the file
#: descriptors, a traceback when it is stopped mid-cell): one file per chapter, overwritten by each
#: run. What the chapter prints reaches its notebook through Jupyter's messages, not through these.
KERNEL_LOGS_DIR = Path(".tmp") / "logs"


def _kernel_manager_class(log_path: Path):
    """A kernel manager that starts the kernel with stdout and stderr going to ``log_path``, so the
    terminal shows only the pipeline's own lines (and, on Ctrl-C, only the one line)."""
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
                kw.setdefault("stdout", log)
                kw.setdefault("stderr", log)
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


def execute(
    source: Path,
    output: Path,
    parameters: dict[str, Any],
    cwd: Path | None = None,
    progress: bool = True,
    root: Path = REPO_ROOT,
    results_root: Path | None = None,
) -> float:
    """Execute one source with papermill into ``output`` (normalised); return wall seconds.

    With ``results_root`` the kernel saves its results there (``CONSERVAE_RESULTS``); it always
    gets ``CONSERVAE_INPUTS_DIGEST``, the digest of what determines this run.
    """
    import nbformat
    import papermill

    inputs = inputs_digest(source, parameters, root, results_root)
    nb = load_source(source, root)
    partial = root / KERNEL_LOGS_DIR / f"{source.stem}.partial.ipynb"  # the notebook as far as it ran
    partial.parent.mkdir(parents=True, exist_ok=True)
    env_before = dict(os.environ)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["CONSERVAE_INPUTS_DIGEST"] = inputs_sha(inputs)
    if results_root is not None:
        os.environ["CONSERVAE_RESULTS"] = str(Path(results_root).resolve())
        os.environ.pop(PUBLISH_ENV, None)
    else:
        os.environ[PUBLISH_ENV] = "1"
    start = time.perf_counter()
    try:
        with _quiet_loggers():
            executed = papermill.execute_notebook(
                nb, str(partial), parameters=parameters, kernel_name="python3",
                cwd=str(cwd or root), progress_bar=progress, log_output=False,
                extra_arguments=KERNEL_ARGUMENTS,
                kernel_manager_class=_kernel_manager_class(root / KERNEL_LOGS_DIR / f"{source.stem}.log"),
            )
    except Exception as err:  # a cell failed: the partial notebook, with the error in it, stays for the reader
        err.partial_notebook = partial  # type: ignore[attr-defined]
        raise
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    partial.unlink(missing_ok=True)
    wall = time.perf_counter() - start
    executed = normalize(nbformat.from_dict(executed))
    executed.metadata[METADATA_KEY] = dict(inputs, timing={"wall_s": round(wall, 1), "device": _device_label()})
    text = dumps(executed)
    output.parent.mkdir(parents=True, exist_ok=True)
    if _same_outputs(output, text):
        return wall  # same outputs: keep the file (and its first timing) byte-identical
    from conservae_lib.foundations.files import atomic_write_bytes

    atomic_write_bytes(output, text.encode())
    return wall


def _same_outputs(output: Path, text: str) -> bool:
    """Whether ``output`` exists and holds the notebook ``text`` up to timing (False for an unreadable file)."""
    try:
        return output.exists() and without_timing(output.read_text()) == without_timing(text)
    except (ValueError, UnicodeDecodeError):  # a truncated or corrupt notebook: replace it
        return False


def unreadable(path: Path) -> bool:
    """``path`` exists but is not a readable notebook (JSON), e.g. a file cut short by a killed write."""
    import json

    try:
        return path.exists() and not isinstance(json.loads(path.read_text()), dict)
    except (ValueError, UnicodeDecodeError):
        return True


@contextlib.contextmanager
def _quiet_loggers():
    """papermill and the kernel client log what the raised exception says again ('Kernel died
    while waiting for execute reply' on Ctrl-C, the cell's traceback on an error); the CLI prints
    that exception in one line, so their logs are kept to critical messages while a chapter runs."""
    import logging

    before = logging.root.manager.disable
    logging.disable(logging.ERROR)  # this process only runs the kernel's client meanwhile
    try:
        yield
    finally:
        logging.disable(before)


def _device_label() -> str:
    """The device a chapter ran on (the GPU when there is one): :func:`conservae_lib.training.runtime.device_label`."""
    import torch

    from conservae_lib.training.runtime import device_label

    return device_label("cuda" if torch.cuda.is_available() else "cpu")


# ----------------------------------------------------------------------------- where things go
def default_output_dir(profile: str, root: Path = REPO_ROOT) -> Path:
    """Where a run without ``--output-dir`` puts its notebooks: ``book/notebooks`` for the
    published ``paper`` profile, ``results/<profile>/notebooks`` for the others (so a smoke run
    never replaces a page of the book)."""
    return root / "book" / "notebooks" if profile == "paper" else root / "results" / profile / "notebooks"


def results_root_for(output_dir: Path | None, variant: bool, root: Path = REPO_ROOT) -> Path:
    """The results root a run's kernel writes to: ``<output_dir>/results`` for a variant run (any
    ``-p`` or ``--output-dir``), else ``$CONSERVAE_RESULTS`` or ``<root>/results``."""
    if variant and output_dir is not None:
        return Path(output_dir).resolve() / "results"
    env = os.environ.get("CONSERVAE_RESULTS")
    if env:
        return (Path(env) if Path(env).is_absolute() else root / env).resolve()
    return (root / "results").resolve()


def _probe_writable(folder: Path) -> str | None:
    """None when a file can be created in ``folder`` (created if missing), else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-probe-"):
            pass
    except OSError as err:
        return err.strerror or type(err).__name__
    return None


def check_writable(output_dir: Path, results_dir: Path, variant: bool) -> None:
    """Refuse, before any kernel starts, a run whose notebooks or results cannot be written."""
    for folder, what in ((output_dir, "executed notebooks"), (results_dir, "results")):
        problem = _probe_writable(folder)
        if problem:
            how = "choose another folder with --output-dir (results then go to <output-dir>/results)"
            if what == "results" and not variant:
                how += " or set CONSERVAE_RESULTS"
            raise OutputNotWritableError(f"cannot write to {folder} ({problem}), where this run's {what} go; {how}.")


@contextlib.contextmanager
def chapter_lock(stem: str, output_dir: Path, root: Path = REPO_ROOT):
    """Hold the lock of one chapter and one output folder for the duration of a run.

    A second run of the same chapter into the same folder fails at once with
    :class:`RunLockedError`, naming the holder's process id and start time (the lock file's
    content). The lock is an ``flock`` on ``.tmp/locks/<stem>-<folder digest>.lock``: the system
    releases it when its holder exits, however it exits, so no stale lock survives a crash.
    """
    import fcntl

    folder = Path(output_dir).resolve()
    locks = root / LOCKS_DIR
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{stem}-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}.lock"
    fh = open(path, "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunLockedError(f"{stem} is already being run into {folder} by {holder}; wait for it to finish "
                                 "or choose another --output-dir.") from None
        fh.seek(0)
        fh.truncate()
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        fh.write(f"process {os.getpid()} (started {started})")
        fh.flush()
        yield path
    finally:
        fh.close()  # releases the flock


def run(
    profile: str = "paper",
    names: Sequence[str] = (),
    output_dir: Path | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    cwd: Path | None = None,
    root: Path = REPO_ROOT,
) -> list[tuple[str, str, float]]:
    """Execute the chosen chapters under ``profile``; return (name, status, seconds) per chapter.

    A run with ``extra`` overrides or an ``output_dir`` is a variant: it writes its notebooks to
    ``output_dir`` (``.tmp/variants/<profile>`` when none is given) and its results to
    ``<output_dir>/results``, never to the published ``results/<profile>/``.
    """
    from .profiles import PROFILES

    if profile not in PROFILES:
        raise SystemExit(f"error: profile must be one of {', '.join(PROFILES)}; got {profile!r}.")
    variant = bool(extra) or output_dir is not None
    if output_dir is None:
        output_dir = root / VARIANTS_DIR / profile if extra else default_output_dir(profile, root)
    output_dir = Path(output_dir)
    if variant:
        check_variant_folder(output_dir, root)
    results_root = results_root_for(output_dir, variant, root)
    sources = notebook_sources(root, names)
    check_writable(output_dir, results_root / profile, variant)
    report = []
    for i, source in enumerate(sources, 1):
        parameters = {"profile": profile, **chapter_parameters(source, extra or {})}
        out = output_dir / f"{source.stem}.ipynb"
        label = f"[{i}/{len(sources)}] {source.stem} ({profile})"
        with chapter_lock(source.stem, output_dir, root):
            if not force and is_current(source, out, parameters, root, results_root):
                print(f"{label}: up to date, skipped", flush=True)
                report.append((source.stem, "skipped", 0.0))
                continue
            if unreadable(out):
                print(f"{label}: {out} is not a readable notebook (cut short?); it will be replaced", flush=True)
            where = f" (results → {results_root / profile})" if variant else ""
            print(f"{label}: executing …{where}", flush=True)
            # the published run leaves the kernel's environment as it is (results/ from its cwd)
            wall = execute(source, out, parameters, cwd=cwd, root=root, results_root=results_root if variant else None)
        print(f"{label}: done in {wall:.1f} s → {out}", flush=True)
        report.append((source.stem, "executed", wall))
    return report
