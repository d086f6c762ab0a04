"""The book's sources as the scorecard sees them: which notebook holds each chapter, its title, the
section labels it defines and whether it is in the table of contents (``_toc.yml``).

The scorecard page (chapter 90, :mod:`conservae_lib.chapters.scorecard.scorecard`) names each claim's chapter by its
title and links a row to the section that shows the evidence, but only into chapters of the book.
"""
from __future__ import annotations

import re
from pathlib import Path

from conservae_lib.foundations.files import REPO_ROOT

__all__ = ["REPO_ROOT", "CHAPTER_NOTEBOOKS", "chapter_notebooks", "chapter_titles", "section_labels", "toc_files", "linkable_labels"]


def chapter_notebooks(root: Path = REPO_ROOT) -> dict[str, str]:
    """Chapter key → notebook name for the chapters of the paper, in book order: the sources
    ``notebooks/NN_<chapter>.md`` numbered below 90 (90 and above are the book's own pages)."""
    return {p.stem.split("_", 1)[1]: p.stem for p in sorted((root / "notebooks").glob("[0-8][0-9]_*.md"))}


#: :func:`chapter_notebooks` of this repository.
CHAPTER_NOTEBOOKS: dict[str, str] = chapter_notebooks()


def chapter_titles(root: Path = REPO_ROOT) -> dict[str, str]:
    """Chapter key → the first ``# `` heading of its source (chapters whose source exists)."""
    titles = {}
    for chapter, name in CHAPTER_NOTEBOOKS.items():
        path = root / "notebooks" / f"{name}.md"
        if not path.exists():
            continue
        in_code = False
        for line in path.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
            elif not in_code and line.startswith("# "):
                titles[chapter] = line[2:].strip()
                break
    return titles


def section_labels(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Chapter key → the MyST labels ``(label)=`` defined in its source."""
    labels = {}
    for chapter, name in CHAPTER_NOTEBOOKS.items():
        path = root / "notebooks" / f"{name}.md"
        if path.exists():
            labels[chapter] = set(re.findall(r"^\(([^()\s]+)\)=\s*$", path.read_text(), flags=re.M))
    return labels


def toc_files(root: Path = REPO_ROOT) -> set[str]:
    """The ``file:`` entries of ``_toc.yml`` that are not commented out (empty if there is none)."""
    path = root / "_toc.yml"
    if not path.exists():
        return set()
    return set(re.findall(r"^\s*-?\s*file:\s*(\S+)\s*$", path.read_text(), flags=re.M))


def linkable_labels(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Labels a scorecard row may link to: those of chapters that are in the table of contents
    (a link into a chapter outside the book would be a broken reference, an error under ``-W``)."""
    toc = toc_files(root)
    return {ch: labs for ch, labs in section_labels(root).items()
            if f"notebooks/{CHAPTER_NOTEBOOKS[ch]}" in toc}
