"""A chapter's verdicts as a table: the paper's value, ours, the control and the ledger's verdict.

:func:`records_frame` is what every chapter prints under its claims (the rows it adds to the scorecard);
:func:`format_paper`, :func:`format_ours` and :func:`md_escape` are shared with the scorecard page.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import pandas as pd

from conservae_lib.claims import ledger
from conservae_lib.claims.ledger_rules import Count, Exact, Trend, is_finite_number
from . import report

__all__ = ["records_frame", "format_paper", "format_ours", "md_escape", "in_unit"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$#])")


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown inside a table cell (no emphasis, math, links or cell breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def in_unit(x: float, cl: ledger.Claim | None, digits: int = 4) -> str:
    if cl is not None and cl.unit == "%":
        return f"{report.fmt(100 * x, 3)} %"
    return report.fmt(x, digits)


def format_paper(cl: ledger.Claim) -> str:
    """The paper's value in the scorecard's unit, or "qualitative" for a claim without a number."""
    return "qualitative" if cl.paper is None else in_unit(cl.paper, cl, 5)


def format_ours(r: Any, cl: ledger.Claim | None = None) -> str:
    """Our value in the unit of the paper's: the statistic's mean ± sd (n seeds), a trend's ρ, a
    count's k of n, an identity's largest residual; "—" without a value. ``r`` is a record (a mapping) or a
    scorecard row (with ``record`` and ``claim``)."""
    rec = getattr(r, "record", r)
    cl = getattr(r, "claim", None) or cl or ledger.CLAIMS.get(str(rec.get("id")))
    ours = rec.get("ours")
    if not is_finite_number(ours):
        return "—" if ours is None else str(ours)
    rule = cl.rule if cl else None
    n = rec.get("n_seeds")
    seeds = f" (n = {int(n)} seed{'s' if int(n) != 1 else ''})" if n else ""
    if isinstance(rule, Count):
        vals = rec.get("values") or []
        return f"holds in {int(round(sum(vals)))} of {len(vals)}{seeds}" if vals else report.fmt(ours, 3)
    if isinstance(rule, Trend):
        text = f"ρ = {float(ours):+.2f}"
    elif isinstance(rule, Exact):
        return f"largest residual {report.fmt_small(float(ours), 1e-12)}"
    else:
        text = in_unit(float(ours), cl)
    if is_finite_number(rec.get("spread")):
        spread = float(rec["spread"])
        text += " ± " + (f"{report.fmt(100 * spread, 2)} %" if cl and cl.unit == "%" and not isinstance(rule, Trend)
                         else report.fmt(spread, 2))
    return text + seeds


def records_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A chapter's records (from :func:`conservae_lib.claims.ledger.judge`) as a DataFrame of strings:
    claim, the paper's value, ours, the control (if any) and the verdict with its reason — what the
    chapter contributes to the scorecard, printed deterministically."""
    out = []
    for rec in records:
        cl = ledger.CLAIMS.get(str(rec.get("id")))
        control = rec.get("control")
        out.append({
            "claim": str(rec.get("id")) + (f" ({rec['reading']})" if rec.get("reading") else ""),
            "the paper": format_paper(cl) if cl else "—",
            "ours": format_ours(rec, cl),
            "control": "—" if not is_finite_number(control) else (
                report.fmt_small(float(control), 1e-12) if cl and isinstance(cl.rule, Exact)
                else in_unit(float(control), cl)),
            "verdict": str(rec.get("verdict")),
            "reason": str(rec.get("reason") or ""),
        })
    return report.frame(out, index="claim")
