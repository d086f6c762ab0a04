"""When is an executed chapter out of date? The digests of everything that determines it.

A chapter is stale when any of these differ from what its executed notebook records
(:func:`inputs_digest`):

* its source (``notebooks/NN_name.md``) and the parameters it was run with;
* the library folders its code imports, closed under their modules' imports (:func:`library_digest`):
  its own folder ``conservae_lib/chapters/<chapter>/`` (its parameter declaration included) and the
  shared folders below it (``foundations``, ``claims``, ``core`` …) — their code without docstrings,
  comments and blank lines (:func:`code_digest`) and their YAML files' content (the paper's claims).
  Editing prose, or the book tooling (``conservae_lib/tooling``, which no notebook imports), leaves
  every chapter current; editing one chapter's folder makes that chapter stale and no other;
* the files its page declares it reads: :data:`PAGE_INPUTS`, or its front matter's
  ``conservae: {inputs: [...]}``; a page whose front matter says ``conservae: {summaries: true}``
  (the scorecard) reads every chapter's ``summary.json`` of its profile, and those count too.
Book tooling: used by :mod:`conservae_lib.tooling.pipeline`.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import tokenize
from pathlib import Path
from typing import Any

from .notebook_files import (LIB_DIR, METADATA_KEY, REPO_ROOT, chapter_name, code_cells, colab_install_code, load_source, recorded)

#: Files outside the chapters' own results that a page's code reads (glob patterns relative to the
#: repository root), by notebook stem. Editing one makes that page out of date.
PAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "91_performance": ("results/device/*.json",),
}


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


def module_imports(path: Path, lib_dir: Path = LIB_DIR) -> set[str]:
    """The library modules (dotted, relative to ``lib_dir``: ``core.fields``; a package by its own name,
    ``core``) that the Python file at ``path`` imports, in every spelling: ``import conservae_lib.<layer>.<module>``,
    ``from conservae_lib.<layer> import <module>``, ``from .b import c``, ``from ..a import b`` (also inside functions).
    A name imported from a package counts as the submodule when there is one (``from conservae_lib.core
    import fields`` → ``core``, ``core.fields``)."""
    package = list(path.resolve().parent.relative_to(lib_dir.resolve()).parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {".".join(a.name.split(".")[1:]) or "__init__" for a in node.names
                      if a.name.split(".")[0] == "conservae_lib"}
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module.split(".") if node.module else []
        if node.level:
            if node.level - 1 > len(package):
                continue
            target = package[:len(package) - (node.level - 1)] + module
        elif module[:1] == ["conservae_lib"]:
            target = module[1:]
        else:
            continue
        found.add(".".join(target) or "__init__")
        found |= {".".join([*target, a.name]) for a in node.names if _is_module([*target, a.name], lib_dir)}
    return found


def _is_module(parts: list[str], lib_dir: Path) -> bool:
    base = lib_dir.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def folder_of(module: str) -> str:
    """The folder (relative to the library) whose code a dotted module belongs to: ``core.fields`` →
    ``core``, ``chapters.curl_2d.figures`` → ``chapters/curl_2d``, ``__init__`` → the library's root."""
    parts = [] if module == "__init__" else module.split(".")
    if parts[:1] == ["chapters"] and len(parts) >= 2:
        return "/".join(parts[:2])
    return parts[0] if parts else "."


_NAMED = re.compile(r"^[ \t]*(?:from|import)[ \t]+conservae_lib((?:\.\w+)*)(?:[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+))?",
                    re.M)


def notebook_folders(code: str, lib_dir: Path = LIB_DIR) -> set[str]:
    """The library folders a notebook's code imports: its ``from conservae_lib[.a.b] import …`` and
    ``import conservae_lib.<layer>.<module>`` statements and every dotted ``conservae_lib.<layer>.<module>`` it names."""
    mods: set[str] = set()
    for m in _NAMED.finditer(code):
        target = [p for p in m.group(1).split(".") if p]
        names = [n.split(" as ")[0].strip() for n in (m.group(2) or "").strip().strip("()").split(",")]
        mods.add(".".join(target) or "__init__")
        mods |= {".".join([*target, n]) for n in names if n and _is_module([*target, n], lib_dir)}
    mods |= {dotted.strip(".") for dotted in re.findall(r"conservae_lib((?:\.\w+)+)", code)}
    return {folder_of(m) for m in mods}


def _folder_files(folder: str, lib_dir: Path) -> list[Path]:
    """A folder's own code and data (``*.py``, ``*.yml``), not its subfolders'; the library's root counts
    its ``__init__.py`` only."""
    base = lib_dir / folder
    if folder == ".":
        return [lib_dir / "__init__.py"]
    return sorted(p for p in base.glob("*") if p.suffix in (".py", ".yml") and p.is_file())


def _yaml_digest(text: str) -> bytes:
    """A YAML file's content, not its layout: comments and spacing do not count (unparsable: as it is)."""
    import yaml

    try:
        return json.dumps(yaml.safe_load(text), sort_keys=True, default=str).encode()
    except yaml.YAMLError:
        return text.encode()


def library_digest(code: str, lib_dir: Path = LIB_DIR) -> tuple[str, list[str]]:
    """Digest of the library folders a notebook's ``code`` imports, closed under the imports of their
    modules (:func:`notebook_folders`, :func:`module_imports`), plus the library's ``__init__``: each
    Python file by :func:`code_digest`, each YAML file by its parsed content. The book tooling is not
    imported by notebooks, so editing it leaves every chapter current. Returns the digest and the folders."""
    todo = notebook_folders(code, lib_dir) | {"."}
    seen: set[str] = set()
    while todo:
        folder = todo.pop()
        if folder in seen or not (lib_dir / folder).is_dir():
            continue
        seen.add(folder)
        for path in _folder_files(folder, lib_dir):
            if path.suffix == ".py":
                todo |= {folder_of(m) for m in module_imports(path, lib_dir)} - seen
    h = hashlib.sha256()
    for folder in sorted(seen):
        for path in _folder_files(folder, lib_dir):
            text = path.read_text()
            body = code_digest(text) if path.suffix == ".py" else _yaml_digest(text)
            h.update(path.relative_to(lib_dir).as_posix().encode() + b"\0" + body + b"\0")
    return h.hexdigest()[:16], sorted(seen)


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


def reads_summaries(nb) -> bool:
    """Whether a page declares (front matter ``conservae: {summaries: true}``) that it reads every
    chapter's ``summary.json``."""
    meta = nb.metadata.get(METADATA_KEY, {})
    return isinstance(meta, dict) and meta.get("summaries") is True


def page_input_files(source: Path, root: Path = REPO_ROOT, nb=None, profile: str | None = None) -> list[Path]:
    """The files a page declares it reads (:data:`PAGE_INPUTS` and its front matter's
    ``conservae: {inputs: [...]}``), existing ones, sorted; under ``profile`` none of that profile's own results
    (a page that shows another profile's run of its chapter does not depend on what it writes itself)."""
    patterns = list(PAGE_INPUTS.get(source.stem, ()))
    meta = (nb if nb is not None else load_source(source, root)).metadata.get(METADATA_KEY, {})
    if isinstance(meta, dict):
        patterns += [str(p) for p in meta.get("inputs", []) or []]
    own = root / "results" / profile if profile else None
    return sorted({p for pattern in patterns for p in root.glob(pattern)
                   if p.is_file() and (own is None or own not in p.parents)})


def page_inputs_digest(source: Path, root: Path = REPO_ROOT, nb=None, profile: str | None = None) -> str | None:
    """Digest of the files :func:`page_input_files` names under ``profile`` (None when the page declares none)."""
    declared = PAGE_INPUTS.get(source.stem) or (nb if nb is not None else load_source(source, root)).metadata.get(
        METADATA_KEY, {}).get("inputs")
    if not declared:
        return None
    h = hashlib.sha256()
    for path in page_input_files(source, root, nb, profile):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def inputs_digest(source: Path, parameters: dict[str, Any], root: Path = REPO_ROOT,
                  results_root: Path | None = None) -> dict[str, Any]:
    """What determines an executed notebook: source, parameters and library digests.

    Pages whose front matter says ``conservae: {summaries: true}`` (the scorecard) also record
    :func:`summaries_digest`, so re-running a chapter makes them out of date; pages that declare
    input files (:data:`PAGE_INPUTS`, front matter ``inputs``) record :func:`page_inputs_digest`.
    """
    nb = load_source(source, root)
    code = "\n".join(code_cells(nb))
    lib, folders = library_digest(code, root / "conservae_lib")
    digest = {
        "source_sha": source_digest(source),
        "parameters": parameters,
        "library_sha": lib,
        "library_folders": folders,
        "colab_sha": _sha(colab_install_code(root).encode()),
    }
    if reads_summaries(nb):
        digest["summaries_sha"] = summaries_digest(source, parameters, root, results_root)
    pages = page_inputs_digest(source, root, nb, parameters.get("profile"))
    if pages is not None:
        digest["inputs_sha"] = pages
    return digest


def inputs_sha(inputs: dict[str, Any]) -> str:
    """One hex digest of an :func:`inputs_digest` record: what ``CONSERVAE_INPUTS_DIGEST`` holds."""
    return _sha(json.dumps(inputs, sort_keys=True, default=repr).encode())


def is_current(source: Path, output: Path, parameters: dict[str, Any], root: Path = REPO_ROOT,
               results_root: Path | None = None) -> bool:
    """True when ``output`` was produced from the current source, parameters and library."""
    recorded_inputs = recorded(output)
    if not recorded_inputs:
        return False
    wanted = inputs_digest(source, parameters, root, results_root)
    return all(recorded_inputs.get(k) == v for k, v in wanted.items())
