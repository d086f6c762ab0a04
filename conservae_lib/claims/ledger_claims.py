"""The paper's claims: every checkable claim of *Conservativeness of untied auto-encoders*, with the
paper's value and the rule that decides it, read from ``paper_claims.yml`` beside this module — the
only place where the paper's numbers are typed. This module turns that file into :class:`Claim`
objects and refuses it, with one sentence, when a key or a rule is wrong.

Each chapter (01–07) judges the claims registered for it through :func:`conservae_lib.claims.ledger.judge`;
the scorecard (chapter 90) lists them all, in this order.

The registry
------------
:data:`CLAIMS` maps each id to a :class:`Claim`: the chapter key (as in
its folder under ``conservae_lib/chapters``), ``where`` in the paper, a short ``quote`` of the paper's
words (abridged), ``statement`` (the claim in our words), ``paper`` (the paper's value as a fraction,
None for a qualitative claim), ``statistic`` (what ``judge`` expects in ``values``), the ``rule``
(:mod:`conservae_lib.claims.ledger_rules`) and ``trained`` (whether the values come from training runs, so
that one seed cannot reproduce).

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
93 %" matches Table 2's β = 0.4 column (both rows read 93 %), i.e. β = 0.6 in the formula's
convention (60 % random); claim ``recover-93`` registers the text's 93 % and expects the
statistic at 40 % of the conservative model.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from .ledger_rules import AtLeast, AtMost, Close, Count, Exact, Rule, Trend

__all__ = ["Claim", "CLAIMS", "ClaimsFileError", "TABLE1_COLUMNS", "TABLE2_BETAS", "load_claims"]

#: The registry's file, beside this module (package data).
CLAIMS_FILE = Path(__file__).with_name("paper_claims.yml")


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
    same_as: str = ""  # the id of a claim whose number this one repeats: shown, but counted once, there
    source: str = "paper"  # "paper": a claim of the paper; "book": a finding of this book (``findings:``)

    @property
    def counted(self) -> bool:
        """Whether the scorecard's tally of the paper's claims counts this claim (a claim that repeats another's
        number does not, nor does a finding of the book)."""
        return not self.same_as and self.source == "paper"

    @property
    def qualitative(self) -> bool:
        return self.paper is None


class ClaimsFileError(ValueError):
    """``paper_claims.yml`` has a key, a rule or a value that the registry does not accept."""


#: Table 1's columns: id suffix → the paper's header.
TABLE1_COLUMNS: dict[str, str] = {"relu": "ReLU", "relu_wl": "ReLU+wl", "sigmoid": "sig.", "sigmoid_wl": "sig.+wl"}
#: Table 2's β columns (Table 2's convention: β is the weight of the conservative model).
TABLE2_BETAS: tuple[str, ...] = ("0.0", "0.2", "0.4", "0.6", "0.8", "1.0")

#: A rule in the file: its kind → the class (whose fields before ``why`` are the kind's numbers).
RULE_KINDS: dict[str, type[Rule]] = {"exact": Exact, "close": Close, "at_least": AtLeast, "at_most": AtMost,
                                     "count": Count, "trend": Trend}
_CLAIM_KEYS = {f.name for f in fields(Claim)} - {"chapter", "source"}
_REQUIRED = {"id", "kind", "where", "quote", "statement", "statistic", "rule"}
#: The kinds of claim, and how the scorecard may show a claim's numbers ("%": ×100).
KINDS, UNITS = ("claim", "table cell", "figure", "finding"), ("", "%")


def _rule(spec: Any, shared: Mapping[str, Rule], where: str) -> Rule:
    """A rule from the file: the name of a shared rule, or ``{<kind>: numbers, why: text}``."""
    if isinstance(spec, str) and spec in shared:
        return shared[spec]
    kinds = set(spec) & set(RULE_KINDS) if isinstance(spec, dict) else set()
    if len(kinds) != 1 or set(spec) - kinds - {"why"}:
        raise ClaimsFileError(f"{where}: a rule is the name of a shared rule ({', '.join(shared)}) or one of "
                              f"{', '.join(RULE_KINDS)} with its numbers and 'why'; got {spec!r}.")
    kind = kinds.pop()
    numbers = spec[kind] if isinstance(spec[kind], list) else [spec[kind]]
    cls = RULE_KINDS[kind]
    try:
        return cls(*(int(n) if cls is Trend and i == 0 else float(n) for i, n in enumerate(numbers)),
                   why=str(spec.get("why", "")))
    except (TypeError, ValueError) as err:
        raise ClaimsFileError(f"{where}: the rule {kind} {numbers!r} is malformed ({err}).") from None


def _claim(chapter: str, entry: Mapping[str, Any], shared: Mapping[str, Rule], source: str = "paper") -> Claim:
    """One claim of the file, every key checked."""
    where = f"{CLAIMS_FILE.name}, claim {entry.get('id', '?')!r}"
    if set(entry) - _CLAIM_KEYS or _REQUIRED - set(entry):
        raise ClaimsFileError(f"{where}: unknown keys {sorted(set(entry) - _CLAIM_KEYS)} or missing keys "
                              f"{sorted(_REQUIRED - set(entry))}; a claim has {', '.join(sorted(_CLAIM_KEYS))}.")
    if entry["kind"] not in KINDS or entry.get("unit", "") not in UNITS or entry.get("trained", True) not in (True, False):
        raise ClaimsFileError(f"{where}: kind must be one of {KINDS}, unit one of {UNITS}, trained true or false.")
    if (entry["kind"] == "finding") != (source == "book"):
        raise ClaimsFileError(f"{where}: the book's findings (section findings:) and only they have kind 'finding'.")
    values = dict(entry, chapter=chapter, source=source, rule=_rule(entry["rule"], shared, where))
    values["paper"] = None if values.get("paper") is None else float(values["paper"])
    return Claim(**values)


def load_claims(path: Path = CLAIMS_FILE) -> dict[str, Claim]:
    """Every claim of ``path`` by id, in the file's order; Table 1's and Table 2's cells where the
    file names their ``family``."""
    data = yaml.safe_load(Path(path).read_text())
    shared = {name: _rule(spec, {}, f"{Path(path).name}, rule {name!r}") for name, spec in data["rules"].items()}
    families = {"table1": lambda chapter: _table1(chapter, data["numbers"]["table1"], shared["table1"]),
                "table2": lambda chapter: _table2(chapter, data["numbers"]["table2"], shared["table2"])}
    out: list[Claim] = []
    for chapter, entries in data["claims"].items():
        for entry in entries:
            if "family" in entry:
                if entry["family"] not in families:
                    raise ClaimsFileError(f"{Path(path).name}: unknown family {entry['family']!r}; "
                                          f"known: {', '.join(families)}.")
                out += families[entry["family"]](chapter)
            else:
                out.append(_claim(chapter, entry, shared))
    for chapter, entries in (data.get("findings") or {}).items():
        out += [_claim(chapter, entry, shared, source="book") for entry in entries]
    claims = {c.id: c for c in out}
    if len(claims) != len(out):
        raise ClaimsFileError(f"{Path(path).name}: two claims share an id.")
    for c in claims.values():
        if c.same_as and (c.same_as not in claims or not claims[c.same_as].counted):
            raise ClaimsFileError(f"{Path(path).name}, claim {c.id!r}: same_as names {c.same_as!r}, which is not a "
                                  "registered claim counted in the tally.")
    return claims


def _table1(chapter: str, numbers: Mapping[str, Sequence[float]], rule: Rule) -> list[Claim]:
    """Table 1's cells, one claim per (model, column), for the chapter the file lists them under."""
    out = []
    for model, values in numbers.items():
        for (key, header), value in zip(TABLE1_COLUMNS.items(), values):
            out.append(Claim(
                f"table1.{model}.{key}", chapter, "table cell", f"Table 1, {model}, {header}",
                f"Symmetricity of ADW after training AEs with 500 units on MNIST for 100 epochs ({model}, {header})",
                f"sym(∂r/∂x) of an untied {model} ({header}, 500 units) after 100 epochs on MNIST",
                value,
                "sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²/‖J‖², averaged over held-out images, after the last epoch; one number "
                "per seed (a fraction)",
                rule, unit="%"))
    return out


def _table2(chapter: str, numbers: Mapping[str, Sequence[float]], rule: Rule) -> list[Claim]:
    """Table 2's cells, one claim per (row, β), for the chapter the file lists them under."""
    out = []
    label = {"tied": "CVF=Tied AE", "untied": "CVF=Untied AE"}
    for row, values in numbers.items():
        for beta, value in zip(TABLE2_BETAS, values):
            out.append(Claim(
                f"table2.{row}.b{beta}", chapter, "table cell", f"Table 2, {label[row]}, β = {beta}",
                f"The fraction of observations with E(x) > E(x_rand) for different β values ({label[row]})",
                f"a tied learner trained on the field interpolated at β = {beta} (Table 2's convention: the weight of "
                f"the conservative model F_K, which was trained on MNIST as a {row} AE) prefers MNIST test images to "
                f"salt-and-pepper corrupted ones",
                value,
                "fraction of MNIST test images x with E(x) > E(x̃) under the tied learner's energy (eq. 3/4), x̃ the "
                "salt-and-pepper corruption of x; one number per seed",
                rule,
                note="both rows use a tied learner (Algorithm 1, line 6); the rows differ in how F_K was trained"))
    return out


#: Every registered claim, by id, in the order of the paper (and of the book).
CLAIMS: dict[str, Claim] = load_claims()
