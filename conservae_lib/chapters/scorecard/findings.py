"""What each part of the paper came to, in a few plain sentences generated from the scorecard's rows: what holds,
what does not (ours beside the paper's), what the tests cannot decide, and why — from the controls, the
claims' notes and the book's own findings (:func:`part_finding`). The landing page glues the plain-text form;
the scorecard shows the Markdown form, with links to the evidence.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from conservae_lib.claims import ledger
from conservae_lib.claims.ledger_rules import Close, is_finite_number
from conservae_lib.presentation.verdicts import md_escape
from .rows import Row, finding_rows, paper_rows
from .words import VERDICT_WORDS, abbr, expand, is_percent, ours_text, paper_text

__all__ = ["NAMED", "part_finding", "control_phrase", "table_sentence"]

#: How many claims a sentence names one by one before it says "and k more".
NAMED = 4


def control_phrase(cl: ledger.Claim) -> str:
    """What the claim's control is, from its statistic ("a control (the same ratio for a model that is not trained)");
    "a control that must not pass" when the statistic does not say."""
    m = re.search(r"[Tt]he control is (.+?)(?:;| — |\.\s|\(e\.g|$)", cl.statistic)
    if not m:
        return "a control that must not pass"
    text = re.sub(r"\s*\([^()]*\)$", "", m.group(1).strip().rstrip(","))  # without a closing aside
    return f"a control ({text})"


def _table(r: Row) -> str:
    return r.claim.where.split(",")[0] if r.claim is not None else ""


def _gaps(rs: Sequence[Row]) -> str:
    """Where ours misses the paper's value: "6.5 to 14.8 pp below the paper's" (empty without numbers)."""
    ds = [float(r.record["ours"]) - float(r.claim.paper) for r in rs  # type: ignore[union-attr, arg-type]
          if r.claim is not None and r.claim.paper is not None and is_finite_number(r.record.get("ours"))
          and isinstance(r.claim.rule, Close)]
    if not ds:
        return ""
    pct = is_percent(rs[0].claim)
    size = (lambda d: f"{100 * abs(d):.3g} pp") if pct else (lambda d: f"{abs(d):.2g}")
    lo, hi = min(ds, key=abs), max(ds, key=abs)
    if all(d < 0 for d in ds) or all(d > 0 for d in ds):
        side = "below" if ds[0] < 0 else "above"
        span = size(lo) if len(ds) == 1 or size(lo) == size(hi) else f"{size(lo)} to {size(hi)}"
        return f"ours {span} {side} the paper's"
    return "ours on both sides of the paper's, by up to " + size(hi)


def table_sentence(rs: Sequence[Row]) -> str:
    """One sentence for the cells of one table: how many hold, in part, not (and by how much), undecided."""
    n = len(rs)
    by = {v: [r for r in rs if r.verdict == v] for v in ledger.VERDICTS}
    parts = []
    for v, many, one in ((ledger.REPRODUCED, "hold", "holds"), (ledger.PARTLY, "hold in part", "holds in part"),
                         (ledger.NOT_REPRODUCED, "do not hold", "does not hold"),
                         (ledger.UNINFORMATIVE, "cannot be decided", "cannot be decided"),
                         (ledger.NOT_TESTED, "are not tested", "is not tested")):
        k = len(by[v])
        if not k:
            continue
        text = f"{k} {many if k != 1 else one}"
        if v == ledger.NOT_REPRODUCED and _gaps(by[v]):
            text += f" ({_gaps(by[v])})"
        if v == ledger.UNINFORMATIVE:
            text += " (a control passes the same test)"
        parts.append(text)
    return f"{_table(rs[0])}, {n} cell{'s' if n != 1 else ''}: " + ", ".join(parts)


def _named(items: Sequence[str]) -> str:
    more = len(items) - NAMED
    return "; ".join(items[:NAMED]) + (f"; and {more} more" if more > 0 else "")


def _item(r: Row, with_values: bool) -> str:
    cl = r.claim
    name = cl.statement if cl is not None else r.id
    if not with_values or cl is None or ours_text(r.record, cl) == "—":
        return name
    paper = "" if cl.paper is None else f", the paper {paper_text(cl)}"
    return f"{name} (ours {ours_text(r.record, cl)}{paper})"


def _why(mine: Sequence[Row], findings: Sequence[Row]) -> list[str]:
    """Reasons in words: the controls that pass or do better, the notes of claims that do not hold, the
    book's own findings about the chapter."""
    out = []
    for r in mine:
        if r.claim is None or r.claim.kind == "table cell":
            continue
        if r.verdict == ledger.UNINFORMATIVE:
            out.append(f"for “{r.claim.statement}”, {control_phrase(r.claim)} passes the same test")
        elif r.verdict == ledger.NOT_REPRODUCED and "control lies beyond" in r.reason:
            out.append(f"for “{r.claim.statement}”, {control_phrase(r.claim)} does better than ours")
        elif r.verdict == ledger.NOT_REPRODUCED and r.claim.note:
            out.append(r.claim.note)
    for f in findings:
        if f.claim is not None and f.verdict != ledger.NOT_TESTED:
            out.append(f"the book's own check that {f.claim.statement} {VERDICT_WORDS[f.verdict]} "
                       f"({ours_text(f.record, f.claim)})")
    return out


def part_finding(rows: Sequence[Row], chapter: str, markdown: bool = False,
                 link: str | None = None) -> str:
    """What one chapter found, in a few plain sentences (what holds, what does not, what cannot be decided,
    why). Plain text with abbreviations spelled out; with ``markdown``, escaped Markdown whose abbreviations
    define themselves, ending with a link to ``link`` (a section label) when given."""
    mine = [r for r in paper_rows(rows) if r.chapter == chapter and (r.claim is None or r.claim.counted)]
    if not mine:
        return "No claims of the paper are judged here."
    if all(r.status in ("not run", "not written") for r in mine):
        return f"Not run yet under this profile ({len(mine)} claims wait for it)."
    cells = [r for r in mine if r.claim is not None and r.claim.kind == "table cell"]
    others = [r for r in mine if r not in cells]
    sentences = []
    for table in dict.fromkeys(_table(r) for r in cells):
        sentences.append(table_sentence([r for r in cells if _table(r) == table]) + ".")
    for v, head, values in ((ledger.REPRODUCED, "Holds", False), (ledger.PARTLY, "Holds in part", True),
                            (ledger.NOT_REPRODUCED, "Does not hold", True),
                            (ledger.UNINFORMATIVE, "Cannot be decided", False), (ledger.NOT_TESTED, "Not tested", False)):
        rs = [r for r in others if r.verdict == v]
        if rs:
            sentences.append(f"{head}: " + _named([_item(r, values) for r in rs]) + ".")
    why = _why(mine, [f for f in finding_rows(rows) if f.chapter == chapter])
    if why:
        sentences.append("Why: " + "; ".join(why) + ".")
    text = " ".join(sentences)
    if not markdown:
        return expand(text)
    text = abbr(md_escape(text))
    return text + (f" [The evidence, and why it differs.](#{link})" if link else "")


def chapter_links(labels: Mapping[str, set[str]], chapter: str) -> str | None:
    """The label a chapter's finding links to: its section on where the numbers differ, else its first
    section that shows what holds, else the chapter itself."""
    labs = sorted(labels.get(chapter, ()))
    for key in ("differ", "verdict", "claims", "chap-"):
        hit = next((lab for lab in labs if key in lab), None)
        if hit:
            return hit
    return None
