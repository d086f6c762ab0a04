"""The chapters read like the paper: their code cells show the computation through named library
calls, so code is at most a third of each chapter's lines and no hidden cell is longer than a screen."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
SCREEN = 40  # lines
HIDDEN = ("remove-cell", "remove-input", "hide-input", "hide-cell")


def code_cells(path: Path) -> list[tuple[list[str], list[str]]]:
    """(tags, code lines) of each code cell of a MyST notebook source."""
    cells, inside, tags, lines = [], False, [], []
    for line in path.read_text().splitlines():
        if line.startswith("```{code-cell}"):
            inside, tags, lines = True, [], []
        elif inside and line.startswith("```"):
            inside = False
            cells.append((tags, lines))
        elif inside and line.startswith(":tags:"):
            tags = [t.strip() for t in line.split("[", 1)[1].rstrip("]").split(",")]
        elif inside:
            lines.append(line)
    return cells


def test_the_cell_reader_counts_code_and_tags(tmp_path: Path) -> None:
    page = tmp_path / "01_x.md"
    page.write_text("# T\n\ntext\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n\nx = 1\ny = 2\n```\n\nmore\n")
    assert code_cells(page) == [(["remove-cell"], ["", "x = 1", "y = 2"])]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_chapter_is_more_than_a_third_code(path: Path) -> None:
    total = len(path.read_text().splitlines())
    code = sum(len(lines) + bool(tags) for tags, lines in code_cells(path))  # every line between the fences
    assert code <= total / 3, f"{path.name}: {code} of {total} lines are code"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_hidden_cell_is_longer_than_a_screen(path: Path) -> None:
    for tags, lines in code_cells(path):
        if set(tags) & set(HIDDEN):
            assert len(lines) <= SCREEN, f"{path.name}: a hidden cell of {len(lines)} lines"
