"""The scorecard's tables as MyST Markdown, for people: per chapter, one row per claim with the claim in words,
the paper's value, ours (with units), a coloured verdict badge and one short reason; the machine detail (claim
id, statistic, rule, the ledger's reason, control, data and provenance) folded in a ``<details>`` of the row.

:func:`claims_markdown` (the paper's claims), :func:`extras_markdown` (other readings, folded per chapter),
:func:`book_findings_markdown`, :func:`tally_markdown` and :func:`glossary_markdown` are shown by
:mod:`conservae_lib.chapters.scorecard.scorecard`; the words come from
:mod:`conservae_lib.chapters.scorecard.words`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from conservae_lib.claims import ledger
from conservae_lib.presentation.verdicts import md_escape
from .rows import DATASETS, Row, extra_rows, finding_rows
from .sources import CHAPTER_NOTEBOOKS
from .words import GLOSSARY, abbr, abbreviations, control_text, ours_text, paper_text, reading_label, short_reason

__all__ = ["badge", "details", "claims_markdown", "extras_markdown", "book_findings_markdown", "tally_markdown",
           "glossary_markdown", "MEANING"]

#: What each verdict means, in one line (the tally's third column).
MEANING: dict[str, str] = {
    ledger.REPRODUCED: "the strict test holds, with the spread over seeds counted against it",
    ledger.PARTLY: "only the looser test holds, or one seed passes where the spread is unknown",
    ledger.NOT_REPRODUCED: "neither test holds, or a control does better than ours",
    ledger.UNINFORMATIVE: "a control that must not pass passes the same test: the test cannot tell",
    ledger.NOT_TESTED: "the experiment did not run, or gave no usable number",
}


def _words(text: Any) -> str:
    """Plain text as escaped Markdown whose abbreviations define themselves."""
    return abbr(md_escape(text))


def badge(verdict: Any) -> str:
    """A verdict as a coloured badge (CSS class ``verdict-<verdict>`` in ``book/_static/conservae.css``)."""
    v = str(verdict)
    return f'<span class="verdict verdict-{v.replace(" ", "-")}">{md_escape(v)}</span>'


def _short(x: Any, n: int = 7) -> str:
    return str(x)[:n] if x else "not recorded"


def details(r: Row, rec: Mapping[str, Any] | None = None) -> str:
    """The machine detail of a row, folded: claim id and reading, the statistic, the rule and why, the ledger's
    own reason, the control, the data and the provenance (profile, seeds, commit, inputs digest)."""
    rec = r.record if rec is None else rec
    cl = r.claim
    n = rec.get("n_seeds")
    lines = [f"claim id `{r.id}`" + (f", reading “{md_escape(rec['reading'])}”" if rec.get("reading") else "")]
    if cl is not None:
        lines += [f"what is measured: {md_escape(cl.statistic)}", f"rule: {md_escape(rec.get('rule') or cl.rule.why)}"]
    lines.append(f"the ledger's reason: {md_escape(rec.get('reason') or '—')}")
    if rec.get("control") is not None:
        lines.append(f"control: {md_escape(control_text(rec, cl))}")
    if r.note:
        lines.append(f"note: {md_escape(r.note)}")
    lines.append(f"data: {md_escape(rec.get('data') or r.origin.get('data') or 'not stated')}")
    lines.append(f"profile {md_escape(r.profile)}, {int(n) if n else 'no'} seed{'s' if n != 1 else ''}, commit "
                 f"`{_short(r.origin.get('commit'))}`, inputs digest `{_short(r.origin.get('inputs_digest'), 10)}`")
    return "<details><summary>details</summary>" + abbr("<br>".join(lines)) + "</details>"


def _evidence(r: Row, links: Mapping[str, set[str]]) -> str:
    section = str(r.record.get("section") or "")
    return f" [evidence](#{section})" if section and section in links.get(r.chapter, set()) else ""


def _verdict_cell(r: Row, rec: Mapping[str, Any] | None = None) -> str:
    rec = r.record if rec is None else rec
    reason = short_reason(rec, r.claim)
    return badge(rec.get("verdict")) + (f"<br>{_words(reason)}" if reason else "") + "<br>" + details(r, rec)


def _ours_cell(r: Row) -> str:
    text = md_escape(ours_text(r.record, r.claim))
    for prof, rec in sorted(r.other.items()):
        name = DATASETS.get(prof, prof).split(" (")[0]
        text += f"<br>{_words(name)}: {md_escape(ours_text(rec, r.claim))} {badge(rec.get('verdict'))}"
    return text


def _table(head: Sequence[str], lines: Sequence[Sequence[str]], cls: str) -> str:
    out = [f":::{{div}} {cls}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out + ["", ":::"])


def _chapter_head(chapter: str, titles: Mapping[str, str], links: Mapping[str, set[str]]) -> str:
    title = _words(titles.get(chapter, CHAPTER_NOTEBOOKS.get(chapter, chapter)))
    label = next((lab for lab in sorted(links.get(chapter, ())) if lab.startswith("chap-")), None)
    return f"**[{title}](#{label})**" if label else f"**{title}**"


def claims_markdown(rows: Sequence[Row], links: Mapping[str, set[str]], titles: Mapping[str, str]) -> str:
    """The paper's claims (rows of :func:`conservae_lib.chapters.scorecard.rows.paper_rows`), one table per
    chapter (class ``scorecard``): the claim and where it stands in the paper, the paper's value, ours, the
    verdict with one short reason and the folded details."""
    out = []
    for chapter in dict.fromkeys(r.chapter for r in rows):
        lines = [[f"**{_words(r.claim.where if r.claim else r.id)}**<br>"
                  f"{_words(r.claim.statement if r.claim else '')}{_evidence(r, links)}",
                  md_escape(paper_text(r.claim)), _ours_cell(r), _verdict_cell(r)]
                 for r in rows if r.chapter == chapter]
        out.append(_chapter_head(chapter, titles, links) + "\n\n"
                   + _table(["claim", "the paper", "ours", "verdict"], lines, "scorecard scorecard-claims"))
    return "\n\n".join(out) + "\n"


def extras_markdown(rows: Sequence[Row], links: Mapping[str, set[str]], titles: Mapping[str, str]) -> str:
    """Other readings of the paper's claims and ids the ledger does not know, folded per chapter (a dropdown
    each, class ``scorecard-extras``); empty when there are none."""
    extras = extra_rows(rows)
    out = []
    for chapter in dict.fromkeys(r.chapter for r in extras):
        mine = [r for r in extras if r.chapter == chapter]
        lines = []
        for r in mine:
            what = (reading_label(r.record.get("reading")) if r.status == "reading" else "not a registered claim")
            where = r.claim.where if r.claim else r.id
            lines.append([f"**{_words(where)}**, {_words(what)}{_evidence(r, links)}", _ours_cell(r), _verdict_cell(r)])
        title = titles.get(chapter, CHAPTER_NOTEBOOKS.get(chapter, chapter))
        out.append(f"::::{{dropdown}} {md_escape(title)}: {len(mine)} other reading{'s' if len(mine) != 1 else ''}\n"
                   + _table(["claim and reading", "ours", "verdict"], lines, "scorecard scorecard-extras") + "\n::::")
    return "\n\n".join(out) + "\n" if out else ""


def book_findings_markdown(rows: Sequence[Row], links: Mapping[str, set[str]], titles: Mapping[str, str]) -> str:
    """The book's own findings, laid out as the paper's claims (without the paper's value); empty without any."""
    found = finding_rows(rows)
    lines = [[f"**{_words(titles.get(r.chapter, r.chapter))}**<br>{_words(r.claim.statement)}{_evidence(r, links)}",
              _ours_cell(r), _verdict_cell(r)] for r in found if r.claim is not None]
    return _table(["finding of this book", "ours", "verdict"], lines, "scorecard scorecard-findings") + "\n" if lines else ""


def tally_markdown(counts: Mapping[str, int]) -> str:
    """The tally as a small table: each verdict's badge, how many of the paper's claims have it, what it means;
    then the total."""
    lines = [[badge(v), str(n), md_escape(MEANING.get(v, ""))] for v, n in counts.items()]
    lines.append(["**all claims**", f"**{sum(counts.values())}**", "each number of the paper counted once"])
    return _table(["verdict", "claims", "what it means"], lines, "scorecard-tally") + "\n"


def glossary_markdown(used: str = "") -> str:
    """The glossary as a list (only the abbreviations found in ``used``, or all when it is empty)."""
    words = [w for w in GLOSSARY if not used or w in abbreviations(used)]
    return "\n".join(f"- **{md_escape(w)}** — {md_escape(GLOSSARY[w])}" for w in words) + "\n"
