"""When is an executed chapter out of date? The digests of everything that determines it.

A chapter is stale when any of these differ from what its executed notebook records
(:func:`inputs_digest`):

* its source (``notebooks/NN_name.md``) and the parameters it was run with;
* the code of the library modules it imports, closed under their imports — their syntax without
  docstrings and comments (:func:`code_digest`), so editing prose in a module leaves every chapter
  current. A chapter's parameter declaration is code of the module that declares it
  (:data:`conservae_lib.tooling.profiles.DECLARED_IN`), so it counts for the chapters that import that
  module and no other; a layer's data files (the paper's claims, ``claims/paper_claims.yml``) count
  for the chapters that import that layer;
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


def _file_of(name: str, lib_dir: Path) -> Path | None:
    """The file of library module ``name`` (dotted, relative to the library: ``core.models``,
    ``core`` for a layer's ``__init__``, ``__init__`` for the library's own); None if there is none."""
    if name == "__init__":
        return lib_dir / "__init__.py"
    base = lib_dir.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _resolve(target: list[str], names: list[str], lib_dir: Path) -> set[str]:
    """The modules ``from <target> import <names>`` loads: each name that is a module of the package
    ``target``, else ``target`` itself (and the package, whose ``__init__`` runs)."""
    found = {".".join(target) if target else "__init__"}
    for name in names:
        if _file_of(".".join([*target, name]), lib_dir) is not None:
            found.add(".".join([*target, name]))
    return found


def _module_imports(path: Path, lib_dir: Path = LIB_DIR) -> set[str]:
    """The library modules (dotted, relative to ``lib_dir``) that the module at ``path`` imports:
    relative imports (``from .x import``, ``from ..core import fields``) and absolute ones
    (``from conservae_lib.core.fields import``)."""
    package = list(path.resolve().parent.relative_to(lib_dir.resolve()).parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
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
        found |= _resolve(target, [a.name for a in node.names], lib_dir)
    return found


_FROM = re.compile(r"^[ \t]*from[ \t]+conservae_lib((?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M)


def _notebook_modules(code: str, lib_dir: Path = LIB_DIR) -> set[str]:
    """Library modules (dotted, relative to the library) a notebook's code refers to: its
    ``from conservae_lib[.layer] import …`` statements and every dotted ``conservae_lib.a.b`` it names."""
    mods: set[str] = set()
    for m in _FROM.finditer(code):
        names = [n.split(" as ")[0].strip() for n in m.group(2).strip().strip("()").split(",")]
        mods |= _resolve([p for p in m.group(1).split(".") if p], [n for n in names if n], lib_dir)
    for dotted in re.findall(r"conservae_lib((?:\.\w+)+)", code):
        parts = dotted.strip(".").split(".")
        mods |= {".".join(parts[:k]) for k in range(1, len(parts) + 1) if _file_of(".".join(parts[:k]), lib_dir)}
    return mods


#: Modules that shape every run, so count for every chapter.
ALWAYS = ("__init__", "book.profiles", "foundations.parameters", "book.notebook_files", "book.staleness", "book.pipeline")


def library_digest(code: str, lib_dir: Path = LIB_DIR) -> tuple[str, list[str]]:
    """Digest of the code of the library modules that ``code`` uses, closed under their imports
    (with the ``__init__`` of each layer they sit in), plus the modules of :data:`ALWAYS` and the
    data files of their layers (:func:`_data_files`).
    Returns the digest and the modules, dotted (``core.fields``)."""
    todo = _notebook_modules(code, lib_dir) | set(ALWAYS)
    seen: dict[str, Path] = {}
    while todo:
        mod = todo.pop()
        path = _file_of(mod, lib_dir)
        if mod in seen or path is None:
            continue
        seen[mod] = path
        todo |= {".".join(mod.split(".")[:k]) for k in range(1, mod.count(".") + 1)}  # the layers' __init__
        todo |= _module_imports(path, lib_dir) - set(seen)
    h = hashlib.sha256()
    for mod in sorted(seen):
        h.update(mod.encode() + b"\0" + code_digest(seen[mod].read_text()))
    for data in _data_files(seen.values(), lib_dir):
        h.update(data.relative_to(lib_dir).as_posix().encode() + b"\0" + data.read_bytes())
    return h.hexdigest()[:16], sorted(seen)


def _data_files(modules, lib_dir: Path) -> list[Path]:
    """The data files (``*.yml``, e.g. ``claims/paper_claims.yml``) in the layer folders of ``modules``:
    they are read by those modules, so they count like code (byte for byte)."""
    folders = {path.parent for path in modules if path.parent != lib_dir}
    return sorted(p for folder in folders for p in folder.glob("*.yml"))


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

    Pages whose front matter says ``conservae: {summaries: true}`` (the scorecard) also record
    :func:`summaries_digest`, so re-running a chapter makes them out of date; pages that declare
    input files (:data:`PAGE_INPUTS`, front matter ``inputs``) record :func:`page_inputs_digest`.
    """
    nb = load_source(source, root)
    code = "\n".join(code_cells(nb))
    lib, modules = library_digest(code, root / "conservae_lib")
    digest = {
        "source_sha": source_digest(source),
        "parameters": parameters,
        "library_sha": lib,
        "library_modules": modules,
        "colab_sha": _sha(colab_install_code(root).encode()),
    }
    if reads_summaries(nb):
        digest["summaries_sha"] = summaries_digest(source, parameters, root, results_root)
    pages = page_inputs_digest(source, root, nb)
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
