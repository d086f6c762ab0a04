"""The scorecard page (chapter 90, ``notebooks/90_scorecard.md``): the paper's claims with our verdicts,
as tables, sentences and glued values. The verdict table every chapter prints is
:func:`conservae_lib.presentation.verdicts.records_frame`.

The rows come from :mod:`conservae_lib.chapters.scorecard.rows` (:func:`collect` is importable from here, the
page's entry point); the paper's values and the rules from :mod:`conservae_lib.claims.ledger`. The page
calls :func:`prepare_page` once (it writes ``scorecard.json`` and checks the rows), then one
``show_*`` function per section and :func:`glue_values` for the numbers the landing page cites.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from conservae_lib.presentation import report
from conservae_lib.presentation.glue import glue
from conservae_lib.presentation.verdicts import md_escape
from .findings import chapter_links, part_finding
from .rows import DATASETS, Row, check, collect, export, paper_rows, tally
from .sources import CHAPTER_NOTEBOOKS, REPO_ROOT, chapter_titles, linkable_labels
from .tables import book_findings_markdown, claims_markdown, extras_markdown, glossary_markdown, tally_markdown

__all__ = [
    "collect", "DATASETS", "Page", "prepare_page", "glue_values", "chapter_finding", "show_findings", "show_tally",
    "show_glossary", "show_claims", "show_extras", "show_book_findings", "show_provenance",
    "provenance", "provenance_frame", "render_markdown", "render_extras", "render_book_findings", "render_tally",
]


# ----------------------------------------------------------------------------- the page
@dataclass
class Page:
    """What the scorecard page shows, computed once by :func:`prepare_page`: the rows of ``profile``,
    their tally, the chapters' titles and section labels (for the evidence links), one provenance
    line per chapter with results, and where ``scorecard.json`` was written."""

    profile: str
    rows: list[Row]
    counts: dict[str, int]
    titles: dict[str, str]
    origin: list[dict[str, str]]
    export_path: Path
    links: dict[str, set[str]]


def prepare_page(rows: Sequence[Row], profile: str, root: Path = REPO_ROOT) -> Page:
    """Everything the page needs from ``rows`` (:func:`collect` of ``profile``): writes
    ``<results>/<profile>/scorecard.json``, then checks the rows (:func:`conservae_lib.chapters.scorecard.rows.check`:
    an ``AssertionError`` naming the chapter and the id); tables are shown whole by the presentation layer."""
    titles = chapter_titles(root)
    path = export(rows, profile, root)
    check(rows, profile)
    return Page(profile, list(rows), tally(rows), titles, provenance(rows, titles), path, linkable_labels(root))


def glue_values(page: Page) -> None:
    """Glue the values the landing page cites (so the book never types them): ``profile``, ``n_items`` (the
    claims the tally counts), ``n_<verdict>`` for each verdict (spaces as ``_``), ``n_not_run``,
    ``n_chapters_run``, the ``provenance`` table and ``finding_<chapter>`` (:func:`chapter_finding`)."""
    claims = paper_rows(page.rows)
    glue("profile", page.profile, display=False)
    glue("n_items", sum(page.counts.values()), display=False)
    for chapter in CHAPTER_NOTEBOOKS:
        glue(f"finding_{chapter}", chapter_finding(page.rows, chapter), display=False)
    for verdict, n in page.counts.items():
        glue("n_" + verdict.replace(" ", "_"), n, display=False)
    glue("n_not_run", sum(r.status in ("not run", "not written") for r in claims), display=False)
    glue("n_chapters_run", len(page.origin), display=False)
    glue("provenance", provenance_frame(page.origin, page.profile), display=False)


def chapter_finding(rows: Sequence[Row], chapter: str) -> str:
    """What one chapter found, in plain sentences without markup or abbreviations (what holds, what does not
    with ours beside the paper's, what cannot be decided, why): :func:`conservae_lib.chapters.scorecard.findings.part_finding`."""
    return part_finding(rows, chapter)


def _markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_findings(page: Page) -> None:
    """Display, per chapter, its title (a link to it) and its finding in words, each ending with a link to the
    chapter's evidence, as MyST Markdown."""
    lines = []
    for chapter in CHAPTER_NOTEBOOKS:
        title = md_escape(page.titles.get(chapter, chapter))
        label = next((lab for lab in sorted(page.links.get(chapter, ())) if lab.startswith("chap-")), None)
        head = f"[{title}](#{label})" if label else title
        text = part_finding(page.rows, chapter, markdown=True, link=chapter_links(page.links, chapter))
        lines.append(f"- **{head}.** {text}")
    _markdown("\n".join(lines))


def show_tally(page: Page) -> None:
    """Display the tally: one sentence, then a small table of the verdicts (badge, count, meaning)."""
    _markdown(render_tally(page.counts) + "\n\n" + tally_markdown(page.counts))


def show_glossary(page: Page) -> None:
    """Display the abbreviations the page uses, each with what it stands for."""
    _markdown(glossary_markdown())


def show_claims(page: Page) -> None:
    """Display the paper's claims, one table per chapter (:func:`render_markdown`), as MyST Markdown."""
    _markdown(render_markdown(paper_rows(page.rows), links=page.links, titles=page.titles))


def _show_table(markdown: str, none: str) -> None:
    """Display a MyST table, or print ``none`` when it is empty."""
    if markdown:
        _markdown(markdown)
    else:
        print(none)


def show_extras(page: Page) -> None:
    """Display the other readings, folded per chapter (:func:`render_extras`), or say there are none."""
    _show_table(render_extras(page.rows, links=page.links, titles=page.titles),
                "No chapter records other readings under this profile.")


def show_book_findings(page: Page) -> None:
    """Display the table of the book's own findings (:func:`render_book_findings`), or say there are none."""
    _show_table(render_book_findings(page.rows, links=page.links, titles=page.titles),
                "No chapter records a finding of the book under this profile.")


def show_provenance(page: Page) -> pd.DataFrame | None:
    """The provenance table (one line per chapter with results) for the cell to show, or None after
    saying that no chapter has results yet."""
    if page.origin:
        return provenance_frame(page.origin, page.profile)
    print("No chapter has saved results under this profile yet.")
    return None


def provenance_frame(origin: Sequence[Mapping[str, str]], profile: str) -> pd.DataFrame:
    """:func:`provenance` as a table indexed by chapter; a "none yet" line when no chapter has results."""
    if origin:
        return report.frame(list(origin), index="chapter")
    return report.frame([{"chapter": "none yet", "profile": profile, "data": "—", "seeds": "—", "commit": "—",
                          "inputs digest": "—", "records": "0"}], index="chapter")


# ----------------------------------------------------------------------------- provenance
def provenance(rows: Sequence[Row], titles: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Per chapter with results: profile, data, seeds, the commit and the pipeline's inputs digest."""
    titles = chapter_titles() if titles is None else titles
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.status not in ("ok", "reading", "unknown"):
            continue
        entry = out.setdefault(r.chapter, {"data": [], "seeds": set(), "items": 0, "origin": r.origin})
        data = str(r.record.get("data") or r.origin.get("data") or "not stated")
        if data not in entry["data"]:
            entry["data"].append(data)
        if r.record.get("n_seeds"):
            entry["seeds"].add(int(r.record["n_seeds"]))
        entry["items"] += 1
    table = []
    for ch, e in out.items():
        o = e["origin"]
        table.append({
            "chapter": titles.get(ch, ch), "profile": str(o.get("profile") or (rows[0].profile if rows else "")),
            "data": "; ".join(e["data"]),
            "seeds": ", ".join(str(s) for s in sorted(e["seeds"])) or "1 (deterministic)",
            "commit": _short(o.get("commit")) if o.get("recorded") else "not recorded",
            "inputs digest": _short(o.get("inputs_digest")) if o.get("recorded") else "not recorded",
            "records": str(e["items"]),
        })
    return table


def _short(x: Any, n: int = 10) -> str:
    return str(x)[:n] if x else "—"


def render_markdown(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                    titles: Mapping[str, str] | None = None) -> str:
    """The paper's claims as MyST Markdown, one table per chapter
    (:func:`conservae_lib.chapters.scorecard.tables.claims_markdown`): the claim in words, the paper's value,
    ours with its unit (and another data set's of :data:`DATASETS` below it), a verdict badge with one short
    reason, and the folded details (claim id, rule, control, provenance)."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    return claims_markdown(rows, links, titles)


def render_extras(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                  titles: Mapping[str, str] | None = None) -> str:
    """Other readings and ids the ledger does not know, folded per chapter
    (:func:`conservae_lib.chapters.scorecard.tables.extras_markdown`); empty string when there are none."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    return extras_markdown(rows, links, titles)


def render_book_findings(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                         titles: Mapping[str, str] | None = None) -> str:
    """The book's own findings (:func:`conservae_lib.chapters.scorecard.rows.finding_rows`) laid out as the
    paper's claims; empty when there are none."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    return book_findings_markdown(rows, links, titles)


def render_tally(counts: Mapping[str, int]) -> str:
    """One sentence: how many of the paper's claims have each verdict (a claim that repeats another's
    number is counted once, under that claim)."""
    total = sum(counts.values())
    parts = [f"{n} {v}" for v, n in counts.items()]
    return (f"{total} claims of the paper, each number counted once: " + ", ".join(parts)
            + " (an uninformative claim is one whose control passes the same test; it never counts as reproduced).")
