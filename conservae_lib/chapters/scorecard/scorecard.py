"""The scorecard page (chapter 90, ``notebooks/90_scorecard.md``): the paper's claims with our verdicts,
as tables, sentences and glued values. The verdict table every chapter prints is
:func:`conservae_lib.presentation.verdicts.records_frame`.

The rows come from :mod:`conservae_lib.chapters.scorecard.rows` (:func:`collect` is importable from here, the
page's entry point); the paper's values and the rules from :mod:`conservae_lib.claims.ledger`. The page
calls :func:`prepare_page` once (it writes ``scorecard.json`` and checks the rows), then one
``show_*`` function per section and :func:`glue_values` for the numbers the landing page cites.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from conservae_lib.claims import ledger
from conservae_lib.presentation import report
from conservae_lib.presentation.glue import glue
from conservae_lib.presentation.verdicts import format_ours, format_paper, in_unit, md_escape
from conservae_lib.claims.ledger_rules import Count, Trend, is_finite_number
from .rows import DATASETS, Row, check, collect, export, finding_rows, paper_rows, tally
from .sources import CHAPTER_NOTEBOOKS, REPO_ROOT, chapter_titles, linkable_labels

__all__ = [
    "collect", "Page", "prepare_page", "glue_values", "chapter_finding", "show_findings", "show_tally", "show_claims", "show_extras", "show_book_findings",
    "show_provenance",
    "provenance", "provenance_frame", "render_markdown", "render_extras", "render_book_findings", "render_tally", "tally_frame",
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


#: How many claims a finding names one by one before it says "and k more".
NAMED = 4


def chapter_finding(rows: Sequence[Row], chapter: str) -> str:
    """What one chapter found, in words, from its rows (the paper's claims it judges, each number counted once):
    how many claims have each verdict, then which do not hold — each by where it stands in the paper, with our
    value and the paper's — and which could not be tested. Plain text, no markup, so any page can glue it."""
    mine = [r for r in paper_rows(rows) if r.chapter == chapter and (r.claim is None or r.claim.counted)]
    if not mine:
        return "no claims"
    if all(r.status in ("not run", "not written") for r in mine):
        return f"not run yet under this profile ({len(mine)} claims wait for it)."
    counts = {v: sum(r.verdict == v for r in mine) for v in ledger.VERDICTS}
    text = (f"{len(mine)} claim{'s' if len(mine) != 1 else ''}: "
            + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".")

    def name(r: Row) -> str:  # a table cell by its place in the table, any other claim in our words
        return r.id if r.claim is None else r.claim.where if r.claim.kind == "table cell" else r.claim.statement

    def named(rs: Sequence[Row], with_values: bool) -> str:
        def values(r: Row) -> str:
            if not with_values or r.claim is None:
                return ""
            return f" (ours {format_ours(r)}" + ("" if r.claim.paper is None else f", the paper {format_paper(r.claim)}") + ")"
        return "; ".join(name(r) + values(r) for r in rs[:NAMED]) + (f"; and {len(rs) - NAMED} more" if len(rs) > NAMED else "")

    holds = [r for r in mine if r.verdict == ledger.REPRODUCED]
    fails = [r for r in mine if r.verdict == ledger.NOT_REPRODUCED]
    untested = [r for r in mine if r.verdict in (ledger.NOT_TESTED, ledger.UNINFORMATIVE)]
    if holds:
        text += " Holds: " + named(holds, False) + "."
    if fails:
        text += " Does not hold here: " + named(fails, True) + "."
    if untested:
        text += " Cannot be decided (not tested, or a control passes too): " + named(untested, False) + "."
    return text


def show_findings(page: Page) -> None:
    """Display, per chapter, its title (a link to it) and :func:`chapter_finding`, as MyST Markdown."""
    from IPython.display import Markdown, display

    lines = []
    for chapter in CHAPTER_NOTEBOOKS:
        title = md_escape(page.titles.get(chapter, chapter))
        label = next((lab for lab in sorted(page.links.get(chapter, ())) if lab.startswith("chap-")), None)
        head = f"[{title}](#{label})" if label else title
        lines.append(f"- **{head}** — {md_escape(chapter_finding(page.rows, chapter))}")
    display(Markdown("\n".join(lines)))


def show_tally(page: Page) -> pd.DataFrame:
    """Print the tally's sentence and return the tally as a one-row table (the cell shows it)."""
    print(render_tally(page.counts))
    return tally_frame(page.counts)


def show_claims(page: Page) -> None:
    """Display the table of the paper's claims (:func:`render_markdown`) as MyST Markdown."""
    from IPython.display import Markdown, display

    display(Markdown(render_markdown(paper_rows(page.rows), links=page.links, titles=page.titles)))


def _show_table(markdown: str, none: str) -> None:
    """Display a MyST table, or print ``none`` when it is empty."""
    from IPython.display import Markdown, display

    if markdown:
        display(Markdown(markdown))
    else:
        print(none)


def show_extras(page: Page) -> None:
    """Display the table of other readings and controls (:func:`render_extras`), or say there are none."""
    _show_table(render_extras(page.rows, links=page.links, titles=page.titles),
                "No chapter records other readings or controls under this profile.")


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


def _prov_text(r: Row, rec: Mapping[str, Any], profile: str, origin: Mapping[str, Any]) -> tuple[str, str]:
    """(visible text, hover text) of a row's provenance."""
    data = str(rec.get("data") or origin.get("data") or "not stated")
    n = rec.get("n_seeds")
    seeds = f"{int(n)} seed{'s' if int(n) != 1 else ''}" if n else "deterministic"
    commit = _short(origin.get("commit"), 7) if origin.get("recorded") else "not recorded"
    short = data if len(data) <= 36 else data[:36].rsplit(" ", 1)[0] + " …"
    visible = f"{short}; {profile}; {seeds}; commit {commit}"
    hover = (f"data: {data}; profile: {profile}; seeds: {seeds}; commit: {origin.get('commit') or 'not recorded'}; "
             f"inputs digest: {origin.get('inputs_digest') or 'not recorded'}")
    return visible, hover


def _hover(visible: str, hover: str) -> str:
    title = html.escape(" ".join(hover.split()), quote=True).replace("|", "&#124;").replace("$", "&#36;")
    return f'<span title="{title}">{md_escape(visible)}</span>'


def _evidence(r: Row, rec: Mapping[str, Any], links: Mapping[str, set[str]], titles: Mapping[str, str]) -> str:
    ch = r.chapter
    text = md_escape(titles.get(ch, CHAPTER_NOTEBOOKS.get(ch, ch)))
    section = str(rec.get("section") or "")
    if section and section in links.get(ch, set()):
        return f"[{text}](#{section})"
    return text


def _verdict_cell(rec: Mapping[str, Any], note: str = "") -> str:
    text = f"**{md_escape(rec.get('verdict'))}**"
    if rec.get("reason"):
        text += " — " + md_escape(rec["reason"])
    if note:
        text += " (" + md_escape(note) + ")"
    return text


def render_markdown(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                    titles: Mapping[str, str] | None = None) -> str:
    """The paper's claims as a MyST Markdown table in a ``full-width`` div (class ``scorecard``):
    claim, the paper's value, ours (same unit, seeds and spread), verdict with its reason, the data
    set and provenance (hover for data, profile, seeds, commit and inputs digest) and a link to the
    evidence. When a claim has results under another data set of :data:`DATASETS`, two more columns
    show that data set's value and verdict."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    others = sorted({p for r in rows for p in r.other})
    head = ["claim", "the paper", "ours", "verdict"]
    for p in others:
        head += [f"ours ({DATASETS[p].split(' (')[0]})", f"verdict ({DATASETS[p].split(' (')[0]})"]
    head += ["data and provenance", "evidence"]
    lines = [":::{div} scorecard full-width", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cl = r.claim
        about = f"{cl.where}: {cl.statement}" if cl else str(r.record.get("statement") or "")
        if r.status == "reading":
            about = f"reading {r.record.get('reading')!r} — " + about
        cells = [f"`{r.id}`<br>{md_escape(about)}",
                 md_escape(format_paper(cl)) if cl else "—",
                 md_escape(format_ours(r)),
                 _verdict_cell(r.record, r.note)]
        for p in others:
            rec = r.other.get(p)
            cells += ([md_escape(format_ours(rec, cl)), f"**{md_escape(rec.get('verdict'))}**"] if rec else ["—", "—"])
        if r.status in ("ok", "reading", "unknown"):
            cells.append(_hover(*_prov_text(r, r.record, r.profile, r.origin)))
        else:
            cells.append(f"profile `{r.profile}`")
        cells.append(_evidence(r, r.record, links, titles))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", ":::"]) + "\n"


def render_extras(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                  titles: Mapping[str, str] | None = None) -> str:
    """Other readings, ids the ledger does not know, and the controls recorded with any claim, as
    one table (class ``scorecard-extras``); empty string when there are none."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    head = ["claim", "what", "ours", "verdict", "data and provenance", "evidence"]
    lines = []
    for r in rows:
        rec = r.record
        cl = r.claim
        if r.status in ("reading", "unknown"):
            what = (f"reading {rec.get('reading')!r} of the paper's claim" if r.status == "reading"
                    else "not a registered claim")
            lines.append([f"`{r.id}`", md_escape(what), md_escape(format_ours(r)), _verdict_cell(rec, r.note),
                          _hover(*_prov_text(r, rec, r.profile, r.origin)), _evidence(r, rec, links, titles)])
        if r.status in ("ok", "reading") and is_finite_number(rec.get("control")):
            lines.append([f"`{r.id}`", "control (must not pass the claim's rule)",
                          md_escape(in_unit(float(rec["control"]), cl) if cl and not isinstance(cl.rule, (Trend, Count))
                                    else report.fmt(float(rec["control"]), 4)),
                          f"claim: **{md_escape(rec.get('verdict'))}**",
                          _hover(*_prov_text(r, rec, r.profile, r.origin)), _evidence(r, rec, links, titles)])
    if not lines:
        return ""
    out = [":::{div} scorecard-extras full-width", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out + ["", ":::"]) + "\n"


def render_book_findings(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                         titles: Mapping[str, str] | None = None) -> str:
    """The book's own findings (:func:`conservae_lib.chapters.scorecard.rows.finding_rows`): the statement, ours,
    the verdict of its rule and the evidence, as one table (class ``scorecard-extras``); empty when there are none."""
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    head = ["finding", "statement (this book's, not the paper's)", "ours", "verdict", "data and provenance", "evidence"]
    lines = [[f"`{r.id}`", md_escape(r.claim.statement), md_escape(format_ours(r)), _verdict_cell(r.record, r.note),
              _hover(*_prov_text(r, r.record, r.profile, r.origin)), _evidence(r, r.record, links, titles)]
             for r in finding_rows(rows)]
    if not lines:
        return ""
    out = [":::{div} scorecard-extras full-width", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out + ["", ":::"]) + "\n"


def render_tally(counts: Mapping[str, int]) -> str:
    """One sentence: how many of the paper's claims have each verdict (a claim that repeats another's
    number is counted once, under that claim)."""
    total = sum(counts.values())
    parts = [f"{n} {v}" for v, n in counts.items()]
    return (f"{total} claims of the paper, each number counted once: " + ", ".join(parts)
            + " (an uninformative claim is one whose control passes the same test; it never counts as reproduced).")


def tally_frame(counts: Mapping[str, int]) -> pd.DataFrame:
    """The tally as a one-row DataFrame of strings (verdict → number of the paper's claims)."""
    return report.frame([{v: str(n) for v, n in counts.items()} | {"total": str(sum(counts.values()))}])


# ------------------------------------------------------------------------- chapter 90's parameters
