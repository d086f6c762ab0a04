"""The claim ledger: every checkable claim of the paper, the rule that decides it, and the verdicts.

This module is the one place where the claims of *Conservativeness of untied auto-encoders* (Im,
Belghazi & Memisevic, AAAI 2016) are registered and the only place where the paper's numbers are
typed. A chapter computes a statistic, hands it to :func:`judge` with the claim's id, and gets back
a record with the verdict; no chapter decides (or types) a verdict itself. The scorecard
(:mod:`conservae_lib.scorecard`, page ``90_scorecard``) shows the records of all chapters.

Verdicts (:data:`VERDICTS`)
---------------------------
``reproduced``
    The rule's strict test holds, with the seed-to-seed uncertainty counted *against* the claim.
``partly``
    The rule's looser test holds, or the strict test holds for the mean but the uncertainty (one
    seed of a trained result, or a wide spread) does not let it pass for sure.
``not reproduced``
    Neither test holds.
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
:func:`judge` adds what all rules share: ``not_tested`` → "not tested"; non-finite values → "not
tested"; a ``control`` that does as well as the claim → "uninformative". Each rule carries ``why``:
the reason for its tolerance, shown beside the verdict.

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

The registry
------------
:data:`CLAIMS` maps each id to a :class:`Claim`: the chapter key (as in
``scorecard.CHAPTER_NOTEBOOKS``), ``where`` in the paper, a short ``quote`` of the paper's words
(abridged), ``statement`` (the claim in our words), ``paper`` (the paper's value as a fraction, None
for a qualitative claim), ``statistic`` (what :func:`judge` expects in ``values``), the ``rule`` and
``trained`` (whether the values come from training runs, so that one seed cannot reproduce).

Readings: where the paper allows several readings of a claim, the chapter judges the claim once per
reading and passes ``reading=`` (None is the primary reading, the one the paper's text states); the
scorecard shows the primary reading among the paper's claims and the others apart, with the
controls and extras.

Table 2's β convention: the paper's Algorithm 1 and text write the interpolated model as
``(W_i, R_i) = β(W_0, R_0) + (1 − β)(W_K, R_K)`` with ``(W_0, R_0)`` random and ``(W_K, R_K)``
the conservative model, so β = 1 is the random field; Table 2's columns run the other way (its
β = 1.0 column is the one that favours MNIST most, and the text says the energy favours MNIST "as β
→ 1"). Table 2 ids (``table2.<row>.b<β>``) use **Table 2's** convention: β is the weight of the
conservative model. The sentence "even for β = 0.6 we recover the conservative component up to
93 %" matches Table 2's β = 0.4 column (0.9338 and 0.9373), i.e. β = 0.6 in the formula's
convention (60 % random); claim ``recover-93`` registers the text's 93 % and expects the
statistic at 40 % of the conservative model.

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
Written by the scorecard page (:func:`conservae_lib.scorecard.export`), checked by
:func:`conservae_lib.scorecard.validate_export`, so that other reproductions can be compared
mechanically. A JSON object (keys sorted; numbers are fractions; missing values are ``null``):

* ``format`` — ``"conservae-scorecard/1"`` (:data:`SCORECARD_FORMAT`; a new version number for any
  change that is not the addition of a key);
* ``paper`` — the paper's reference; ``profile`` — whose results (``paper``: MNIST subset, ``full``:
  full MNIST, ``smoke``);
* ``verdicts`` — :data:`VERDICTS`, in order; ``tally`` — verdict → number of the paper's claims;
* ``claims`` — one entry per registered claim, in the ledger's order, for the primary reading:
  every key of a record (:data:`RECORD_KEYS`: ``id``, ``chapter``, ``kind``, ``where``, ``quote``,
  ``statement``, ``paper``, ``statistic``, ``ours``, ``spread``, ``n_seeds``, ``values``,
  ``control``, ``verdict``, ``reason``, ``rule``, ``reading``, ``data``, ``section``) plus
  ``status`` ("ok", "not run", "not written", "not recorded"), ``provenance`` (``profile``, ``data``,
  ``n_seeds``, ``commit``, ``inputs_digest``) and ``other_datasets`` (profile → ``ours``, ``spread``,
  ``n_seeds``, ``verdict`` of the same claim under the other data set, when it has results);
* ``extras`` — entries of the same shape for other readings (``status`` "reading") and for ids the
  ledger does not know (``status`` "unknown").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

__all__ = [
    "VERDICTS", "REPRODUCED", "PARTLY", "NOT_REPRODUCED", "UNINFORMATIVE", "NOT_TESTED",
    "Rule", "Close", "AtLeast", "AtMost", "Count", "Trend", "Exact", "Claim", "CLAIMS",
    "judge", "claim", "ids", "UnknownClaimError", "ids_of_chapter", "spearman", "RECORD_KEYS", "SCORECARD_FORMAT",
    "TABLE1_COLUMNS", "TABLE2_BETAS",
]

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
UNINFORMATIVE = "uninformative"
NOT_TESTED = "not tested"

#: Every verdict a record can carry, best first.
VERDICTS: tuple[str, ...] = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNINFORMATIVE, NOT_TESTED)

_RANK = {REPRODUCED: 2, PARTLY: 1, NOT_REPRODUCED: 0}

#: The keys of every record that :func:`judge` returns, in this order.
RECORD_KEYS: tuple[str, ...] = (
    "id", "chapter", "kind", "where", "quote", "statement", "paper", "statistic", "ours", "spread",
    "n_seeds", "values", "control", "verdict", "reason", "rule", "reading", "data", "section",
)

#: Name and version of the ``scorecard.json`` format (documented in this module's docstring).
SCORECARD_FORMAT: str = "conservae-scorecard/1"


# ----------------------------------------------------------------------------- helpers
def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, None
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))


def _interval(values: Sequence[float]) -> tuple[float, float]:
    """``mean ± 2·sd/√n`` (a point for one value)."""
    m, s = _mean_sd(values)
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
        return [float(v) for v in _as_list(values)]

    def decide(self, values: Any, paper: float | None = None, *, trained: bool = True,
               axis: Sequence[float] | None = None) -> tuple[str, str]:
        raise NotImplementedError

    def describe(self) -> str:
        """One line: the rule, its tolerance and the reason for it."""
        raise NotImplementedError


def _as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, (int, float, bool)) or hasattr(values, "item") and getattr(values, "ndim", 1) == 0:
        return [values.item() if hasattr(values, "item") else values]
    if hasattr(values, "tolist"):
        return list(values.tolist())
    return list(values)


def _summarise(vs: list[float]) -> tuple[list[float], float, float, float]:
    """The per-seed values, their mean and the interval mean ± 2·sd/√n."""
    lo, hi = _interval(vs)
    return vs, _mean_sd(vs)[0], lo, hi


def _spread_text(vs: list[float], lo: float, hi: float, before: str, after: str = "") -> str:
    """"mean ± 2 sd/√n = [lo, hi]" between ``before`` and ``after`` when there are several seeds, else ""."""
    return f"{before}mean ± 2 sd/√n = [{_g(lo)}, {_g(hi)}]{after}" if len(vs) > 1 else ""


def _grade(reproduced: bool, partly: bool, reason: str, n: int, trained: bool) -> tuple[str, str]:
    """The verdict of a rule whose strict test (on the interval) is ``reproduced`` and loose test (on the
    mean) is ``partly``; one seed of a trained result is capped at partly."""
    if reproduced:
        return _single_seed_cap(REPRODUCED, reason, n, trained)
    return (PARTLY if partly else NOT_REPRODUCED), reason


def _single_seed_cap(verdict: str, reason: str, n: int, trained: bool) -> tuple[str, str]:
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
        for v in _as_list(values):
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
        vs = _as_list(values)
        if vs and all(isinstance(v, (list, tuple)) or hasattr(v, "tolist") for v in vs):
            return [[float(x) for x in _as_list(v)] for v in vs]
        return [[float(x) for x in vs]]

    def per_seed(self, values: Any, axis: Sequence[float] | None = None) -> list[float]:
        """Signed ρ of each curve."""
        curves = self._curves(values)
        if axis is None:
            raise ValueError("the Trend rule needs the axis (e.g. the β values or the epochs).")
        axis = [float(a) for a in _as_list(axis)]
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
            return _single_seed_cap(REPRODUCED, reason, len(rhos), trained)
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
        return [abs(float(v)) for v in _as_list(values)]

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


# ----------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Claim:
    """One checkable claim of the paper (see the module docstring)."""

    id: str
    chapter: str
    kind: str  # "claim", "table cell" or "figure"
    where: str
    quote: str
    statement: str
    paper: float | None
    statistic: str
    rule: Rule
    trained: bool = True
    unit: str = ""  # how the scorecard shows paper and ours: "%" (×100) or "" (as they are)
    note: str = ""

    @property
    def qualitative(self) -> bool:
        return self.paper is None


CH01, CH02, CH03 = "conservative_autoencoders", "sufficient_condition", "local_conservativeness"
CH04, CH05, CH06, CH07 = "mnist_symmetricity", "curl_2d", "hodge_2d", "mnist_conservative_part"

#: Table 1's columns: id suffix → the paper's header.
TABLE1_COLUMNS: dict[str, str] = {"relu": "ReLU", "relu_wl": "ReLU+wl", "sigmoid": "sig.", "sigmoid_wl": "sig.+wl"}
#: Table 2's β columns (Table 2's convention: β is the weight of the conservative model).
TABLE2_BETAS: tuple[str, ...] = ("0.0", "0.2", "0.4", "0.6", "0.8", "1.0")

# The paper's numbers — typed here and nowhere else in the book.
_TABLE1 = {  # Table 1, as fractions (the paper prints percentages)
    "AE": (0.959, 0.987, 0.951, 0.991),
    "CAE": (0.952, 0.986, 0.974, 0.991),
}
_TABLE2 = {  # Table 2, fraction of test images with E(x) > E(x_rand)
    "tied": (0.5036, 0.7357, 0.9338, 0.98838, 0.9960, 0.9968),
    "untied": (0.5072, 0.7496, 0.9373, 0.98595, 0.9958, 0.9968),
}
_FIG2_PLATEAU = {"AE": 0.951, "CAE": 0.974}  # 'Empirical Conservativeness': "plateaus around 0.951 and 0.974"
_RECOVER_93 = 0.93  # "Even for β = 0.6, we can recover the conservative component ... up to 93%"

# Tolerances, each with its reason.
_IDENTITY = Exact(1e-10, why="a mathematical identity: float64 rounding of a few hundred products stays far below 1e-10")
_TABLE1_RULE = Close(
    0.01, 0.03,
    why="the paper prints one decimal of a percentage and gives no learning rate, batch size, CAE strength or α; "
        "±1 pp is what unstated hyper-parameters plausibly move, ±3 pp the same order as the seed spread we measure")
_TABLE2_RULE = Close(
    0.05, 0.15,
    why="a fraction of held-out images: 2 binomial standard errors at p = ½ on 1,000 images are 0.03, and the "
        "paper leaves the noise level, the sampling of x and the learner's training unstated; ±0.05 covers both, "
        "±0.15 is the loose band")
_PLATEAU_RULE = Close(
    0.01, 0.03,
    why="the same quantity as Table 1's sigmoid cells (the plateau is the end of the curve), so the same tolerance")


def _table1() -> list[Claim]:
    out = []
    for model, values in _TABLE1.items():
        for (key, header), value in zip(TABLE1_COLUMNS.items(), values):
            out.append(Claim(
                f"table1.{model}.{key}", CH04, "table cell", f"Table 1, {model}, {header}",
                f"Symmetricity of ADW after training AEs with 500 units on MNIST for 100 epochs ({model}, {header})",
                f"sym(∂r/∂x) of an untied {model} ({header}, 500 units) after 100 epochs on MNIST",
                value,
                "sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²/‖J‖², averaged over held-out images, after the last epoch; one number "
                "per seed (a fraction)",
                _TABLE1_RULE, unit="%"))
    return out


def _table2() -> list[Claim]:
    out = []
    label = {"tied": "CVF=Tied AE", "untied": "CVF=Untied AE"}
    for row, values in _TABLE2.items():
        for beta, value in zip(TABLE2_BETAS, values):
            out.append(Claim(
                f"table2.{row}.b{beta}", CH07, "table cell", f"Table 2, {label[row]}, β = {beta}",
                f"The fraction of observations with E(x) > E(x_rand) for different β values ({label[row]})",
                f"a tied learner trained on the field interpolated at β = {beta} (Table 2's convention: the weight of "
                f"the conservative model F_K, which was trained on MNIST as a {row} AE) prefers MNIST test images to "
                f"salt-and-pepper corrupted ones",
                value,
                "fraction of MNIST test images x with E(x) > E(x̃) under the tied learner's energy (eq. 3/4), x̃ the "
                "salt-and-pepper corruption of x; one number per seed",
                _TABLE2_RULE,
                note="both rows use a tied learner (Algorithm 1, line 6); the rows differ in how F_K was trained"))
    return out


_CLAIM_LIST: list[Claim] = [
    # ---------------------------------------------------------------- chapter 01
    Claim("prop1", CH01, "claim", "Proposition 1 (and Appendix, eqs. 17–23)",
          "conservative ... if and only if its reconstruction's Jacobian is symmetric",
          "an m-layer auto-encoder with smooth activations is conservative on a simply connected domain iff its "
          "Jacobian is symmetric",
          None,
          "largest path dependence of the line integral of r(x) − x between two points (two polygonal paths, relative "
          "to the integral's size) over the models with a symmetric Jacobian and smooth activations (one and several "
          "layers); the control is the smallest path dependence over the models whose Jacobian is not symmetric",
          Exact(1e-8, why="Gauss–Legendre quadrature of smooth integrands reaches rounding (≈ 1e-15); 1e-8 leaves "
                          "room for it and is far below the path dependence of any non-symmetric model"),
          trained=False,
          note="the proposition assumes smooth activations; ReLU models show quadrature error (≈ 1e-4) at their "
               "kinks, which chapter 01 reports beside"),
    Claim("prop2", CH01, "claim", "Proposition 2, eqs. 5–7",
          "conservative ... if and only if R D_h' Wᵀ is symmetric for all x",
          "a one-layer auto-encoder is conservative iff R D_h' Wᵀ = W D_h' Rᵀ for all x",
          None,
          "largest relative circulation around closed loops over the one-layer models with smooth activations that "
          "satisfy eq. 7 (float64); the control is the smallest mean circulation over the one-layer models that "
          "violate it (e.g. R = WS with a sigmoid)",
          Exact(1e-10, why="zero circulation is exact for a gradient field; the trapezoid rule on smooth periodic "
                           "integrands converges to rounding"),
          trained=False),
    Claim("cor1", CH01, "claim", "Corollary 1",
          "An auto-encoder with tied weights always defines a conservative vector field.",
          "tied weights give a symmetric Jacobian (and a closed-form energy) for every activation",
          None,
          "max over activations and x of 1 − sym(∂r/∂x) for tied models and of ‖∇F − (r − x)‖ for the energy "
          "of eq. 3 (float64)",
          _IDENTITY, trained=False),
    Claim("tied-strict", CH01, "claim", "after Corollary 1",
          "the inclusion is strict ... untied conservative autoencoders that are not trivially equivalent to tied ones",
          "there are untied conservative one-layer auto-encoders (e.g. linear ones with RWᵀ = WRᵀ, R ≠ W)",
          None,
          "max over constructed untied models (R ≠ W) of 1 − sym(∂r/∂x) (float64)",
          _IDENTITY, trained=False),
    # ---------------------------------------------------------------- chapter 02
    Claim("eq8", CH02, "claim", "eqs. 8–9",
          "A sufficient condition for symmetry of the Jacobian is that R can be written R = C W D_h' E",
          "R = C W D_h' E with C, E symmetric and C commuting with W D_h' E D_h' Wᵀ makes ∂r/∂x symmetric at every x "
          "where it holds (D_h' taken at that x)",
          None,
          "for each family built by eq. 8 (chapter 02), the larger of max 1 − sym(∂r/∂x) over the domain where D_h' "
          "is the diagonal used in the construction and the commutator of C with W D_h' E D_h' Wᵀ (float64); the "
          "control is the smallest mean 1 − sym off that domain (it must be well above the tolerance). Reading "
          "'every-x, sigmoid': 1 − sym of the sigmoid model with D_h' frozen at x₀, measured at other x",
          _IDENTITY, trained=False,
          note="with a nonlinear h, D_h' depends on x, so R (a constant) can satisfy eq. 8 at all x only in special "
               "cases; chapter 02 reports where the identity holds"),
    Claim("supp-CE", CH02, "claim", "'Understanding the symmetricity condition' (supplementary §1.2, not available)",
          "we can also find matrices E and C given the parameters W and R",
          "C and E of eq. 8 can be computed from W and R",
          None,
          "relative residual ‖R − C W D_h' E‖/‖R‖ of the recovered pair on conservative models (float64); the "
          "control is the same on random untied (non-conservative) models — if they decompose too, the recovery "
          "says nothing about conservativeness. Reading 'with the commutation': the largest commutator of the "
          "recovered C with W D E D Wᵀ on conservative models, control the smallest on random ones",
          Exact(1e-8, why="a least-squares solve: conditioning costs a few digits over the identities"),
          trained=False),
    # ---------------------------------------------------------------- chapter 03
    Claim("prop3", CH03, "claim", "Proposition 3, eqs. 10–14",
          "locally conservative as the contraction parameter tends to zero",
          "an untied one-layer AE minimising the contractive loss (eq. 10) becomes symmetric at the data as the "
          "contraction strength ε → 0",
          None,
          "asymmetry 1 − sym(J − I) of the field's Jacobian at the data (mean over held-out samples), one curve over "
          "the contraction weights ε > 0 (axis: ε) per seed. Reading 'the paper's sym(J)': 1 − sym(J) instead (it "
          "tends to 0 whenever r tends to the identity, conservative or not)",
          Trend(+1, 0.8, 0.5, why="Proposition 3 is a limit statement: the asymmetry must shrink as ε does; "
                                  "ρ ≥ 0.8 over the ε grid for every seed is a clear monotone trend"),
          trained=True),
    Claim("prop3.real-eigenvalues", CH03, "claim", "after Proposition 3",
          "its eigenvalues cannot have complex parts, which corresponds to the lack of oscillations",
          "at the fixed points of a trained contractive AE the Jacobian's eigenvalues are real",
          0.0,
          "fraction of the fixed points found (Newton's method, all ε > 0) whose Jacobian has an eigenvalue with "
          "|imaginary part| > 1e-9, one number per seed",
          AtMost(0.0, 0.05, why="the paper says 'cannot': any complex pair contradicts it; up to 5 % is partly"),
          trained=True),
    Claim("prop3.sink", CH03, "claim", "after Proposition 3",
          "in directions orthogonal to the fixed point, the eigenvalues ... will be negative. Thus the fixed point is "
          "actually a sink",
          "the fixed points of a trained contractive AE are sinks (all eigenvalues of ∂(r − x)/∂x negative)",
          1.0,
          "fraction of the fixed points found (Newton's method, all ε > 0) that are sinks (every eigenvalue of "
          "∂r/∂x − I has negative real part), one number per seed. Reading 'contracting across the manifold, on the "
          "ring': the fraction of fixed points on the data ring with nᵀ(∂r/∂x − I)n < 0, n normal to the ring",
          AtLeast(0.95, 0.5, why="the paper states it of fixed points in general: a sink at 95 % of them allows "
                                 "for fixed points the search finds far from the data; half is partly"),
          trained=True),
    # ---------------------------------------------------------------- chapter 04
    *_table1(),
    Claim("wl-higher", CH04, "claim", "'Empirical Conservativeness', Table 1",
          "auto-encoders with weight length constraints yield sensibly higher symmetricity scores",
          "with weight-length constraints sym(∂r/∂x) is higher than without, for each model and activation",
          None,
          "one boolean per (model, activation) pair and seed: sym(∂r/∂x) with +wl > without (4 pairs × seeds)",
          Count(1.0, 0.5, why="'sensibly higher' claims every pair; half of them is partly"),
          unit="%"),
    Claim("cae-more-symmetric", CH04, "claim", "'Empirical Conservativeness'",
          "The contractive auto-encoder tends more towards symmetry than the unregularized auto-encoder.",
          "the CAE's sym(∂r/∂x) is higher than the AE's, for each activation and constraint",
          None,
          "one boolean per column of Table 1 and seed: sym(∂r/∂x) of the CAE > that of the AE (4 columns × seeds)",
          Count(1.0, 0.5, why="the sentence is general; half of the columns is partly")),
    Claim("fig2.plateau.AE", CH04, "figure", "Figure 2a, 'Empirical Conservativeness'",
          "The reach plateaus around 0.951 and 0.974 respectively (AE)",
          "the plain AE's sym(∂r/∂x) plateaus around 0.951 at the end of training (sigmoid, no constraint: Table 1's "
          "cell of the same value)",
          _FIG2_PLATEAU["AE"],
          "sym(∂r/∂x) of the sigmoid AE without weight-length constraint at the last epoch (the curve's plateau), one "
          "number per seed",
          _PLATEAU_RULE, unit="%"),
    Claim("fig2.plateau.CAE", CH04, "figure", "Figure 2a, 'Empirical Conservativeness'",
          "The reach plateaus around 0.951 and 0.974 respectively (CAE)",
          "the CAE's sym(∂r/∂x) plateaus around 0.974 at the end of training (sigmoid, no constraint: Table 1's cell "
          "of the same value)",
          _FIG2_PLATEAU["CAE"],
          "sym(∂r/∂x) of the sigmoid CAE without weight-length constraint at the last epoch, one number per seed",
          _PLATEAU_RULE, unit="%"),
    Claim("fig2", CH04, "figure", "Figures 2a, 2c, 'Empirical Conservativeness'",
          "the Jacobian becomes increasingly symmetric as training proceeds",
          "sym(∂r/∂x) rises with the epochs for untied AEs",
          None,
          "sym(∂r/∂x) on held-out images at the recorded epochs (axis: epochs), one curve per configuration and "
          "seed",
          Trend(+1, 0.8, 0.5, why="'increasingly' claims a monotone rise; ρ ≥ 0.8 allows for noise between "
                                  "neighbouring epochs")),
    Claim("fig1", CH04, "figure", "Figure 1",
          "it is very common for decoder and encoder weights to be 'similar' (albeit not necessarily tied)",
          "after training, the decoder filters (columns of R) resemble the encoder filters (columns of W)",
          None,
          "mean cosine between matching columns of W and R after training (sigmoid AE), one number per seed; the "
          "control is the same at initialisation",
          AtLeast(0.5, 0.2, why="a cosine of 0.5 is a clear resemblance (60° on average in 784 dimensions, where "
                                "random filters are at ≈ 0); 0.2 is still far from chance")),
    Claim("weights-product", CH04, "claim", "'Symmetricity of weights product', Figs. 2b, 2d",
          "The product of weight RWᵀ tends to become increasingly symmetric during training.",
          "sym(RWᵀ) rises during training",
          None,
          "one boolean per configuration and seed: sym(RWᵀ) at the end of training > at initialisation",
          Count(1.0, 0.5, why="the sentence is general: every configuration; half is partly")),
    Claim("weights-product.sigmoid", CH04, "claim", "'Symmetricity of weights product', Figs. 2b, 2d",
          "This behavior is more marked for sigmoid activations than for ReLUs",
          "the rise of sym(RWᵀ) is larger for sigmoid than for ReLU units",
          None,
          "one boolean per (model, constraint) pair and seed: rise of sym(RWᵀ) with sigmoid > with ReLU",
          Count(1.0, 0.5, why="the sentence compares the activations in general; half of the pairs is partly")),
    Claim("wl-curvature", CH04, "claim", "'Symmetricity of weights product'",
          "most hidden unit activities are concentrated in the highest curvature region when training with weight "
          "length constraints",
          "with weight-length constraints, most sigmoid pre-activations lie in the high-curvature band of the sigmoid",
          None,
          "share of sigmoid pre-activations u (held-out images, all units) in the band where |h''(u)| ≥ ½ max|h''| "
          "after training with weight-length constraints, one number per seed; the control is the same share without "
          "the constraint (the claim is about what the constraint does)",
          AtLeast(0.5, 0.3, why="'most' means more than half; 0.3 is partly")),
    Claim("wl-curvature.contrast", CH04, "claim", "'Symmetricity of weights product'",
          "when training with weight length constraints. This forces h_l(x) to be concentrated on high curvature "
          "regions",
          "the weight-length constraint puts more sigmoid pre-activations in the high-curvature band than training "
          "without it",
          None,
          "one boolean per seed: share of sigmoid pre-activations in the band with the constraint > the same share "
          "without it (sigmoid AE, same seed)",
          Count(1.0, 0.5, why="'forces' claims the effect for every run; half of the seeds is partly")),
    # ---------------------------------------------------------------- chapter 05
    Claim("fig3", CH05, "figure", "Figure 3, 'Empirical Conservativeness'",
          "the curl decrease very sharply during training",
          "the curl of untied AEs trained on 2-D line, circle and spiral data falls sharply during training, near the "
          "data",
          None,
          "ratio final/initial of the mean |curl| near the data, one number per data set and seed; the control is "
          "the same ratio for a model that is not trained",
          AtMost(0.2, 0.5, why="'very sharply': at least a five-fold fall; halving is partly")),
    # ---------------------------------------------------------------- chapter 06
    Claim("fig4.tied", CH06, "figure", "Figure 4 (middle), 'Two Dimensional space'",
          "the conservative part is perfectly recovered",
          "a tied AE trained so that r(x) − x ≈ F(x, y) = (−x + y, −x − y) learns its conservative part (−x, −y)",
          None,
          "relative L2 error ‖(r(x) − x) − (−x, −y)‖/‖(−x, −y)‖ on the training grid, one number per seed",
          AtMost(0.05, 0.2, why="'perfectly': within 5 % of the target's norm; 20 % is a visible but approximate "
                                "recovery")),
    Claim("fig4.untied", CH06, "figure", "Figure 4 (right), 'Two Dimensional space'",
          "We train an untied auto-encoder with 1000 ReLU units for 500 epochs using BFGS ... the conservative part "
          "is perfectly recovered",
          "an untied AE (1000 ReLU units, BFGS, 500 epochs) trained so that r(x) − x ≈ F learns the conservative part "
          "(−x, −y)",
          None,
          "relative L2 error ‖(r(x) − x) − (−x, −y)‖/‖(−x, −y)‖ on the training grid, one number per seed; the "
          "control is the relative error against F itself (an untied AE that fits F has learned the whole field)",
          AtMost(0.05, 0.2, why="as for fig4.tied")),
    # ---------------------------------------------------------------- chapter 07
    *_table2(),
    Claim("table2.trend", CH07, "claim", "Table 2 and its discussion",
          "the auto-encoders potential energy increasingly favors the original MNIST point over the corrupted ones "
          "as the vector field F_i moves from 0 to K",
          "the fraction E(x) > E(x̃) rises with β (Table 2's convention) for the tied learner",
          None,
          "fraction E(x) > E(x̃) at each β of Table 2 (axis: β in Table 2's convention), one curve per seed (row "
          "CVF=Tied AE)",
          Trend(+1, 0.8, 0.5, why="'increasingly' claims a monotone rise over the six β; ρ ≥ 0.8 allows one "
                                  "neighbouring pair to swap")),
    Claim("table2.below-1", CH07, "claim", "'High Dimensional space'",
          "the potential energy at MNIST data points should be higher than that at the corrupted MNIST data points. "
          "However, this does not hold for β < 1.",
          "for every β < 1 (Table 2's convention) the fraction E(x) > E(x̃) is below its value at β = 1",
          None,
          "one boolean per β < 1 of Table 2 and seed: fraction E(x) > E(x̃) at β < fraction at β = 1 (tied learner, "
          "row CVF=Tied AE)",
          Count(1.0, 0.6, why="the sentence covers every β < 1; the paper's own table has 0.996 vs 0.9968 at 0.8, "
                              "so a near tie is expected there and 3 of 5 is partly")),
    Claim("recover-93", CH07, "claim", "'High Dimensional space'",
          "Even for β = 0.6, we can recover the conservative component of the vector field up to 93%.",
          "with 60 % of the random model in the field (β = 0.6 in Algorithm 1's formula; Table 2's β = 0.4) the tied "
          "learner's energy still prefers MNIST to corrupted images for 93 % of them",
          _RECOVER_93,
          "fraction E(x) > E(x̃) of the tied learner on the field with 40 % of the conservative model (Table 2's "
          "column β = 0.4 = the formula's β = 0.6), one number per seed; reading 'table-beta' uses Table 2's β = 0.6 "
          "column instead",
          _TABLE2_RULE,
          note="93 % matches Table 2's β = 0.4 column (0.9338, 0.9373): the text uses the formula's convention, the "
               "table the opposite one"),
    Claim("fig5", CH07, "figure", "Figure 5, 'High Dimensional space'",
          "the auto-encoder's loss function decreases as β gets closer to 1",
          "the final training loss of the learner is lower the closer β is to 1 (Table 2's convention: the "
          "conservative end)",
          None,
          "final training loss (mean squared error) of the tied learner at each β (axis: β in Table 2's convention), "
          "one curve per seed",
          Trend(-1, 0.8, 0.5, why="'decreases as β gets closer to 1' claims a monotone fall; ρ ≤ −0.8 over the six "
                                  "β allows one neighbouring pair to swap")),
    Claim("alg1", CH07, "claim", "Algorithm 1, 'High Dimensional space'",
          "we conclude that the tied auto-encoder is able to learn the conservative component of the vector field",
          "the tied learner of Algorithm 1 learns the conservative component of the interpolated field",
          None,
          "held-out distance of the tied learner's field from the field's conservative component, "
          "√(Σ‖r_tied(x) − r_S(x)‖² / Σ‖r_S(x) − mean r_S‖²) with r_S(x) = a + S(x − m) and S the symmetric part of "
          "the field's average Jacobian (the field is nearly linear over the cube, which chapter 07 measures; the −x of both fields cancels, "
          "and a norm ratio that kept it would be small for any model) on uniformly sampled x, one number per seed "
          "(mean over β)",
          AtMost(0.1, 0.3, why="learning 'the conservative component' should leave at most 10 % of its norm "
                               "(1 % of its energy); 30 % is a rough approximation")),
]

#: Every registered claim, by id, in the order of the paper (and of the book).
CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIM_LIST}
if len(CLAIMS) != len(_CLAIM_LIST):  # pragma: no cover - a typing error in the registry
    raise RuntimeError("two registered claims share an id.")


def ids() -> list[str]:
    """All registered claim ids, in order."""
    return list(CLAIMS)


def ids_of_chapter(chapter: str) -> list[str]:
    """The registered claim ids that a chapter (key as in ``scorecard.CHAPTER_NOTEBOOKS``) checks."""
    return [c.id for c in CLAIMS.values() if c.chapter == chapter]


class UnknownClaimError(KeyError):
    """A claim id that :data:`CLAIMS` does not know (its message is one sentence)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _unknown(id: Any) -> UnknownClaimError:
    return UnknownClaimError(f"{id!r} is not a claim registered in conservae_lib.ledger.CLAIMS; "
                             f"register it there (with its rule) before judging it.")


def claim(id: str) -> Claim:
    """The registered claim with this id (:class:`UnknownClaimError`, a ``KeyError``, otherwise)."""
    if not isinstance(id, str) or id not in CLAIMS:
        raise _unknown(id)
    return CLAIMS[id]


# ----------------------------------------------------------------------------- judging
def _all_finite(values: Any, rule: Rule) -> bool:
    items = _as_list(values)
    if not items:
        return False
    for v in items:
        if isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, (int, float)):
            if not _all_finite(v, rule):
                return False
        else:
            v = v.item() if hasattr(v, "item") else v  # NumPy / torch scalars
            if isinstance(v, bool):
                continue
            if not _finite(v):
                return False
    return True


def _round(x: float | None, digits: int = 6) -> float | None:
    if x is None or not _finite(x):
        return None
    return float(f"{x:.{digits}g}")


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
    text appended to the reason (e.g. which configuration failed).
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
    if not _all_finite(values, rule):
        rec["reason"] = "no finite value was handed over (the run gave an undefined result)"
        return rec
    per_seed = rule.per_seed(values, axis)
    if isinstance(rule, Count):
        ours, spread = (sum(per_seed) / len(per_seed)), None
    elif isinstance(rule, Exact):
        ours, spread = max(per_seed), None
    else:
        ours, spread = _mean_sd(per_seed)
    if n_seeds is None and not isinstance(rule, (Count, Exact)):
        n_seeds = len(per_seed)
    rec.update(ours=_round(ours), spread=_round(spread), n_seeds=n_seeds,
               values=[_round(v) for v in per_seed])
    trained = c.trained
    verdict, reason = rule.decide(values, c.paper, trained=trained, axis=axis)
    if verdict == REPRODUCED and trained and n_seeds is not None and n_seeds < 2:
        verdict, reason = PARTLY, reason + "; one seed of a trained result cannot show its spread, so at most partly"
    if control is not None:
        if not _all_finite(control, rule):
            reason += "; the control gave no finite value"
        else:
            cper = rule.per_seed(control, axis)
            if isinstance(rule, Count):
                cval = sum(cper) / len(cper)
            elif isinstance(rule, Exact):
                cval = max(cper)
            else:
                cval = _mean_sd(cper)[0]
            rec["control"] = _round(cval)
            cverdict, _ = rule.decide(control, c.paper, trained=False, axis=axis)
            reason += f"; control {rule.show(cval)} → {cverdict}"
            if verdict in (REPRODUCED, PARTLY) and _RANK.get(cverdict, 0) >= _RANK[verdict]:
                verdict = UNINFORMATIVE
                reason += ": the control passes the same test, so the test cannot tell the hypotheses apart"
    if detail:
        reason += f"; {detail}"
    rec["verdict"], rec["reason"] = verdict, reason
    return rec
