"""The scorecard in words a reader knows: every abbreviation the rendered page uses is in the glossary, reading
ids get human labels, numbers carry their units, and each row has one short reason."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conservae_lib.claims import ledger
from conservae_lib.claims.ledger_rules import Count, Trend
from conservae_lib.chapters.scorecard import rows as data
from conservae_lib.chapters.scorecard import findings, scorecard, tables, words
from conservae_lib.chapters.scorecard.sources import CHAPTER_NOTEBOOKS, chapter_titles, linkable_labels

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "notebooks" / "90_scorecard.md"


def _published_rows() -> list[data.Row]:
    """The rows of the published results (read as they are: the words are checked, not the provenance)."""
    def load(profile):
        out = {}
        for ch in CHAPTER_NOTEBOOKS:
            path = ROOT / "results" / profile / ch / "summary.json"
            out[ch] = json.loads(path.read_text()) if path.exists() else None
        return out

    full = load("full")
    return data.collect("paper", summaries=load("paper"), root=ROOT, other={"full": full} if any(full.values()) else {})


def rendered_text(markdown: str) -> str:
    """What a reader sees of MyST Markdown rendered to HTML: the text outside code, math and tags (attributes
    such as an <abbr>'s definition are not text; folded <details> are, one click away)."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(markdown)
    html = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", " ", html, flags=re.S)
    html = re.sub(r"\$[^$]+\$|\\\(.*?\\\)", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def _page_markdown(rows: list[data.Row]) -> str:
    """The scorecard page's prose (its Markdown cells) and everything its code cells display."""
    prose = re.sub(r"```\{code-cell\}.*?```", " ", PAGE.read_text().split("---", 2)[2], flags=re.S)
    links, titles = linkable_labels(ROOT), chapter_titles(ROOT)
    parts = [prose, scorecard.render_tally(data.tally(rows)), tables.tally_markdown(data.tally(rows)),
             tables.glossary_markdown(), scorecard.render_markdown(data.paper_rows(rows), links, titles),
             scorecard.render_extras(rows, links, titles), scorecard.render_book_findings(rows, links, titles)]
    parts += [findings.part_finding(rows, ch, markdown=True, link="x") for ch in CHAPTER_NOTEBOOKS]
    return "\n\n".join(parts)


def undefined_abbreviations(text: str) -> set[str]:
    """Abbreviation-like tokens (:data:`conservae_lib.chapters.scorecard.words.ABBREVIATION`) not in the glossary."""
    return words.abbreviations(text) - set(words.GLOSSARY)


def test_every_abbreviation_on_the_scorecard_page_is_in_the_glossary():
    text = rendered_text(_page_markdown(_published_rows()))
    assert "Table 1" in text and "details" in text  # the check reads the page, rows and folds included
    assert not undefined_abbreviations(text)


def test_the_abbreviation_check_can_fail():
    assert undefined_abbreviations(rendered_text("The XYZ of a CAE, `ABC` in code, and $RW$ in math.")) == {"XYZ"}
    assert words.abbr("R = WS for a CAE").startswith("R = W S for a <abbr title=")  # a product, not a word
    assert words.abbr("claim id `table1.AE.relu`") == "claim id `table1.AE.relu`"  # code is left alone
    assert undefined_abbreviations(rendered_text("| a | b |\n|---|---|\n| QRS wl | sd |\n")) == {"QRS"}


def test_the_glossary_is_shown_on_the_page_and_every_entry_says_something():
    md = tables.glossary_markdown()
    assert all(f"- **{w}** — " in md for w in words.GLOSSARY)
    assert all(len(v) > 10 for v in words.GLOSSARY.values())
    assert "scorecard.show_glossary(page)" in PAGE.read_text()


@pytest.mark.parametrize("reading, label", [
    ("sgd_plain", "trained with plain SGD (no momentum) instead of Adam"),
    ("table-beta", "reading β in Table 2's convention instead of Algorithm 1's"),
    ("weight decay 0.0001", "with L2 weight decay, λ = 0.0001"),
    ("mnist_pkl, 60,000 training images, seed 0", "on full MNIST (60,000 training images, seed 0)"),
    ("the paper's sym(J)", "the paper's sym(J)"),
    ("some_new_reading", "some new reading"),
])
def test_reading_ids_get_human_labels(reading, label):
    assert words.reading_label(reading) == label


def test_every_published_reading_has_a_label_without_an_id_like_token():
    rows = _published_rows()
    for r in data.extra_rows(rows):
        label = words.reading_label(r.record.get("reading"))
        assert " " in label and not re.fullmatch(r"[\w-]+", label), label  # words, not an id


def test_numbers_carry_units_and_no_raw_exponents():
    rows = _published_rows()
    for r in data.paper_rows(rows) + data.finding_rows(rows):
        ours = words.ours_text(r.record, r.claim)
        assert not re.search(r"\de[-+]\d", ours), (r.id, ours)
        if words.is_percent(r.claim) and ours != "—" and not isinstance(r.claim.rule, (Count, Trend)):
            assert "%" in ours, (r.id, ours)
    assert words.number_text(2.7e-6, False) == "2.7 × 10⁻⁶" and words.number_text(0.5, True) == "50 %"


def test_every_row_has_one_short_reason_in_words():
    rows = _published_rows()
    for r in data.paper_rows(rows):
        reason = words.short_reason(r.record, r.claim)
        assert reason and "reproduced when" not in reason, (r.id, reason)
    cell = next(r for r in rows if r.id == "table1.AE.relu")
    assert words.short_reason(cell.record, cell.claim).startswith("ours is ")
    untested = ledger.judge("fig3", not_tested="the run diverged")
    assert words.short_reason(untested, ledger.claim("fig3")) == "the run diverged"
