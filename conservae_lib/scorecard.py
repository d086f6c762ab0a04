"""The reproduction scorecard: every claim, table cell and figure of the paper, with our result.

:data:`REGISTRY` lists each item of *Conservativeness of untied auto-encoders* (Im, Belghazi &
Memisevic, AAAI 2016) once — its stable id, the chapter of this book that checks it, where it is in
the paper and the paper's value, written as the paper prints it (the only place in the book where
the paper's numbers are typed). Chapters record their results with
:func:`conservae_lib.results.claim` in ``results/<profile>/<chapter>/summary.json``;
:func:`collect` joins the two, and :func:`render_markdown` makes the table that the scorecard page
shows. Nothing here knows our numbers: when a chapter is re-run its summary changes and the
scorecard, re-executed after it, changes with it (the pipeline's up-to-date check hashes the
summaries for notebooks that read them).

Rows of chapters that have not run (or are not written yet) say so instead of showing a number.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import report, results

__all__ = [
    "Item", "REGISTRY", "CHAPTER_NOTEBOOKS", "BETAS", "NOT_RUN", "Row",
    "registry_ids", "item", "results_base", "load_summaries", "collect", "tally", "paper_rows", "extra_rows", "provenance", "render_markdown", "md_escape",
    "chapter_titles", "section_labels", "toc_files", "linkable_labels", "problems",
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
BETAS: tuple[str, ...] = ("0.0", "0.2", "0.4", "0.6", "0.8", "1.0")

#: Verdict shown for rows whose chapter has produced no result for them.
NOT_RUN = "not run"


@dataclass(frozen=True)
class Item:
    """One item of the paper: a claim, a table cell or a figure.

    ``paper`` is the paper's value as the paper prints it (``"95.9%"``, ``"0.98838"``, or a short
    phrase for statements and figures); :attr:`value` parses it when it is a number.
    """

    id: str
    chapter: str
    kind: str  # "claim", "table cell" or "figure"
    where: str
    statement: str
    paper: str

    @property
    def value(self) -> float | None:
        """The paper's value as a number (a percentage as printed, e.g. 95.9), else None."""
        m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*(%?)\s*", self.paper)
        return float(m.group(1)) if m else None

    @property
    def percent(self) -> bool:
        """True when the paper prints the value as a percentage."""
        return self.value is not None and self.paper.strip().endswith("%")

    @property
    def notebook(self) -> str:
        return CHAPTER_NOTEBOOKS[self.chapter]


def _table1() -> list[Item]:
    # Table 1 of the paper, "Symmetricity of ADW after training AEs with 500 units on MNIST for 100
    # epochs" — rows AE/CAE, columns ReLU, ReLU+wl, sig., sig.+wl.
    printed = {
        "AE": ("95.9%", "98.7%", "95.1%", "99.1%"),
        "CAE": ("95.2%", "98.6%", "97.4%", "99.1%"),
    }
    columns = (("relu", "ReLU"), ("relu_wl", "ReLU+wl"), ("sigmoid", "sig."), ("sigmoid_wl", "sig.+wl"))
    items = []
    for model, values in printed.items():
        for (key, header), value in zip(columns, values):
            items.append(Item(
                f"table1.{model}.{key}", "mnist_symmetricity", "table cell", f"Table 1, {model}, {header}",
                f"symmetricity of ∂r/∂x of an untied {model} ({header}, 500 units) after 100 epochs on MNIST",
                value,
            ))
    return items


def _table2() -> list[Item]:
    # Table 2 of the paper: fraction of test images with E(x) > E(x_rand), rows "CVF=Tied AE" and
    # "CVF=Untied AE", columns β = 0.0 … 1.0.
    printed = {
        "tied": ("0.5036", "0.7357", "0.9338", "0.98838", "0.9960", "0.9968"),
        "untied": ("0.5072", "0.7496", "0.9373", "0.98595", "0.9958", "0.9968"),
    }
    label = {"tied": "CVF=Tied AE", "untied": "CVF=Untied AE"}
    items = []
    for model, values in printed.items():
        for beta, value in zip(BETAS, values):
            items.append(Item(
                f"table2.{model}.b{beta}", "mnist_conservative_part", "table cell",
                f"Table 2, {label[model]}, β = {beta}",
                f"fraction of MNIST test images with E(x) > E(x̃) (salt-and-pepper x̃), {model} AE fit to the field at β = {beta}",
                value,
            ))
    return items


#: Every item of the paper, in the order of the paper (and of the book).
REGISTRY: tuple[Item, ...] = (
    Item("prop1", "conservative_autoencoders", "claim", "Proposition 1 (and Appendix)",
         "an m-layer auto-encoder is conservative on a simply connected domain iff its Jacobian is symmetric",
         "proved (Appendix, eqs. 17–23)"),
    Item("prop2", "conservative_autoencoders", "claim", "Proposition 2, eqs. 5–7",
         "a one-layer auto-encoder is conservative iff R D_h' Wᵀ is symmetric for all x",
         "proved"),
    Item("cor1", "conservative_autoencoders", "claim", "Corollary 1",
         "tied weights always give a conservative vector field", "proved"),
    Item("tied-strict", "conservative_autoencoders", "claim", "after Corollary 1",
         "tied auto-encoders are a strict subset of the conservative ones",
         "stated, with the linear example RWᵀ = WRᵀ"),
    Item("eq8", "sufficient_condition", "claim", "eqs. 8–9",
         "R = C W D_h' E (C, E symmetric, C commuting with W D_h' E D_h' Wᵀ) is sufficient",
         "stated, with a two-line derivation"),
    Item("supp-CE", "sufficient_condition", "claim", "supplementary §1.2 (cited)",
         "C and E can be found from W and R", "stated; the supplement is not available"),
    Item("prop3", "local_conservativeness", "claim", "Proposition 3, eqs. 10–14",
         "an untied one-layer AE minimising the contractive loss is locally conservative as the contraction → 0",
         "argued from a Taylor expansion at fixed points"),
    *_table1(),
    Item("fig1", "mnist_symmetricity", "figure", "Figure 1",
         "encoder filters W and decoder filters Rᵀ look alike after training",
         "shown (filters side by side)"),
    Item("fig2", "mnist_symmetricity", "figure", "Figure 2 and 'Empirical Conservativeness'",
         "the Jacobian's symmetricity rises during training and plateaus (AE about 0.951, CAE about 0.974)",
         "plateaus at 0.951 (AE) and 0.974 (CAE)"),
    Item("weights-product", "mnist_symmetricity", "claim", "'Symmetricity of weights product', Figs. 2b, 2d",
         "R Wᵀ becomes increasingly symmetric during training, more for sigmoid than for ReLU",
         "shown (Fig. 2b, 2d), explained by eq. 15"),
    Item("fig3", "curl_2d", "figure", "Figure 3 and 'Empirical Conservativeness'",
         "the curl of untied AEs trained on 2-D line, circle and spiral data drops sharply during training",
         "shown (initial and final field, spiral)"),
    Item("fig4.tied", "hodge_2d", "figure", "Figure 4 (middle)",
         "a tied AE learns the conservative part of F(x, y) = (−x + y, −x − y)",
         "shown: 'perfectly recovered'"),
    Item("fig4.untied", "hodge_2d", "figure", "Figure 4 (right)",
         "an untied AE (1000 ReLU units, BFGS, 500 epochs) learns the conservative part too",
         "shown: 'perfectly recovered'"),
    *_table2(),
    Item("fig5", "mnist_conservative_part", "figure", "Figure 5",
         "the training loss of AEs fit to the field is lower the closer β is to 1 (conservative end)",
         "shown (learning curves, tied dashed, untied solid)"),
)


def registry_ids() -> list[str]:
    """The ids of :data:`REGISTRY`, in order."""
    return [it.id for it in REGISTRY]


def item(id: str) -> Item:
    """The registry item with this id (``KeyError`` naming the known ids otherwise)."""
    for it in REGISTRY:
        if it.id == id:
            return it
    raise KeyError(f"no scorecard item {id!r}; known: {', '.join(registry_ids())}.")


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
    """Labels a scorecard row may link to: those of chapters that are in the table of contents.

    A link to a label of a chapter outside the book would be a broken reference (and a warning
    that ``jupyter-book build -W`` turns into an error), so such rows are shown without a link.
    """
    toc = toc_files(root)
    return {ch: labs for ch, labs in section_labels(root).items()
            if f"notebooks/{CHAPTER_NOTEBOOKS[ch]}" in toc}


# ----------------------------------------------------------------------------- joining
@dataclass
class Row:
    """A scorecard row: the registry item and what the chapter recorded for it (if anything)."""

    item: Item
    claim: Mapping[str, Any] | None
    profile: str
    status: str  # "ok", "not written", "not run", "not recorded", "unregistered"
    note: str = ""

    @property
    def verdict(self) -> str:
        return str(self.claim["verdict"]) if self.claim else NOT_RUN

    @property
    def reason(self) -> str:
        if self.claim:
            return str(self.claim.get("reason") or "")
        notebook = self.item.notebook if self.item.chapter in CHAPTER_NOTEBOOKS else self.item.chapter
        return {
            "not written": f"chapter {notebook} is not written yet",
            "not run": f"chapter {notebook} has not run under profile '{self.profile}'",
            "not recorded": f"chapter {notebook} ran but recorded no result for this item",
        }.get(self.status, "")


def results_base(root: Path = REPO_ROOT) -> Path:
    """Where the scorecard reads the chapters' results.

    ``$CONSERVAE_RESULTS`` when set; else, in a checkout of the book, ``<repository>/results`` —
    where the pipeline's chapters (run from the repository root) write — whatever the current
    folder is, so that nbval, which re-executes a notebook in the notebook's own folder, reads the
    same summaries as the first run; else (an installed package, e.g. Colab) ``./results`` as
    :func:`conservae_lib.results.results_root`.
    """
    import os

    if os.environ.get("CONSERVAE_RESULTS"):
        return results.results_root()
    if (root / "notebooks").is_dir() and (root / "conservae_lib").is_dir():
        return root / "results"
    return results.results_root()


def load_summaries(profile: str, root: Path = REPO_ROOT) -> dict[str, dict[str, Any] | None]:
    """Chapter key → its ``summary.json`` under ``profile`` (None when the chapter has not run)."""
    base = results_base(root) / profile
    out = {}
    for chapter in CHAPTER_NOTEBOOKS:
        path = base / chapter / "summary.json"
        out[chapter] = results.load_json(path) if path.exists() else None
    return out


def collect(profile: str, summaries: Mapping[str, Mapping[str, Any] | None] | None = None,
            root: Path = REPO_ROOT) -> list[Row]:
    """One :class:`Row` per registry item, plus rows for claims no registry item knows.

    ``summaries`` maps chapter key → summary (as :func:`results.load_summary` returns it, None for
    a chapter that has not run); by default they are read by :func:`load_summaries`.
    """
    from .profiles import PROFILES

    if profile not in PROFILES:
        raise ValueError(f"the scorecard's profile must be one of {', '.join(PROFILES)}; got {profile!r}.")
    if summaries is None:
        summaries = load_summaries(profile, root)
    written = {ch for ch, name in CHAPTER_NOTEBOOKS.items() if (root / "notebooks" / f"{name}.md").exists()}
    by_id: dict[str, tuple[str, Mapping[str, Any]]] = {}
    duplicates = set()
    for chapter, summary in summaries.items():
        for c in (summary or {}).get("claims", []):
            if c.get("id") in by_id:
                duplicates.add(c.get("id"))
            by_id[c.get("id")] = (chapter, c)
    rows = []
    for it in REGISTRY:
        found = by_id.pop(it.id, None)
        if found is not None:
            chapter, c = found
            note = ""
            if chapter != it.chapter:
                note = f"recorded by chapter {chapter}, registered for {it.chapter}"
            if it.id in duplicates:
                note = (note + "; " if note else "") + "recorded more than once (last one shown)"
            rows.append(Row(it, c, profile, "ok", note))
        elif summaries.get(it.chapter) is not None:
            rows.append(Row(it, None, profile, "not recorded"))
        elif it.chapter in written or not (root / "notebooks").is_dir():
            rows.append(Row(it, None, profile, "not run"))  # (no sources at all: an installed package)
        else:
            rows.append(Row(it, None, profile, "not written"))
    for id, (chapter, c) in by_id.items():  # claims the registry does not know (controls, baselines)
        extra = Item(str(id), chapter, "unregistered", "added by this book", str(c.get("statement", "")),
                     str(c.get("paper", "")))
        rows.append(Row(extra, c, profile, "unregistered"))
    return rows


def paper_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows of the paper's items (the registry), in the paper's order."""
    return [r for r in rows if r.status != "unregistered"]


def extra_rows(rows: Sequence[Row]) -> list[Row]:
    """Results a chapter records under ids that are not items of the paper (controls, baselines)."""
    return [r for r in rows if r.status == "unregistered"]


def problems(rows: Sequence[Row]) -> list[str]:
    """What is wrong with the recorded results (for the developers, not the verdicts): an id
    recorded twice or by another chapter than the registry's, or a verdict outside
    :data:`conservae_lib.results.VERDICTS`. Extra ids (controls) are not problems; they are shown
    apart, under the paper's items."""
    out = []
    for r in rows:
        if r.note and r.status != "unregistered":
            out.append(f"{r.item.id}: {r.note}")
        if r.claim is not None and r.claim.get("verdict") not in results.VERDICTS:
            out.append(f"{r.item.id}: verdict {r.claim.get('verdict')!r} is not one of {results.VERDICTS}")
    return out


def tally(rows: Sequence[Row]) -> dict[str, int]:
    """How many registry rows have each verdict (``not run`` included), in a fixed order."""
    counts = {v: 0 for v in (*results.VERDICTS, NOT_RUN)}
    for r in rows:
        if r.status != "unregistered":
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts


def provenance(rows: Sequence[Row], titles: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Per chapter with results: the profile, the data its claims were computed on, the seeds."""
    out: dict[str, dict[str, Any]] = {}
    titles = chapter_titles() if titles is None else titles
    for r in rows:
        if r.claim is None:
            continue
        ch = r.item.chapter
        entry = out.setdefault(ch, {"data": [], "seeds": set(), "items": 0})
        data = str(r.claim.get("data") or "not stated")
        if data not in entry["data"]:
            entry["data"].append(data)
        if r.claim.get("n_seeds"):
            entry["seeds"].add(int(r.claim["n_seeds"]))
        entry["items"] += 1
    table = []
    for ch, entry in out.items():
        seeds = ", ".join(str(s) for s in sorted(entry["seeds"])) or "1 (deterministic)"
        table.append({"chapter": titles.get(ch, ch), "profile": rows[0].profile,
                      "data": "; ".join(entry["data"]), "seeds": seeds, "items": str(entry["items"])})
    return table


# ----------------------------------------------------------------------------- formatting
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$#])")


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown inside a table cell (no emphasis, math, links or cell breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _scale(it: Item, c: Mapping[str, Any]) -> float:
    """100 when the paper prints a percentage but the chapter recorded fractions, else 1."""
    if it.percent and _is_number(c.get("paper")) and abs(float(c["paper"]) * 100 - it.value) < 1e-6:
        return 100.0
    if it.percent and _is_number(c.get("ours")) and float(c["ours"]) <= 1.0 and not _is_number(c.get("paper")):
        return 100.0
    return 1.0


def format_ours(r: Row) -> str:
    """Our value as the scorecard shows it: ``mean ± spread (n = k seeds)`` for numbers."""
    c = r.claim
    if c is None:
        return "—"
    ours = c.get("ours")
    if not _is_number(ours):
        return str(ours)
    scale = _scale(r.item, c)
    unit = " %" if r.item.percent else ""
    digits = 3 if r.item.percent else 4
    text = report.fmt(float(ours) * scale, digits) + unit
    if _is_number(c.get("spread")):
        text += f" ± {report.fmt(float(c['spread']) * scale, 2)}{unit}"
    n = c.get("n_seeds")
    if n:
        text += f" (n = {int(n)} seed{'s' if int(n) != 1 else ''})"
    return text


def format_paper(it: Item) -> str:
    return it.paper


def render_markdown(rows: Sequence[Row], links: Mapping[str, set[str]] | None = None,
                    titles: Mapping[str, str] | None = None) -> str:
    """The scorecard as a MyST Markdown table, in a ``full-width`` div (class ``scorecard``).

    ``links`` (chapter → labels, as :func:`linkable_labels` returns) decides which rows link to
    their chapter's section: ``[title](#label)``; other rows name the chapter as plain text.
    """
    links = linkable_labels() if links is None else links
    titles = chapter_titles() if titles is None else titles
    head = "| item | the paper's value | ours | data and profile | verdict | where in this book |"
    lines = [":::{div} scorecard full-width", "", head, "|" + "---|" * 6]
    for r in rows:
        it = r.item
        where_book = md_escape(titles.get(it.chapter, CHAPTER_NOTEBOOKS.get(it.chapter, it.chapter)))
        if r.claim is not None:
            section = str(r.claim.get("section") or "")
            if section and section in links.get(r.item.chapter, set()):
                where_book = f"[{where_book}](#{section})"
            data = f"{md_escape(r.claim.get('data') or 'not stated')}; profile `{r.profile}`"
        else:
            data = f"profile `{r.profile}`"
        verdict = f"**{md_escape(r.verdict)}**"
        if r.reason:
            verdict += " — " + md_escape(r.reason)
        if r.note:
            verdict += " (" + md_escape(r.note) + ")"
        about = it.where if it.kind == "table cell" else f"{it.where}: {it.statement}"
        cells = [
            f"`{it.id}`<br>{md_escape(about)}",
            md_escape(format_paper(it)),
            md_escape(format_ours(r)),
            data,
            verdict,
            where_book,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", ":::"]) + "\n"


def render_tally(counts: Mapping[str, int]) -> str:
    """One sentence: how many items have each verdict."""
    total = sum(counts.values())
    parts = [f"{n} {v}" for v, n in counts.items()]
    return f"{total} items of the paper: " + ", ".join(parts) + "."
