"""From Jupytext sources to executed notebooks: ``python -m conservae_lib run --profile paper``.

For every ``notebooks/NN_name.md`` the pipeline

1. reads the MyST-markdown source with jupytext and prepends the hidden Colab install cell
   (built from the repository URL in ``_config.yml``, so the URL lives in one place);
2. executes it with papermill, injecting ``profile`` (and any ``-p name value`` given);
3. normalises the result — stable cell ids, no timestamps or papermill timing, the injected
   parameters cell tagged ``remove-cell`` — and records in the notebook's metadata the digests
   of its inputs (source, parameters, the library modules it imports) with wall time and device;
4. writes ``<output dir>/NN_name.ipynb`` (``book/notebooks`` by default).

A notebook whose source, parameters and library digests match the ones recorded in its
existing output is skipped; a re-run whose outputs are unchanged leaves the file untouched, so
re-running with the same inputs is byte-identical and git shows no diff. Library modules count by
their code: their syntax tree without docstrings, so editing a comment or a docstring leaves
every chapter up to date. Pages whose code reads files that no chapter writes declare them in
:data:`PAGE_INPUTS` (or in their front matter, ``conservae: {inputs: [...]}``); those files count.

Where results go (the published ones are never touched by a variant run):

* the published run — ``--profile paper``, no ``-p``, no ``--output-dir`` — writes
  ``book/notebooks/`` and ``results/paper/`` (or ``$CONSERVAE_RESULTS/paper/``);
* ``--profile smoke``/``full`` without ``-p`` or ``--output-dir`` write ``results/<profile>/``
  and their notebooks to ``results/<profile>/notebooks/``;
* a run with any ``-p`` override or with ``--output-dir`` is a *variant*: its notebooks go to
  the output folder (``.tmp/variants/<profile>/`` when only ``-p`` is given) and its results to
  ``<output folder>/results/<profile>/``, so ``results/<profile>/`` stays byte-identical.

The kernel gets ``CONSERVAE_RESULTS`` (the results root) and ``CONSERVAE_INPUTS_DIGEST`` (a digest
of everything :func:`inputs_digest` records), which :func:`conservae_lib.results.save_summary`
writes into each summary. One run of a chapter into one folder at a time: a second one is refused
with the holder's process id and start time. Ctrl-C prints one line and exits with status 130.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import tokenize
from pathlib import Path
from typing import Any, Iterable, Sequence

LIB_DIR = Path(__file__).resolve().parent
REPO_ROOT = LIB_DIR.parent
METADATA_KEY = "conservae"
COLAB_TAG = "colab-install"

__all__ = ["notebook_sources", "library_digest", "source_digest", "normalize", "execute", "run", "main",
           "validate_parameters", "chapter_parameters", "code_digest", "default_output_dir", "results_root_for",
           "PAGE_INPUTS", "RunLockedError", "OutputNotWritableError", "chapter_lock", "check_writable"]

#: Files outside the chapters' own results that a page's code reads (glob patterns relative to the
#: repository root), by notebook stem. Editing one makes that page out of date.
PAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "91_performance": ("results/device/*.json",),
}
#: Where a run with ``-p`` overrides but no ``--output-dir`` puts its notebooks (and results).
VARIANTS_DIR = Path(".tmp") / "variants"
#: Where the per-chapter run locks live (never in an output folder, so nothing to commit or clean).
LOCKS_DIR = Path(".tmp") / "locks"


class RunLockedError(RuntimeError):
    """Another run of the same chapter into the same output folder is in progress."""


class OutputNotWritableError(RuntimeError):
    """The output folder or the results folder of a run cannot be written."""


# ----------------------------------------------------------------------------- inputs
def notebook_sources(root: Path = REPO_ROOT, names: Sequence[str] = ()) -> list[Path]:
    """The chapter sources ``notebooks/*.md`` in book order, optionally filtered by name."""
    sources = sorted((root / "notebooks").glob("*.md"))
    if not names:
        return sources
    picked = []
    for name in names:
        stem = Path(name).stem
        match = [s for s in sources if s.stem == stem or s.stem.split("_", 1)[-1] == stem]
        if not match:
            known = ", ".join(s.stem for s in sources)
            raise SystemExit(f"error: no notebook named {name!r}; known: {known}.")
        picked.extend(match)
    return picked


def chapter_name(source: Path) -> str:
    """``notebooks/04_mnist_symmetricity.md`` → ``mnist_symmetricity`` (its profiles key)."""
    stem = source.stem
    return stem.split("_", 1)[1] if re.match(r"^\d+_", stem) else stem


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def source_digest(source: Path) -> str:
    return _sha(source.read_bytes())


def code_digest(src: str) -> bytes:
    """What of a Python source counts for staleness: its text without docstrings, comments,
    trailing blanks and empty lines, so an edit of prose in a module leaves every chapter up to
    date while any change of code does not. Docstrings are found with :mod:`ast` and comments
    with :mod:`tokenize` and cut out of the text itself (not re-printed from the tree), so the
    digest is the same under every Python version. Unparsable text counts as it is."""
    try:
        tree = ast.parse(src)
        tokens = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return src.encode()
    lines = src.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int, utf8: bool) -> int:
        line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        if utf8:  # ast columns count UTF-8 bytes; tokenize columns count characters
            col = len(line.encode()[:col].decode(errors="ignore"))
        return starts[lineno - 1] + col

    cuts = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                cuts.append((offset(first.lineno, first.col_offset, True),
                             offset(first.end_lineno, first.end_col_offset, True)))
    cuts += [(offset(*t.start, False), offset(*t.end, False)) for t in tokens if t.type == tokenize.COMMENT]
    kept, pos = [], 0
    for a, b in sorted(cuts):
        if a >= pos:
            kept.append(src[pos:a])
            pos = b
    kept.append(src[pos:])
    text = "".join(kept)
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip()).encode()


def _module_imports(path: Path) -> set[str]:
    """Sibling modules a library module imports (``from .x import``, ``from . import x``)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("conservae_lib"):
                parts = node.module.split(".")
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(a.name for a in node.names)
    return found


def _notebook_modules(code: str) -> set[str]:
    """Library modules a notebook's code refers to."""
    mods = set(re.findall(r"conservae_lib\.(\w+)", code))
    for m in re.finditer(r"^[ \t]*from[ \t]+conservae_lib[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", code, re.M):
        names = m.group(1).strip().strip("()")
        mods.update(n.split(" as ")[0].strip() for n in names.split(",") if n.strip())
    return mods


def _chapter_tables(src: str, path: Path) -> dict[str, Any] | None:
    """``CHAPTERS`` of a profiles.py source, executed on its own (it imports only the standard
    library); None if that fails."""
    namespace: dict[str, Any] = {"__name__": "conservae_lib._profiles_for_digest"}
    try:
        exec(compile(src, str(path), "exec"), namespace)
        return namespace["CHAPTERS"]
    except Exception:
        return None


def _profiles_bytes(path: Path, chapter: str | None) -> bytes:
    """profiles.py as it bears on one chapter: its code (validation rules, helpers) and that
    chapter's own table, but not the other chapters' tables — so editing one chapter's
    parameters leaves the other chapters up to date. Whole file when ``chapter`` is None or
    has no table."""
    src = path.read_text()
    tables = _chapter_tables(src, path) if chapter else None
    if not tables or chapter not in tables:
        return code_digest(src)
    drop: set[int] = set()
    for node in ast.parse(src).body:
        # ``X = …`` and annotated ``X: T = …`` (CHAPTERS is annotated) alike
        target = (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                  else node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None)
        if isinstance(target, ast.Name):
            name = target.id
            value = node.value
            is_table = isinstance(value, ast.Dict) or (
                isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "_same"))
            if name == "CHAPTERS" or (name.startswith("_") and is_table):
                drop.update(range(node.lineno - 1, node.end_lineno))
    kept = "".join(line for i, line in enumerate(src.splitlines(keepends=True)) if i not in drop)
    table = json.dumps(tables[chapter], sort_keys=True, default=repr)
    return code_digest(kept) + b"\0" + table.encode()


def library_digest(code: str, lib_dir: Path = LIB_DIR, chapter: str | None = None) -> tuple[str, list[str]]:
    """Digest of the library modules that ``code`` uses, closed under their imports.

    ``__init__``, ``profiles`` and ``pipeline`` always count (they shape every run). With
    ``chapter``, only that chapter's table in ``profiles.py`` counts (see :func:`_profiles_bytes`).
    """
    todo = _notebook_modules(code) | {"__init__", "profiles", "pipeline"}
    seen: set[str] = set()
    while todo:
        mod = todo.pop()
        path = lib_dir / f"{mod}.py"
        if mod in seen or not path.exists():
            continue
        seen.add(mod)
        todo |= _module_imports(path) - seen
    h = hashlib.sha256()
    for mod in sorted(seen):
        path = lib_dir / f"{mod}.py"
        content = _profiles_bytes(path, chapter) if mod == "profiles" else code_digest(path.read_text())
        h.update(mod.encode() + b"\0" + content)
    return h.hexdigest()[:16], sorted(seen)


def read_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text())


def colab_install_code(root: Path = REPO_ROOT) -> str:
    """The first cell of every executed notebook: installs the package in Colab only."""
    repo = read_config(root)["repository"]
    url, branch = repo["url"].rstrip("/"), repo.get("branch", "main")
    return (
        "# Colab only: install conservae_lib (this cell is hidden in the book).\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    %pip install -q \"conservae_lib @ git+{url}@{branch}\"\n"
    )


# ----------------------------------------------------------------------------- notebooks
def load_source(source: Path, root: Path = REPO_ROOT):
    """The Jupytext source as a notebook, with the Colab install cell first."""
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    cell = nbformat.v4.new_code_cell(colab_install_code(root))
    cell.metadata["tags"] = [COLAB_TAG, "remove-cell"]
    nb.cells.insert(0, cell)
    return nb


def code_cells(nb) -> list[str]:
    """Source of the code cells a reader wrote (no Colab or injected-parameters cells)."""
    skip = {COLAB_TAG, "injected-parameters"}
    return [
        c.source.strip() for c in nb.cells
        if c.cell_type == "code" and not skip & set(c.metadata.get("tags", []))
    ]


_PAPERMILL_DROP = ("start_time", "end_time", "duration", "exception", "status", "input_path", "output_path", "environment_variables", "version")


def normalize(nb) -> Any:
    """Make an executed notebook deterministic: stable ids, no timestamps, hidden injection."""
    nb.metadata.pop("widgets", None)
    pm = nb.metadata.get("papermill", {})
    for key in _PAPERMILL_DROP:
        pm.pop(key, None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("execution", None)
    nb.nbformat_minor = max(nb.get("nbformat_minor", 5), 5)
    return nb


def _dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + ("" if nbformat.writes(nb).endswith("\n") else "\n")


def _without_timing(text: str) -> str:
    nb = json.loads(text)
    nb.get("metadata", {}).get(METADATA_KEY, {}).pop("timing", None)
    return json.dumps(nb, sort_keys=True)


def _recorded(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text()).get("metadata", {}).get(METADATA_KEY)
    except json.JSONDecodeError:
        return None


#: Code that reads other chapters' saved results (the scorecard): such notebooks also depend on them.
_READS_SUMMARIES = re.compile(r"\bload_summary\s*\(|\bscorecard\.collect\s*\(")


def summaries_digest(source: Path, parameters: dict[str, Any], root: Path = REPO_ROOT,
                     results_root: Path | None = None) -> str:
    """Digest of ``results/<profile>/*/summary.json`` except the notebook's own chapter's.

    The results root is ``results_root`` when given, else ``$CONSERVAE_RESULTS`` (relative to
    ``root``) or ``root/results``, as the executed notebook (run with ``cwd=root``) sees it.
    ``_toc.yml`` counts too: the scorecard links only to chapters that are in the book.
    """
    base = Path(results_root) if results_root is not None else Path(os.environ.get("CONSERVAE_RESULTS", "results"))
    profile = parameters.get("results_profile") or parameters.get("profile", "paper")
    base = (base if base.is_absolute() else root / base) / str(profile)
    own = chapter_name(source)
    h = hashlib.sha256()
    toc = root / "_toc.yml"
    h.update(toc.read_bytes() if toc.exists() else b"")
    for path in sorted(base.glob("*/summary.json")):
        if path.parent.name != own:
            h.update(path.parent.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def page_input_files(source: Path, root: Path = REPO_ROOT, nb=None) -> list[Path]:
    """The files a page declares it reads (:data:`PAGE_INPUTS` and its front matter's
    ``conservae: {inputs: [...]}``), existing ones, sorted."""
    patterns = list(PAGE_INPUTS.get(source.stem, ()))
    meta = (nb if nb is not None else load_source(source, root)).metadata.get(METADATA_KEY, {})
    if isinstance(meta, dict):
        patterns += [str(p) for p in meta.get("inputs", []) or []]
    return sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()})


def page_inputs_digest(source: Path, root: Path = REPO_ROOT, nb=None) -> str | None:
    """Digest of the files :func:`page_input_files` names (None when the page declares none)."""
    declared = PAGE_INPUTS.get(source.stem) or (nb if nb is not None else load_source(source, root)).metadata.get(
        METADATA_KEY, {}).get("inputs")
    if not declared:
        return None
    h = hashlib.sha256()
    for path in page_input_files(source, root, nb):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def inputs_digest(source: Path, parameters: dict[str, Any], root: Path = REPO_ROOT,
                  results_root: Path | None = None) -> dict[str, Any]:
    """What determines an executed notebook: source, parameters and library digests.

    Notebooks whose code reads the chapters' summaries (``load_summary``, the scorecard) also
    record :func:`summaries_digest`, so re-running a chapter makes them out of date; pages that
    declare input files (:data:`PAGE_INPUTS`) record :func:`page_inputs_digest`.
    """
    nb = load_source(source, root)
    code = "\n".join(code_cells(nb))
    lib, modules = library_digest(code, root / "conservae_lib", chapter_name(source))
    digest = {
        "source_sha": source_digest(source),
        "parameters": parameters,
        "library_sha": lib,
        "library_modules": modules,
        "colab_sha": _sha(colab_install_code(root).encode()),
    }
    if _READS_SUMMARIES.search(code):
        digest["summaries_sha"] = summaries_digest(source, parameters, root, results_root)
    pages = page_inputs_digest(source, root, nb)
    if pages is not None:
        digest["inputs_sha"] = pages
    return digest


def inputs_sha(inputs: dict[str, Any]) -> str:
    """One hex digest of an :func:`inputs_digest` record: what ``CONSERVAE_INPUTS_DIGEST`` holds."""
    return _sha(json.dumps(inputs, sort_keys=True, default=repr).encode())


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
    env_before = dict(os.environ)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["CONSERVAE_INPUTS_DIGEST"] = inputs_sha(inputs)
    if results_root is not None:
        os.environ["CONSERVAE_RESULTS"] = str(Path(results_root).resolve())
    start = time.perf_counter()
    try:
        with _quiet_loggers():
            executed = papermill.execute_notebook(
                nb, None, parameters=parameters, kernel_name="python3",
                cwd=str(cwd or root), progress_bar=progress, log_output=False,
                extra_arguments=KERNEL_ARGUMENTS,
                kernel_manager_class=_kernel_manager_class(root / KERNEL_LOGS_DIR / f"{source.stem}.log"),
            )
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    wall = time.perf_counter() - start
    executed = normalize(nbformat.from_dict(executed))
    executed.metadata[METADATA_KEY] = dict(inputs, timing={"wall_s": round(wall, 1), "device": _device_label()})
    text = _dumps(executed)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists() and _without_timing(output.read_text()) == _without_timing(text):
        return wall  # same outputs: keep the file (and its first timing) byte-identical
    from .results import atomic_write_bytes

    atomic_write_bytes(output, text.encode())
    return wall


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
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
        return f"CPU ({os.cpu_count()} cores)"
    except Exception:  # pragma: no cover - torch is a dependency
        return "unknown"


def is_current(source: Path, output: Path, parameters: dict[str, Any], root: Path = REPO_ROOT,
               results_root: Path | None = None) -> bool:
    """True when ``output`` was produced from the current source, parameters and library."""
    recorded = _recorded(output)
    if not recorded:
        return False
    wanted = inputs_digest(source, parameters, root, results_root)
    return all(recorded.get(k) == v for k, v in wanted.items())


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
    path = locks / f"{stem}-{_sha(str(folder).encode())[:12]}.lock"
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
            where = f" (results → {results_root / profile})" if variant else ""
            print(f"{label}: executing …{where}", flush=True)
            # the published run leaves the kernel's environment as it is (results/ from its cwd)
            wall = execute(source, out, parameters, cwd=cwd, root=root, results_root=results_root if variant else None)
        print(f"{label}: done in {wall:.1f} s → {out}", flush=True)
        report.append((source.stem, "executed", wall))
    return report


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


def main(argv: Iterable[str] | None = None) -> int:
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
    args_in, pairs = _split_parameters(list(argv) if argv is not None else sys.argv[1:])
    args = parser.parse_args(args_in)

    if args.command == "list":
        for s in notebook_sources():
            print(s.stem)
        return 0
    from .profiles import ParameterError, PROFILES

    if args.profile not in PROFILES:
        print(f"error: parameter 'profile' got {args.profile!r}, but it must be one of {', '.join(PROFILES)}.",
              file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(args.profile, args.output_dir)
    extra = {name: _parse_value(value) for name, value in [*args.parameter, *pairs]}
    try:
        validate_parameters(args.profile, args.names, extra)
        run(args.profile, args.names, args.output_dir, args.force, extra)
    except KeyboardInterrupt:
        return _interrupted(quiet=argv is None)
    except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
        if getattr(err, "ename", None) == "KeyboardInterrupt":  # the kernel got the Ctrl-C too
            return _interrupted(quiet=argv is None)
        print(f"error: {_short_error(err)}", file=sys.stderr)
        return 1
    except SystemExit as err:
        if isinstance(err.code, str):
            print(err.code, file=sys.stderr)
            return 1
        raise
    return 0


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


def chapter_parameters(source: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """The ``-p`` overrides that concern one chapter: those its profile table defines (all of
    them for a notebook without a table). Running several chapters with ``-p seed 1`` thus
    reaches the chapters that have a seed and leaves the others alone."""
    from .profiles import CHAPTERS

    table = CHAPTERS.get(chapter_name(source))
    if table is None:
        return dict(extra)
    return {k: v for k, v in extra.items() if k in table["paper"]}


def validate_parameters(profile: str, names: Sequence[str], extra: dict[str, Any], root: Path = REPO_ROOT) -> None:
    """Check the profile and ``-p`` overrides against every chosen chapter's table before any
    kernel starts, so that a bad value fails at once with the sentence from
    :func:`conservae_lib.profiles.configure`. A name that no chosen chapter defines is an error
    (for one chapter, configure's own sentence)."""
    from .profiles import CHAPTERS, ParameterError, configure

    if "profile" in extra:
        raise ParameterError(f"parameter 'profile' (given {extra['profile']!r}) is chosen with --profile, not -p; "
                             f"run with --profile {extra['profile']} instead.")
    if "chapter" in extra:
        raise ParameterError(f"parameter 'chapter' (given {extra['chapter']!r}) is set by the pipeline from the "
                             "chapter's file name; name the chapter as an argument instead.")
    sources = notebook_sources(root, names)
    tabled = [s for s in sources if chapter_name(s) in CHAPTERS]
    for source in tabled:
        configure(chapter_name(source), profile, **(extra if len(sources) == 1 else chapter_parameters(source, extra)))
    if len(sources) > 1 and len(tabled) == len(sources):
        known = set().union(*(CHAPTERS[chapter_name(s)]["paper"] for s in tabled))
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
