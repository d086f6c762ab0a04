"""The verdicts of the claim ledger and the rules that decide them (shown on page ``90_scorecard``).

A rule turns the statistic a chapter computed for a claim into a verdict and a one-line reason;
:mod:`conservae_lib.claims.ledger` picks the claim's rule from :mod:`conservae_lib.claims.ledger_claims` and adds
what all rules share. The scorecard (chapter 90) shows each verdict beside the rule's description.

Verdicts (:data:`VERDICTS`)
---------------------------
``reproduced``
    The rule's strict test holds, with the seed-to-seed uncertainty counted *against* the claim.
``partly``
    The rule's looser test holds, or the strict test holds for the mean but the uncertainty (one
    seed of a trained result, or a wide spread) does not let it pass for sure.
``not reproduced``
    Neither test holds; or a control does *better* than the claim on a threshold statistic (its value
    lies beyond our whole interval in the direction the claim says ours should go), so the measurement
    points against the claim.
``uninformative``
    A control — the same statistic for something that must *not* pass (an untrained model, a
    trivial energy, a random field) — gets the same verdict as the claim or a better one: the test
    cannot tell the hypotheses apart, so its outcome says nothing about the claim. Never counted as
    reproduced.
``not tested``
    The experiment did not run, diverged, collapsed (e.g. a dead network, a degenerate Jacobian whose
    metric is undefined), or the learner did not fit; the reason is recorded. Also given when the
    values handed over are missing or not finite.

The rules
---------
Every rule is a small class with ``decide(values, paper, trained=…, axis=…) -> (verdict, reason)``;
:func:`conservae_lib.claims.ledger.judge` adds what all rules share: ``not_tested`` → "not tested";
non-finite values → "not tested"; a ``control`` that does as well as the claim → "uninformative".
Each rule carries ``why``: the reason for its tolerance, shown beside the verdict.

:class:`Close` — numeric closeness to the paper's value (a fraction). With per-seed values
    ``v₁ … vₙ`` (mean m, standard deviation s), the claim is *reproduced* only when the whole interval
    ``m ± 2·s/√n`` lies within ``paper ± reproduced``; a trained result needs at least two seeds
    (with one seed its spread is unknown, so it is at most *partly*). It is *partly* when
    ``|m − paper| ≤ partly``. The tolerances never widen with the spread: more noise can only move
    a verdict from reproduced to partly.
:class:`AtLeast` / :class:`AtMost` — a threshold on a statistic (e.g. a cosine, a ratio of curls, a
    relative error). *Reproduced* when the whole interval ``m ± 2·s/√n`` is beyond the threshold
    (a trained result with one seed: at most partly); *partly* when the mean is beyond the looser
    ``partly`` threshold.
:class:`Count` — ``k`` of ``n`` cases hold (values are booleans or 0/1: one per pair of
    configurations, per seed, per data set …). *Reproduced* when ``k/n ≥ reproduced`` (by default all
    of them), *partly* when ``k/n ≥ partly``.
:class:`Trend` — a monotone trend along an axis (β, epochs, the contraction strength), measured by
    Spearman's rank correlation ρ between the axis and the statistic, signed so that the claimed
    direction is positive. ``values`` is one curve (a list over the axis) or one curve per seed (a
    list of lists); *reproduced* when every seed's signed ρ is ≥ ``reproduced`` (a trained result
    needs two seeds), *partly* when the mean signed ρ is ≥ ``partly``.
:class:`Exact` — a mathematical identity checked numerically: the values are residuals (e.g.
    ``1 − sym(J)``, a maximal absolute error) that must all be below ``tol`` (1e-10 in float64 by
    default); anything else is *not reproduced*.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

__all__ = [
    "VERDICTS", "REPRODUCED", "PARTLY", "NOT_REPRODUCED", "UNINFORMATIVE", "NOT_TESTED",
    "Rule", "Close", "AtLeast", "AtMost", "Count", "Trend", "Exact", "spearman",
    "is_finite_number", "mean_sd", "interval", "as_list", "cap_single_seed",
]

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
UNINFORMATIVE = "uninformative"
NOT_TESTED = "not tested"

#: Every verdict a record can carry, best first.
VERDICTS: tuple[str, ...] = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNINFORMATIVE, NOT_TESTED)


# ----------------------------------------------------------------------------- helpers
def is_finite_number(x: Any) -> bool:
    """``x`` is a finite int or float (a bool is not a number here)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for one value)."""
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, None
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))


def interval(values: Sequence[float]) -> tuple[float, float]:
    """``mean ± 2·sd/√n`` (a point for one value)."""
    m, s = mean_sd(values)
    h = 0.0 if s is None else 2 * s / math.sqrt(len(values))
    return m - h, m + h


def _g(x: float) -> str:
    return f"{x:.4g}"


def _ranks(xs: Sequence[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two sequences (ties get average ranks); NaN when either
    sequence is constant or shorter than 3."""
    if len(x) != len(y):
        raise ValueError(f"spearman needs sequences of one length; got {len(x)} and {len(y)}.")
    if len(x) < 3:
        return float("nan")
    rx, ry = _ranks(list(x)), _ranks(list(y))
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / math.sqrt(sxx * syy)


# ----------------------------------------------------------------------------- rules
class Rule:
    """A verdict rule. Subclasses implement :meth:`decide` and :meth:`per_seed`."""

    why: str = ""

    def show(self, x: float) -> str:
        """``x`` as the reasons print it."""
        return _g(x)

    def per_seed(self, values: Any, axis: Sequence[float] | None = None) -> list[float]:
        """The per-seed statistic that ``ours`` and ``spread`` summarise (the values themselves)."""
        return [float(v) for v in as_list(values)]

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        """(verdict, one-line reason) for ``values`` (and the paper's value, the axis of a trend)."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line: the rule, its tolerance and the reason for it."""
        raise NotImplementedError


def as_list(values: Any) -> list[Any]:
    """``values`` (None, a number, a NumPy/torch array or scalar, a sequence) as a list."""
    if values is None:
        return []
    if isinstance(values, (int, float, bool)) or hasattr(values, "item") and getattr(values, "ndim", 1) == 0:
        return [values.item() if hasattr(values, "item") else values]
    if hasattr(values, "tolist"):
        return list(values.tolist())
    return list(values)


def _summarise(vs: list[float]) -> tuple[list[float], float, float, float]:
    """The per-seed values, their mean and the interval mean ± 2·sd/√n."""
    lo, hi = interval(vs)
    return vs, mean_sd(vs)[0], lo, hi


def _spread_text(vs: list[float], lo: float, hi: float, before: str, after: str = "") -> str:
    """"mean ± 2 sd/√n = [lo, hi]" between ``before`` and ``after`` when there are several seeds, else ""."""
    return f"{before}mean ± 2 sd/√n = [{_g(lo)}, {_g(hi)}]{after}" if len(vs) > 1 else ""


def _grade(reproduced: bool, partly: bool, reason: str, n: int, trained: bool) -> tuple[str, str]:
    """The verdict of a rule whose strict test (on the interval) is ``reproduced`` and loose test (on the
    mean) is ``partly``; one seed of a trained result is capped at partly."""
    if reproduced:
        return cap_single_seed(REPRODUCED, reason, n, trained)
    return (PARTLY if partly else NOT_REPRODUCED), reason


def cap_single_seed(verdict: str, reason: str, n: int, trained: bool) -> tuple[str, str]:
    """"reproduced" becomes "partly" (with the reason why) for one seed (``n < 2``) of a trained result."""
    if verdict == REPRODUCED and trained and n < 2:
        return PARTLY, reason + "; one seed of a trained result cannot show its spread, so at most partly"
    return verdict, reason


@dataclass(frozen=True)
class Close(Rule):
    """Closeness to the paper's value: reproduced when ``mean ± 2·sd/√n`` ⊂ ``paper ± reproduced``
    (two seeds at least for a trained result), partly when ``|mean − paper| ≤ partly``."""

    reproduced: float
    partly: float
    why: str = ""

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        if paper is None:
            raise ValueError("the Close rule needs the paper's value.")
        vs, m, lo, hi = _summarise(self.per_seed(values))
        gap = m - paper
        reason = (f"ours {_g(m)} vs paper {_g(paper)} (difference {gap:+.3g}{_spread_text(vs, lo, hi, '; ')}); "
                  f"reproduced within ±{_g(self.reproduced)}, partly within ±{_g(self.partly)}")
        if abs(gap) <= self.reproduced and not paper - self.reproduced <= lo <= hi <= paper + self.reproduced:
            reason += "; the mean is within the strict tolerance but the seed spread is not"
        return _grade(paper - self.reproduced <= lo and hi <= paper + self.reproduced, abs(gap) <= self.partly,
                      reason, len(vs), trained)

    def describe(self) -> str:
        return (f"|ours − paper| with mean ± 2 sd/√n inside ±{_g(self.reproduced)} → reproduced; "
                f"mean within ±{_g(self.partly)} → partly. {self.why}").strip()


@dataclass(frozen=True)
class _Threshold(Rule):
    threshold: float
    partly: float
    why: str = ""
    _sign = 1.0
    _word = "≥"

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        vs, m, lo, hi = _summarise(self.per_seed(values))
        beyond = (lambda x, t: x >= t) if self._sign > 0 else (lambda x, t: x <= t)
        reason = (f"ours {_g(m)}{_spread_text(vs, lo, hi, ' (', ')')}; reproduced when {self._word} "
                  f"{_g(self.threshold)}, partly when {self._word} {_g(self.partly)}")
        return _grade(beyond(lo if self._sign > 0 else hi, self.threshold), beyond(m, self.partly), reason, len(vs),
                      trained)

    def describe(self) -> str:
        return (f"mean ± 2 sd/√n {self._word} {_g(self.threshold)} → reproduced; mean {self._word} "
                f"{_g(self.partly)} → partly. {self.why}").strip()


@dataclass(frozen=True)
class AtLeast(_Threshold):
    """The statistic must be at least ``threshold`` (reproduced; the whole ``mean ± 2·sd/√n``
    interval) or at least ``partly`` (partly; the mean)."""

    _sign = 1.0
    _word = "≥"


@dataclass(frozen=True)
class AtMost(_Threshold):
    """The statistic must be at most ``threshold`` (reproduced; the whole ``mean ± 2·sd/√n``
    interval) or at most ``partly`` (partly; the mean)."""

    _sign = -1.0
    _word = "≤"


@dataclass(frozen=True)
class Count(Rule):
    """``k`` of ``n`` cases hold: reproduced when ``k/n ≥ reproduced``, partly when ``k/n ≥ partly``.
    ``values`` are booleans (or 0/1), one per case."""

    reproduced: float = 1.0
    partly: float = 0.5
    why: str = ""

    def per_seed(self, values: Any, axis: Sequence[float] | None = None) -> list[float]:
        out = []
        for v in as_list(values):
            v = v.item() if hasattr(v, "item") else v
            if isinstance(v, bool) or v in (0, 1):
                out.append(float(bool(v)))
            else:
                raise ValueError(f"the Count rule takes booleans (one per case); got {v!r}.")
        return out

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        vs = self.per_seed(values)
        k, n = int(sum(vs)), len(vs)
        reason = (f"holds in {k} of {n}; reproduced when at least {self.reproduced:.0%} hold, "
                  f"partly when at least {self.partly:.0%}")
        if k >= self.reproduced * n - 1e-12:
            return REPRODUCED, reason
        if k >= self.partly * n - 1e-12:
            return PARTLY, reason
        return NOT_REPRODUCED, reason

    def describe(self) -> str:
        return (f"k of n cases hold: k/n ≥ {self.reproduced:.0%} → reproduced, ≥ {self.partly:.0%} → partly. "
                f"{self.why}").strip()


@dataclass(frozen=True)
class Trend(Rule):
    """A monotone trend along ``axis``: Spearman ρ between the axis and the statistic, times
    ``direction`` (+1: increases along the axis, −1: decreases). Reproduced when every seed's signed
    ρ ≥ ``reproduced`` (two seeds at least for a trained result), partly when their mean ≥ ``partly``."""

    direction: int
    reproduced: float = 0.8
    partly: float = 0.5
    why: str = ""

    def _curves(self, values: Any) -> list[list[float]]:
        vs = as_list(values)
        if vs and all(isinstance(v, (list, tuple)) or hasattr(v, "tolist") for v in vs):
            return [[float(x) for x in as_list(v)] for v in vs]
        return [[float(x) for x in vs]]

    def per_seed(self, values: Any, axis: Sequence[float] | None = None) -> list[float]:
        """Signed ρ of each curve."""
        curves = self._curves(values)
        if axis is None:
            raise ValueError("the Trend rule needs the axis (e.g. the β values or the epochs).")
        axis = [float(a) for a in as_list(axis)]
        for c in curves:
            if len(c) != len(axis):
                raise ValueError(f"a curve has {len(c)} points but the axis has {len(axis)}.")
        return [self.direction * spearman(axis, c) for c in curves]

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        rhos = self.per_seed(values, axis)
        if any(math.isnan(r) for r in rhos):
            return NOT_REPRODUCED, "a curve is constant (or has fewer than 3 points): no trend"
        m = sum(rhos) / len(rhos)
        word = "increases" if self.direction > 0 else "decreases"
        reason = (f"signed Spearman ρ ({word} along the axis) " + ", ".join(f"{r:+.2f}" for r in rhos)
                  + f"; reproduced when every ρ ≥ {self.reproduced:g}, partly when the mean ≥ {self.partly:g}")
        if min(rhos) >= self.reproduced:
            return cap_single_seed(REPRODUCED, reason, len(rhos), trained)
        if m >= self.partly:
            return PARTLY, reason
        return NOT_REPRODUCED, reason

    def describe(self) -> str:
        word = "increase" if self.direction > 0 else "decrease"
        return (f"Spearman ρ ({word}) ≥ {self.reproduced:g} for every seed → reproduced; mean ρ ≥ "
                f"{self.partly:g} → partly. {self.why}").strip()


@dataclass(frozen=True)
class Exact(Rule):
    """A mathematical identity: every residual ≤ ``tol`` → reproduced; else not reproduced."""

    tol: float = 1e-10
    why: str = "an identity holds to rounding in float64"

    def per_seed(self, values: Any, axis: Sequence[float] | None = None) -> list[float]:
        return [abs(float(v)) for v in as_list(values)]

    def show(self, x: float) -> str:
        return "< 1e-12" if abs(x) < 1e-12 else f"{x:.2g}"  # below 1e-12: rounding, printed as a bound

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = False,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        vs = self.per_seed(values)
        worst = max(vs)
        reason = f"largest residual {self.show(worst)} (reproduced when ≤ {self.tol:.0e})"
        return (REPRODUCED if worst <= self.tol else NOT_REPRODUCED), reason

    def describe(self) -> str:
        return f"every residual ≤ {self.tol:.0e} → reproduced, else not reproduced. {self.why}".strip()
