"""The book's statements never borrow or clash with the paper's numbers.

sphinx-proof numbers every ``{prf:proposition}`` (``corollary``, ``theorem`` …) of the book in one sequence, so
the paper's Proposition 3 came out as "Proposition 6" while chapter 02 showed another "Proposition 3". Every
such directive therefore carries ``:nonumber:`` and a title that says whose statement it is: "Proposition k of
the paper: …" with the paper's own k, or "This book's: …" / "The paper's …" for the rest. The paper's numbering
is read from the claim ledger (``paper_claims.yml``: each claim's ``where``), the one place that quotes the paper.
Checked on the chapter sources and on the executed notebooks the book is built from.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conservae_lib.claims import ledger

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("proposition", "theorem", "lemma", "corollary", "definition", "conjecture", "criterion", "axiom",
         "property", "observation", "assumption", "remark", "example")
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{prf:(" + "|".join(KINDS) + r")\}[ \t]*(.*)$", re.M)
NUMBERED = re.compile(r"\b(Proposition|Corollary|Theorem|Lemma)s?\s+(\d+)(?:\s*(?:–|-|and)\s*(\d+))?")


def paper_numbers() -> dict[str, set[int]]:
    """Kind → the numbers the paper gives its statements, from the ledger's ``where`` fields."""
    out: dict[str, set[int]] = {}
    for cid in ledger.ids():
        for kind, a, b in NUMBERED.findall(ledger.claim(cid).where or ""):
            out.setdefault(kind, set()).update(range(int(a), int(b or a) + 1))
    return out


def _pages() -> dict[str, str]:
    """Name → the MyST text of every chapter source and book page, and the markdown of every executed notebook."""
    pages = {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "notebooks").glob("*.md"))}
    pages.update({str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "book").glob("*.md"))})
    for p in sorted((ROOT / "book" / "notebooks").glob("*.ipynb")):
        cells = json.loads(p.read_text())["cells"]
        pages[str(p.relative_to(ROOT))] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return pages


def directives(text: str) -> list[tuple[str, str, list[str]]]:
    """(kind, title, option lines) of every sphinx-proof statement directive in ``text``."""
    out = []
    for m in DIRECTIVE.finditer(text):
        rest = text[m.end():].lstrip("\n").splitlines()
        options = []
        for line in rest:
            if not line.startswith(":"):
                break
            options.append(line.strip())
        out.append((m.group(2), m.group(3).strip(), options))
    return out


def problems(text: str, numbers: dict[str, set[int]]) -> list[str]:
    """What in ``text`` would show a number that is not the paper's, or a statement whose owner is unclear."""
    found = []
    for kind, title, options in directives(text):
        if ":nonumber:" not in options:
            found.append(f"{kind} {title!r} is numbered by sphinx-proof (add :nonumber:)")
        if not (re.match(r"(Proposition|Corollary|Theorem|Lemma) \d+ of the paper\b", title)
                or title.startswith(("This book's", "This book’s", "The paper's", "The paper’s"))):
            found.append(f"{kind} {title!r} does not say whose statement it is")
    for kind, a, b in NUMBERED.findall(text):
        for n in range(int(a), int(b or a) + 1):
            if n not in numbers.get(kind, set()):
                found.append(f"'{kind} {n}' is not a {kind.lower()} of the paper")
    return found


def test_the_paper_numbers_its_statements_as_the_ledger_quotes():
    numbers = paper_numbers()
    assert numbers["Proposition"] == {1, 2, 3} and numbers["Corollary"] == {1}


@pytest.mark.parametrize("name", sorted(_pages()))
def test_no_page_shows_a_statement_number_that_is_not_the_papers(name):
    assert problems(_pages()[name], paper_numbers()) == [], name


def test_the_check_sees_a_numbered_directive_and_a_borrowed_number():
    numbers = paper_numbers()
    bad = ("```{prf:proposition} Proposition 3 of the paper: x\n:label: a\n```\n"
           "```{prf:proposition} a result of ours\n:label: b\n:nonumber:\n```\nas Proposition 6 shows\n")
    assert problems(bad, numbers) == [
        "proposition 'Proposition 3 of the paper: x' is numbered by sphinx-proof (add :nonumber:)",
        "proposition 'a result of ours' does not say whose statement it is",
        "'Proposition 6' is not a proposition of the paper"]
    good = ("```{prf:proposition} Proposition 2 of the paper: y\n:label: a\n:nonumber:\n\nbody\n```\n"
            "Propositions 1–2 and Corollary 1\n")
    assert problems(good, numbers) == []


def test_chapter_02s_title_reads_well_in_the_sidebar():
    """The title is plain text in the sidebar and the window title: no raw TeX or ASCII primes."""
    source = (ROOT / "notebooks" / "02_sufficient_condition.md").read_text()
    title = next(line for line in source.splitlines() if line.startswith("# "))
    assert "R = C W Dₕ′ E" in title and not re.search(r"[_$\\]|D_h|’", title), title
