"""The claim ledger: judge a claim of the paper and get back its record with the verdict.

The claims of *Conservativeness of untied auto-encoders* (Im, Belghazi & Memisevic, AAAI 2016) are
registered once, in ``claims/paper_claims.yml`` (the only place where the paper's numbers are typed,
read by :mod:`conservae_lib.claims.ledger_claims`), each with a verdict rule from :mod:`conservae_lib.claims.ledger_rules` (whose docstring says how each
verdict is decided). A chapter (01–07) computes a statistic, hands it to :func:`judge` with the claim's
id, and gets back a record with the verdict; no chapter decides (or types) a verdict itself. The
scorecard (chapter 90, :mod:`conservae_lib.chapters.scorecard.scorecard`) shows the records of all chapters. The names
chapters use (``ledger.judge``, ``ledger.CLAIMS``, ``ledger.VERDICTS`` …) are all importable from here.

Records (what :func:`judge` returns and chapters save in ``summary.json``)
-------------------------------------------------------------------------
A dict with the keys ``id``, ``chapter``, ``kind``, ``where``, ``quote``, ``statement``, ``paper``
(fraction or None), ``statistic``, ``ours`` (the mean of the per-seed statistic; for a trend the
mean ρ, for a count the fraction that holds, for an exact rule the largest residual), ``spread``
(standard deviation over seeds, None for one), ``n_seeds``, ``values`` (per-seed statistic),
``control`` (the control's value, or None), ``verdict``, ``reason``, ``rule`` (one line describing
the rule and its tolerance), ``reading`` (None = primary), ``data``, ``section`` (MyST label of the
evidence).

The exported scorecard (``results/<profile>/scorecard.json``)
-------------------------------------------------------------
Written by the scorecard page (:func:`conservae_lib.chapters.scorecard.rows.export`), checked by
:func:`conservae_lib.chapters.scorecard.rows.validate_export`, so that other reproductions can be compared
mechanically. A JSON object (keys sorted; numbers are fractions; missing values are ``null``):

* ``format`` — ``"conservae-scorecard/1"`` (:data:`SCORECARD_FORMAT`; a new version number for any
  change that is not the addition of a key);
* ``paper`` — the paper's reference; ``profile`` — whose results (``paper``: MNIST subset, ``full``:
  full MNIST, ``smoke``);
* ``verdicts`` — :data:`VERDICTS`, in order; ``tally`` — verdict → number of the paper's claims (a claim
  that repeats another claim's number, ``counted`` false, is counted once, under that claim);
* ``claims`` — one entry per registered claim, in the ledger's order, for the primary reading:
  every key of a record (:data:`RECORD_KEYS`: ``id``, ``chapter``, ``kind``, ``where``, ``quote``,
  ``statement``, ``paper``, ``statistic``, ``ours``, ``spread``, ``n_seeds``, ``values``,
  ``control``, ``verdict``, ``reason``, ``rule``, ``reading``, ``data``, ``section``) plus
  ``status`` ("ok", "not run", "not written", "not recorded"), ``counted`` (whether the tally counts it),
  ``provenance`` (``profile``, ``data``,
  ``n_seeds``, ``commit``, ``inputs_digest``) and ``other_datasets`` (profile → ``ours``, ``spread``,
  ``n_seeds``, ``verdict`` of the same claim under the other data set, when it has results);
* ``extras`` — entries of the same shape for other readings (``status`` "reading") and for ids the
  ledger does not know (``status`` "unknown");
* ``findings`` — entries of the same shape for the book's own findings (claims of this book, not of the
  paper: :func:`finding_ids`), never counted in the tally.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .ledger_claims import CLAIMS, TABLE1_COLUMNS, TABLE2_BETAS, Claim
from .ledger_rules import (NOT_REPRODUCED, NOT_TESTED, PARTLY, REPRODUCED, UNINFORMATIVE, VERDICTS, AtLeast, AtMost, Count, Exact, Rule, as_list, cap_single_seed, interval, is_finite_number, mean_sd)

__all__ = [
    "VERDICTS", "REPRODUCED", "PARTLY", "NOT_REPRODUCED", "UNINFORMATIVE", "NOT_TESTED", "Claim", "CLAIMS",
    "judge", "claim", "ids", "finding_ids", "UnknownClaimError", "ids_of_chapter", "RECORD_KEYS", "SCORECARD_FORMAT",
    "TABLE1_COLUMNS", "TABLE2_BETAS", "SUPPORT", "least_favourable",
]

_RANK = {REPRODUCED: 2, PARTLY: 1, NOT_REPRODUCED: 0}

#: The verdicts by how much they support a claim, least first (how co-primary readings combine).
SUPPORT: tuple[str, ...] = (NOT_REPRODUCED, NOT_TESTED, UNINFORMATIVE, PARTLY, REPRODUCED)

#: The keys of every record that :func:`judge` returns, in this order.
RECORD_KEYS: tuple[str, ...] = (
    "id", "chapter", "kind", "where", "quote", "statement", "paper", "statistic", "ours", "spread",
    "n_seeds", "values", "control", "verdict", "reason", "rule", "reading", "data", "section",
)

#: Name and version of the ``scorecard.json`` format (documented in this module's docstring).
SCORECARD_FORMAT: str = "conservae-scorecard/1"


def ids() -> list[str]:
    """The ids of the paper's registered claims, in order (the book's own findings are :func:`finding_ids`)."""
    return [c.id for c in CLAIMS.values() if c.source == "paper"]


def finding_ids() -> list[str]:
    """The ids of the book's own findings (``findings:`` of ``paper_claims.yml``): statements of this book, judged
    by the same rules, shown on the scorecard apart from the paper's claims and never counted in its tally."""
    return [c.id for c in CLAIMS.values() if c.source == "book"]


def ids_of_chapter(chapter: str) -> list[str]:
    """The registered claim ids that a chapter (key as in its folder under ``conservae_lib/chapters``) checks."""
    return [c.id for c in CLAIMS.values() if c.chapter == chapter]


class UnknownClaimError(KeyError):
    """A claim id that :data:`CLAIMS` does not know (its message is one sentence)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _unknown(id: Any) -> UnknownClaimError:
    return UnknownClaimError(f"{id!r} is not a claim registered in conservae_lib.claims.ledger.CLAIMS; "
                             f"register it there (with its rule) before judging it.")


def claim(id: str) -> Claim:
    """The registered claim with this id (:class:`UnknownClaimError`, a ``KeyError``, otherwise)."""
    if not isinstance(id, str) or id not in CLAIMS:
        raise _unknown(id)
    return CLAIMS[id]


# ----------------------------------------------------------------------------- judging
def _all_finite(values: Any) -> bool:
    items = as_list(values)
    if not items:
        return False
    for v in items:
        if isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, (int, float)):
            if not _all_finite(v):
                return False
        else:
            v = v.item() if hasattr(v, "item") else v  # NumPy / torch scalars
            if isinstance(v, bool):
                continue
            if not is_finite_number(v):
                return False
    return True


def _round(x: float | None, digits: int = 6) -> float | None:
    if x is None or not is_finite_number(x):
        return None
    return float(f"{x:.{digits}g}")


def _ours(rule: Rule, per_seed: list[float]) -> tuple[float, float | None]:
    """The value a record shows as ``ours`` and its ``spread``: the fraction that holds for a
    :class:`Count`, the largest residual for an :class:`Exact` rule, else the mean and sd."""
    if isinstance(rule, Count):
        return sum(per_seed) / len(per_seed), None
    if isinstance(rule, Exact):
        return max(per_seed), None
    return mean_sd(per_seed)


def _points_against(rule: Rule, per_seed: list[float], control: float) -> bool:
    """A control that does *better* than the claim on a threshold statistic (:class:`AtLeast` /
    :class:`AtMost`): its value lies beyond the whole interval mean ± 2·sd/√n of ours in the direction the
    claim says ours should go (e.g. more pre-activations in the band *without* the constraint than with
    it). Such a measurement contradicts the claim; it is not merely unable to tell the hypotheses apart."""
    if not isinstance(rule, (AtLeast, AtMost)):
        return False
    lo, hi = interval(per_seed)
    return control > hi if isinstance(rule, AtLeast) else control < lo


def least_favourable(records: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The primary record of a claim judged under several co-primary readings (readings a blind rule could
    not separate, ``reading name → record``): the record of the reading with the least support for the
    claim — not reproduced, then not tested, uninformative, partly, reproduced (:data:`SUPPORT`) — as the
    primary reading (``reading`` None), its reason prefixed by every reading's verdict. A claim thus counts
    as reproduced only when every co-primary reading reproduces it."""
    if not records:
        raise ValueError("least_favourable needs at least one record.")
    ids_ = {r["id"] for r in records.values()}
    if len(ids_) != 1:
        raise ValueError(f"least_favourable combines the records of one claim; got {sorted(ids_)}.")
    name = min(records, key=lambda k: SUPPORT.index(records[k]["verdict"]))
    out = dict(records[name])
    every = "; ".join(f"{k} → {r['verdict']}" for k, r in records.items())
    out["reason"] = (f"co-primary readings ({every}); shown: the least favourable, {name}: " + str(out["reason"])
                     if len(records) > 1 else out["reason"])
    out["reading"] = None
    return out


def _capped(verdict: str, reason: str, limit: str, why: str) -> tuple[str, str]:
    """``verdict`` lowered to ``limit`` when it supports the claim more (:data:`SUPPORT`), with ``why`` in the reason."""
    if limit not in SUPPORT:
        raise ValueError(f"cap must name a verdict ({', '.join(SUPPORT)}); got {limit!r}.")
    if SUPPORT.index(verdict) > SUPPORT.index(limit):
        return limit, f"{reason}; {verdict} by the rule, shown as {limit} at most: {why}"
    return verdict, reason


def judge(
    id: str,
    values: Any = None,
    *,
    control: Any = None,
    not_tested: str | None = None,
    reading: str | None = None,
    data: str | None = None,
    section: str | None = None,
    axis: Sequence[float] | None = None,
    n_seeds: int | None = None,
    detail: str | None = None,
    cap: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Judge registered claim ``id`` on our statistic and return its record (see the module docstring).

    ``values``: the statistic the claim's entry documents, one number per seed (or one number; for a
    :class:`Trend` one curve per seed over ``axis``; for a :class:`Count` one boolean per case);
    fractions, never percent. ``control``: the same statistic for a control that must not pass — if
    it does as well as ours, the verdict is "uninformative". ``not_tested``: a reason when the run
    did not give a usable result → "not tested". ``reading``: the name of a non-primary reading of
    the paper (None = the primary one). ``n_seeds``: the number of seeds behind a :class:`Count`
    (recorded; with one seed of a trained result any rule gives at most partly; by default the
    number of per-seed values, or of curves for a trend). ``detail``: a short
    text appended to the reason (e.g. which configuration failed). ``cap``: ``(verdict, why)`` — the most
    support the evidence can give, whatever the rule says (e.g. ``(PARTLY, "its learner did not fit")``): a
    better verdict is lowered to it and ``why`` is added to the reason; a worse one is kept.
    """
    c = claim(id)
    rule = c.rule
    rec: dict[str, Any] = {
        "id": c.id, "chapter": c.chapter, "kind": c.kind, "where": c.where, "quote": c.quote,
        "statement": c.statement, "paper": c.paper, "statistic": c.statistic, "ours": None, "spread": None,
        "n_seeds": n_seeds, "values": None, "control": None, "verdict": NOT_TESTED, "reason": "",
        "rule": rule.describe(), "reading": reading, "data": data, "section": section,
    }
    if not_tested is not None:
        rec["reason"] = str(not_tested)
        return rec
    if not _all_finite(values):
        rec["reason"] = "no finite value was handed over (the run gave an undefined result)"
        return rec
    per_seed = rule.per_seed(values, axis)
    ours, spread = _ours(rule, per_seed)
    if n_seeds is None and not isinstance(rule, (Count, Exact)):
        n_seeds = len(per_seed)
    rec.update(ours=_round(ours), spread=_round(spread), n_seeds=n_seeds,
               values=[_round(v) for v in per_seed])
    trained = c.trained
    verdict, reason = rule.decide(values, c.paper, trained=trained, axis=axis)
    if n_seeds is not None:
        verdict, reason = cap_single_seed(verdict, reason, n_seeds, trained)
    if control is not None:
        if not _all_finite(control):
            reason += "; the control gave no finite value"
        else:
            cval = _ours(rule, rule.per_seed(control, axis))[0]
            rec["control"] = _round(cval)
            cverdict, _ = rule.decide(control, c.paper, trained=False, axis=axis)
            reason += f"; control {rule.show(cval)} → {cverdict}"
            if _points_against(rule, per_seed, cval):
                verdict = NOT_REPRODUCED
                reason += (": the control lies beyond our whole interval in the claim's direction, so the measurement "
                           "points against the claim")
            elif verdict in (REPRODUCED, PARTLY) and _RANK.get(cverdict, 0) >= _RANK[verdict]:
                verdict = UNINFORMATIVE
                reason += ": the control passes the same test, so the test cannot tell the hypotheses apart"
    if cap is not None:
        verdict, reason = _capped(verdict, reason, *cap)
    if detail:
        reason += f"; {detail}"
    rec["verdict"], rec["reason"] = verdict, reason
    return rec
