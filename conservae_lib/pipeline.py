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
re-running with the same inputs is byte-identical and git shows no diff.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

LIB_DIR = Path(__file__).resolve().parent
REPO_ROOT = LIB_DIR.parent
METADATA_KEY = "conservae"
COLAB_TAG = "colab-install"

__all__ = ["notebook_sources", "library_digest", "source_digest", "normalize", "execute", "run", "main",
           "validate_parameters", "chapter_parameters"]


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
        return src.encode()
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
    return kept.encode() + b"\0" + table.encode()


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
        content = _profiles_bytes(path, chapter) if mod == "profiles" else path.read_bytes()
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


def summaries_digest(source: Path, parameters: dict[str, Any], root: Path = REPO_ROOT) -> str:
    """Digest of ``results/<profile>/*/summary.json`` except the notebook's own chapter's.

    The results root is ``$CONSERVAE_RESULTS`` (relative to ``root``) or ``root/results``, as the
    executed notebook (run with ``cwd=root``) sees it. ``_toc.yml`` counts too: the scorecard
    links only to chapters that are in the book.
    """
    base = Path(os.environ.get("CONSERVAE_RESULTS", "results"))
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


def inputs_digest(source: Path, parameters: dict[str, Any], root: Path = REPO_ROOT) -> dict[str, Any]:
    """What determines an executed notebook: source, parameters and library digests.

    Notebooks whose code reads the chapters' summaries (``load_summary``, the scorecard) also
    record :func:`summaries_digest`, so re-running a chapter makes them out of date.
    """
    code = "\n".join(code_cells(load_source(source, root)))
    lib, modules = library_digest(code, root / "conservae_lib", chapter_name(source))
    digest = {
        "source_sha": source_digest(source),
        "parameters": parameters,
        "library_sha": lib,
        "library_modules": modules,
        "colab_sha": _sha(colab_install_code(root).encode()),
    }
    if _READS_SUMMARIES.search(code):
        digest["summaries_sha"] = summaries_digest(source, parameters, root)
    return digest


def execute(
    source: Path,
    output: Path,
    parameters: dict[str, Any],
    cwd: Path | None = None,
    progress: bool = True,
    root: Path = REPO_ROOT,
) -> float:
    """Execute one source with papermill into ``output`` (normalised); return wall seconds."""
    import nbformat
    import papermill

    inputs = inputs_digest(source, parameters, root)
    nb = load_source(source, root)
    env_before = dict(os.environ)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    start = time.perf_counter()
    try:
        executed = papermill.execute_notebook(
            nb, None, parameters=parameters, kernel_name="python3",
            cwd=str(cwd or root), progress_bar=progress, log_output=False,
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


def _device_label() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
        return f"CPU ({os.cpu_count()} cores)"
    except Exception:  # pragma: no cover - torch is a dependency
        return "unknown"


def is_current(source: Path, output: Path, parameters: dict[str, Any], root: Path = REPO_ROOT) -> bool:
    """True when ``output`` was produced from the current source, parameters and library."""
    recorded = _recorded(output)
    if not recorded:
        return False
    wanted = inputs_digest(source, parameters, root)
    return all(recorded.get(k) == v for k, v in wanted.items())


def run(
    profile: str = "paper",
    names: Sequence[str] = (),
    output_dir: Path | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    cwd: Path | None = None,
    root: Path = REPO_ROOT,
) -> list[tuple[str, str, float]]:
    """Execute the chosen chapters under ``profile``; return (name, status, seconds) per chapter."""
    from .profiles import PROFILES

    if profile not in PROFILES:
        raise SystemExit(f"error: profile must be one of {', '.join(PROFILES)}; got {profile!r}.")
    output_dir = Path(output_dir) if output_dir else root / "book" / "notebooks"
    report = []
    sources = notebook_sources(root, names)
    for i, source in enumerate(sources, 1):
        parameters = {"profile": profile, **chapter_parameters(source, extra or {})}
        out = output_dir / f"{source.stem}.ipynb"
        label = f"[{i}/{len(sources)}] {source.stem} ({profile})"
        if not force and is_current(source, out, parameters, root):
            print(f"{label}: up to date, skipped", flush=True)
            report.append((source.stem, "skipped", 0.0))
            continue
        print(f"{label}: executing …", flush=True)
        wall = execute(source, out, parameters, cwd=cwd, root=root)
        print(f"{label}: done in {wall:.1f} s → {out}", flush=True)
        report.append((source.stem, "executed", wall))
    return report


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conservae_lib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute chapters into book/notebooks")
    p_run.add_argument("names", nargs="*", help="chapters to run (default: all)")
    p_run.add_argument("--profile", default="paper")
    p_run.add_argument("--force", action="store_true", help="re-execute even if up to date")
    p_run.add_argument("--output-dir", type=Path, default=None)
    p_run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="override a chapter parameter (value parsed as JSON when possible)")
    p_check = sub.add_parser("check", help="list executed notebooks that are out of date")
    p_check.add_argument("--profile", default="paper")
    sub.add_parser("list", help="list the chapters")
    args = parser.parse_args(list(argv) if argv is not None else None)

    if args.command == "list":
        for s in notebook_sources():
            print(s.stem)
        return 0
    if args.command == "check":
        stale = [s.stem for s in notebook_sources()
                 if not is_current(s, REPO_ROOT / "book" / "notebooks" / f"{s.stem}.ipynb", {"profile": args.profile})]
        for name in stale:
            print(f"stale: {name}")
        return 1 if stale else 0
    extra = {name: _parse_value(value) for name, value in args.parameter}
    try:
        validate_parameters(args.profile, args.names, extra)
        run(args.profile, args.names, args.output_dir, args.force, extra)
    except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
        print(f"error: {_short_error(err)}", file=sys.stderr)
        return 1
    return 0


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
