"""The scorecard in words a reader knows: the abbreviations the page uses (:data:`GLOSSARY`), human labels for
the chapters' reading ids (:func:`reading_label`), our value and the paper's with their units
(:func:`ours_text`, :func:`paper_text`) and one short reason per row (:func:`short_reason`).

Every number comes from a record or from the claim's rule in :mod:`conservae_lib.claims.ledger`; nothing of
the paper is typed here. The page itself is :mod:`conservae_lib.chapters.scorecard.scorecard`.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

from conservae_lib.claims import ledger
from conservae_lib.claims.ledger_rules import AtLeast, AtMost, Close, Count, Exact, Trend, is_finite_number
from conservae_lib.presentation import report

__all__ = ["GLOSSARY", "ABBREVIATION", "VERDICT_WORDS", "abbreviations", "expand", "abbr", "reading_label",
           "is_percent", "number_text", "paper_text", "ours_text", "control_text", "short_reason"]

#: Every abbreviation the scorecard page uses, with what it stands for (shown on the page; a test checks
#: that the rendered page uses no other).
GLOSSARY: dict[str, str] = {
    "AE": "auto-encoder: a network r(x) trained to reconstruct its input x",
    "CAE": "contractive auto-encoder: an auto-encoder trained with a penalty on its Jacobian (eq. 10)",
    "DAE": "denoising auto-encoder: trained to reconstruct x from a noisy copy",
    "CVF": ("conservative vector field: in Table 2, the conservative model F_K that Algorithm 1 mixes in, "
            "trained as a tied or an untied auto-encoder"),
    "MNIST": "the data set of handwritten digits (28 × 28 grey images)",
    "wl": "weight-length constraint: every weight vector is kept at a fixed length during training",
    "sym": "symmetricity of a matrix: 1 when it is symmetric, about ½ for a random one",
    "pp": "percentage points: the difference of two percentages",
    "ρ": "Spearman's rank correlation: +1 when a curve always rises, −1 when it always falls",
    "sd": "standard deviation over the seeds (independent repeats of a training run)",
    "SGD": "stochastic gradient descent, the optimiser; Adam is the other one the book uses",
    "BFGS": "L-BFGS, a quasi-Newton optimiser",
}

#: What the page's tests call an abbreviation: an all-capital word of 2 to 5 letters, or one of the
#: glossary's lower-case ones.
ABBREVIATION = re.compile(r"(?<![\w-])(?:[A-Z]{2,5}|wl|sym|pp|sd)(?![\w-])")

#: The verdicts in plain words, for sentences (the badges show the ledger's own words).
VERDICT_WORDS: dict[str, str] = {
    ledger.REPRODUCED: "holds",
    ledger.PARTLY: "holds in part",
    ledger.NOT_REPRODUCED: "does not hold",
    ledger.UNINFORMATIVE: "cannot be decided (a control passes the same test)",
    ledger.NOT_TESTED: "not tested",
}

#: Words to spell out where a sentence has no room for a glossary (the landing page).
_SPELLED = (("CAEs", "contractive auto-encoders"), ("CAE", "contractive auto-encoder"), ("AEs", "auto-encoders"),
            ("AE", "auto-encoder"), ("DAE", "denoising auto-encoder"), ("CVF", "conservative field"),
            ("wl", "weight-length constraint"), ("sym", "symmetricity"), ("pp", "percentage points"),
            ("MNIST", "MNIST digits"))


def abbreviations(text: str) -> set[str]:
    """The abbreviation-like tokens of ``text`` (:data:`ABBREVIATION`)."""
    return set(ABBREVIATION.findall(text))


def expand(text: str) -> str:
    """``text`` with the abbreviations of a claim spelled out (for a sentence read without the glossary)."""
    for short, long in _SPELLED:
        text = re.sub(rf"(?<![\w-]){re.escape(short)}(?![\w-])", long, text)
    return text.replace("MNIST digits digits", "MNIST digits")


def abbr(text: str) -> str:
    """``text`` (already Markdown-escaped) with every glossary abbreviation in an ``<abbr>`` that defines it; two
    capitals that are not an abbreviation are a product of the paper's matrices ("R = WS"), shown spaced."""
    def one(m: re.Match) -> str:
        word = m.group(0)
        if word not in GLOSSARY:
            return " ".join(word) if len(word) == 2 and word.isupper() else word
        return f'<abbr title="{GLOSSARY[word]}">{word}</abbr>'
    parts = re.split(r"(`[^`]*`)", text)  # never inside a code span (a claim id)
    return "".join(p if p.startswith("`") else ABBREVIATION.sub(one, p) for p in parts)


#: Readings whose id says little to a reader: what each measures instead of the paper's stated reading.
_READINGS: dict[str, str] = {
    "sgd": "trained with SGD with momentum instead of Adam",
    "sgd_plain": "trained with plain SGD (no momentum) instead of Adam",
    "rifai": "with Rifai's contractive penalty instead of eq. 10",
    "binomial": "with binomial noise as the corruption instead of salt and pepper",
    "table-beta": "reading β in Table 2's convention instead of Algorithm 1's",
    "cvf-untied": "with the conservative model F_K trained untied",
    "symmetric-part": "against the symmetric part of the field itself",
    "every-x, sigmoid": "required at every x, with a sigmoid",
    "mnist_pkl": "on full MNIST",
}


def reading_label(reading: Any) -> str:
    """A reading id as a reader can follow it ("sgd_plain" → "trained with plain SGD …"); an id already in
    words is kept, an unknown one loses its underscores."""
    text = str(reading or "")
    if text in _READINGS:
        return _READINGS[text]
    head, _, rest = text.partition(", ")
    if head in _READINGS:
        return _READINGS[head] + (f" ({rest})" if rest else "")
    if text.startswith("weight decay "):
        return f"with L2 weight decay, λ = {text.split()[-1]}"
    return text.replace("_", " ")


# ----------------------------------------------------------------------------- numbers with units
def is_percent(cl: ledger.Claim | None) -> bool:
    """Whether the claim's statistic is a fraction shown in percent: the ledger's "%" claims and every
    threshold or closeness statistic that is not a cosine or a correlation."""
    if cl is None:
        return False
    if cl.unit == "%":
        return True
    text = cl.statistic.lower()
    return isinstance(cl.rule, (Close, AtLeast, AtMost)) and "cosine" not in text and "correlation" not in text


def _sci(x: float, digits: int = 2) -> str:
    """A tiny or huge number as "a × 10ⁿ" (no raw "e-06")."""
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    sup = str(int(exp)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return ("" if mant in ("1", "1.0") else f"{mant} × ") + f"10{sup}"


def number_text(x: float, percent: bool, digits: int = 3) -> str:
    """One value: in percent (``percent``) or as a plain number, never in raw exponent notation."""
    x = float(x)
    if percent:
        return f"{report.fmt(100 * x, digits)} %"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return _sci(x)
    return report.fmt(x, digits)


def _spread_text(sd: float, percent: bool) -> str:
    if percent:
        pp = 100 * sd
        return "0 pp" if pp == 0 else "< 0.01 pp" if pp < 0.01 else f"{report.fmt(pp, 2)} pp"
    return "0" if sd == 0 else "< 0.01" if abs(sd) < 0.01 else report.fmt(sd, 2)


def paper_text(cl: ledger.Claim | None) -> str:
    """The paper's value in the page's unit, or "stated in words" for a claim without a number."""
    if cl is None:
        return "—"
    return "stated in words" if cl.paper is None else number_text(cl.paper, is_percent(cl), 4)


def _seeds(rec: Mapping[str, Any]) -> str:
    n = rec.get("n_seeds")
    return f" ({int(n)} seed{'s' if int(n) != 1 else ''})" if n else ""


def ours_text(rec: Mapping[str, Any], cl: ledger.Claim | None) -> str:
    """Our value with its unit: a percentage ± its sd in pp, "ρ = …" for a trend, "k of n cases" for a count,
    "zero to rounding" for an identity; the number of seeds in brackets; "—" without a value."""
    ours = rec.get("ours")
    if not is_finite_number(ours):
        return "—"
    rule = cl.rule if cl else None
    if isinstance(rule, Count):
        vals = rec.get("values") or []
        return (f"{int(round(sum(vals)))} of {len(vals)} cases" if vals else number_text(ours, True)) + _seeds(rec)
    if isinstance(rule, Exact):
        return "zero to rounding" if float(ours) < 1e-12 else f"largest residual {number_text(ours, False)}"
    percent = is_percent(cl) and not isinstance(rule, Trend)
    text = f"ρ = {float(ours):+.2f}" if isinstance(rule, Trend) else number_text(ours, percent)
    if is_finite_number(rec.get("spread")) and rec.get("n_seeds") and int(rec["n_seeds"]) > 1:
        text += " ± " + _spread_text(float(rec["spread"]), percent)
    return text + _seeds(rec)


def control_text(rec: Mapping[str, Any], cl: ledger.Claim | None) -> str:
    """The control's value in the claim's unit ("—" without one)."""
    c = rec.get("control")
    if not is_finite_number(c):
        return "—"
    return number_text(c, is_percent(cl) and not isinstance(cl.rule if cl else None, (Trend, Count)))


# ----------------------------------------------------------------------------- one short reason
def _needs(cl: ledger.Claim, n: int) -> str:
    """What the claim's rule asks, in words and the claim's unit."""
    rule, pct = cl.rule, is_percent(cl)
    if isinstance(rule, Close):
        band = (lambda t: f"{report.fmt(100 * t, 2)} pp") if pct else (lambda t: report.fmt(t, 2))
        return f"holds within ±{band(rule.reproduced)} of the paper's value, in part within ±{band(rule.partly)}"
    if isinstance(rule, (AtLeast, AtMost)):
        word = "at least" if isinstance(rule, AtLeast) else "at most"
        return (f"needs {word} {number_text(rule.threshold, pct)} ({number_text(rule.partly, pct)} "
                f"to hold in part)")
    if isinstance(rule, Count):
        full, part = math.ceil(rule.reproduced * n - 1e-9), math.ceil(rule.partly * n - 1e-9)
        return f"needs {full} of {n} ({part} to hold in part)" if n else "needs every case"
    if isinstance(rule, Trend):
        way = "rise" if rule.direction > 0 else "fall"
        return f"needs a steady {way}: ρ {'≥' if way == 'rise' else '≤'} {rule.direction * rule.reproduced:+.1f} in every seed"
    if isinstance(rule, Exact):
        return f"an identity: every residual must be below {_sci(rule.tol, 1)}"
    return ""


def _gap(rec: Mapping[str, Any], cl: ledger.Claim) -> str:
    """How far ours is from the paper's value ("14.8 pp below the paper's")."""
    d = float(rec["ours"]) - float(cl.paper)  # type: ignore[arg-type]
    size = f"{report.fmt(100 * abs(d), 3)} pp" if is_percent(cl) else report.fmt(abs(d), 3)
    return "equal to the paper's" if d == 0 else f"{size} {'above' if d > 0 else 'below'} the paper's"


def short_reason(rec: Mapping[str, Any], cl: ledger.Claim | None) -> str:
    """One short reason for a row's verdict, in words: how far ours is from the paper's value or what the
    rule needs, and what a control or a cap changed. The ledger's own reason is in the row's details."""
    verdict, reason = rec.get("verdict"), str(rec.get("reason") or "")
    if verdict == ledger.NOT_TESTED or cl is None:
        return reason
    parts = []
    if isinstance(cl.rule, Close) and cl.paper is not None and is_finite_number(rec.get("ours")):
        parts.append("ours is " + _gap(rec, cl))
    parts.append(_needs(cl, len(rec.get("values") or [])))
    if verdict == ledger.UNINFORMATIVE:
        parts.append(f"a control that must not pass scores {control_text(rec, cl)} and passes too")
    elif "control lies beyond" in reason:
        parts.append(f"a control that should not pass does better ({control_text(rec, cl)})")
    if "at most:" in reason:
        parts.append("capped: " + reason.split("at most:", 1)[1].split("(")[0].strip())
    return "; ".join(p for p in parts if p)
