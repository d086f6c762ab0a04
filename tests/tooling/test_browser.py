"""The built book, opened in a real browser (headless Debian Chromium driven by playwright).

One session builds the book once (``jupyter-book build book -W -n --keep-going`` on a copy, see
the session fixture ``site`` of ``conftest.py``), serves ``_build/html`` over HTTP on localhost, and
visits every page of the table of contents with every request leaving localhost blocked, on a
desktop (1366 px wide) and on a phone (390 px). The tests below then check what a reader would see:
no console errors, no failed or external requests, rendered math, loaded images, working internal
links, Colab buttons that open the page's own notebook, numbered and captioned figures; and, at both widths,
no page that scrolls sideways, no truncated table or printed line, figure text of at least 8 CSS px, no
parameters wall before a page's first text, and no undefined abbreviation on the scorecard. Screenshots of the landing page and of one chapter go to
``artifacts/``, and one of every page at both widths to ``artifacts/screens/`` (git-ignored).
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from conservae_lib.tooling import booktools

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENS = ARTIFACTS / "screens"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Chapters whose figures are being converted elsewhere: their figures are not checked yet (the same
#: list as tests/tooling/test_figures.py, which checks the chapter sources).
FIGURES_NOT_YET = ("notebooks/07_mnist_conservative_part", "notebooks/90_scorecard")
SCORECARD = "notebooks/90_scorecard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PAGE_TIMEOUT_MS = 30_000


@dataclass
class Visit:
    docname: str
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    math_elements: int = 0
    math_rendered: int = 0
    math_errors: int = 0
    broken_images: list[str] = field(default_factory=list)
    n_images: int = 0
    links: list[str] = field(default_factory=list)
    colab: list[str] = field(default_factory=list)
    colab_visible: str | None = None  # href of the Colab entry shown after clicking the launch button
    scorecard_ids: list[str] = field(default_factory=list)  # first-column ids of the scorecard table
    n_figures: int = 0
    figures_unnumbered: list[str] = field(default_factory=list)  # ids of figures without "Fig. N" and a caption
    figures_shrunk: list[str] = field(default_factory=list)  # figure images shown at under 90 % of their size
    sideways: str | None = None  # on the phone: how far the page scrolls sideways, and what sticks out
    sideways_desktop: str | None = None  # the same on the desktop
    # what a reader cannot read, per width ("1366" / "390" → the problems found there)
    truncated_tables: dict[str, list[str]] = field(default_factory=dict)  # pandas "…" rows, columns or cells
    cut_lines: dict[str, list[str]] = field(default_factory=dict)  # printed output wider than its column
    small_text: dict[str, list[str]] = field(default_factory=dict)  # figures whose smallest text is under 8 CSS px
    before_text: str | None = None  # what comes first after the h1 when it is a code cell (a parameters wall)
    undefined: list[str] = field(default_factory=list)  # abbreviations on the scorecard missing from its glossary
    found_top: float | None = None  # the landing page: where "What we found" starts on the desktop (CSS px)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass



@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (installs Debian's chromium; "
                    "never `playwright install`).", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: run `make setup` (it is in the [test] extra).", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


_PAGE_FACTS = """() => {
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    math_elements: math.length,
    math_rendered: math.filter(e => e.querySelector('mjx-container')).length,
    math_errors: document.querySelectorAll('mjx-merror').length,
    images: Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth, i.naturalHeight]),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    scorecard: Array.from(document.querySelectorAll('.scorecard-claims table tbody tr td:last-child details code:first-of-type'))
                    .map(e => e.textContent.trim()),
  };
}"""

#: Every figure of the page: its id, whether its caption has a number ("Fig. N") and text after it,
#: and its image's shown and natural widths.
_FIGURE_FACTS = r"""() => Array.from(document.querySelectorAll('article figure')).map(f => {
  const cap = f.querySelector('figcaption');
  const num = cap ? cap.querySelector('.caption-number') : null;
  const img = f.querySelector('img');
  return {
    id: f.id || (cap ? cap.textContent.trim().slice(0, 40) : '?'),
    numbered: !!(num && /^Fig\.\s*\d+/.test(num.textContent.trim())),
    captioned: !!(cap && cap.textContent.replace(num ? num.textContent : '', '').trim().length > 0),
    shown: img ? img.getBoundingClientRect().width : null,
    natural: img ? img.naturalWidth : null,
  };
})"""

#: How far the page scrolls sideways, and the widest elements that stick out of the window.
_SIDEWAYS = """() => {
  const doc = document.documentElement, inner = window.innerWidth;
  const out = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > inner + 1 && e.getClientRects().length)
    .filter(e => { for (let p = e.parentElement; p; p = p.parentElement) {
                     const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return false; }
                   return true; })
    .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''} (right ${Math.round(e.getBoundingClientRect().right)})`);
  return {scroll: doc.scrollWidth, inner: inner, out: out.slice(0, 5)};
}"""


#: What a reader cannot read on the page (both widths). A table is truncated when a cell, row or column
#: header is pandas' ellipsis or a cell ends with one (max_colwidth); an output line is cut when its <pre> is
#: wider than its box by more than 4 px — even where the <pre> scrolls, printed results must not hide to the
#: right; a figure's smallest text at its shown size is shown/natural width × the figures' smallest font
#: (``plotting.MIN_FONT_PT`` at ``plotting.DPI``, in CSS px).
_READING_FACTS = r"""(minPx) => {
  const art = document.querySelector('article') || document.body;
  const ell = /^(\.\.\.|…)$/;
  const tables = Array.from(art.querySelectorAll('table')).map((t, i) => {
    const cells = Array.from(t.querySelectorAll('td, th')).map(c => c.textContent.trim());
    const bad = cells.filter(c => ell.test(c) || /\S(\.\.\.|…)$/.test(c));
    return bad.length ? `table ${i + 1}: ${bad.slice(0, 3).join(' | ')}` : null;
  }).filter(x => x);
  const cut = Array.from(art.querySelectorAll('.cell_output pre, .output pre'))
    .filter(p => p.getClientRects().length && p.scrollWidth > p.clientWidth + 4)
    .map(p => `${p.textContent.trim().split('\n').find(l => l.length > 0).slice(0, 60)} (${p.scrollWidth} > ${p.clientWidth} px)`);
  const small = Array.from(art.querySelectorAll('figure img')).filter(i => i.naturalWidth > 0)
    .map(i => [i, i.getBoundingClientRect().width / i.naturalWidth * minPx])
    .filter(([i, px]) => px < 8)
    .map(([i, px]) => `${(i.closest('figure').id || i.src.split('/').pop())} (${px.toFixed(1)} px)`);
  return {tables, cut, small};
}"""

#: The first element after the page's h1 that a reader sees, when it is a code cell (folded or not).
_FIRST_AFTER_H1 = r"""() => {
  const h1 = document.querySelector('article h1');
  if (!h1) return null;
  let e = h1.nextElementSibling;
  while (e && (!e.getClientRects().length || e.getBoundingClientRect().height === 0 || e.tagName === 'SPAN')) {
    e = e.nextElementSibling;
  }
  if (!e) return null;
  return e.matches('div.cell, div.highlight, pre') ? (e.className + ': ' + e.textContent.trim().slice(0, 60)) : null;
}"""

#: The scorecard's visible text with every fold opened (a fold is one click away), without code and math.
_OPEN_TEXT = r"""() => {
  document.querySelectorAll('article details').forEach(d => d.open = true);
  const art = document.querySelector('article').cloneNode(true);
  art.querySelectorAll('code, pre, mjx-container, .math, script, style').forEach(e => e.remove());
  return art.textContent;
}"""


#: Where the landing page's "What we found" heading and its first finding end (the lower of the two), in CSS px.
_FOUND_TOP = r"""() => {
  const h = Array.from(document.querySelectorAll('article h2')).find(e => e.textContent.includes('What we found'));
  if (!h) return null;
  const first = h.parentElement.querySelector('li');
  return Math.max(h.getBoundingClientRect().bottom, first ? first.getBoundingClientRect().top + 20 : 0);
}"""


def _reading_problems(page, visit: Visit, width: int) -> None:
    """Record what a reader cannot read at this width (:data:`_READING_FACTS`)."""
    from conservae_lib.presentation import plotting

    facts = page.evaluate(_READING_FACTS, plotting.MIN_FONT_PT * plotting.DPI / 72)
    for attr, key in (("truncated_tables", "tables"), ("cut_lines", "cut"), ("small_text", "small")):
        if facts[key]:
            getattr(visit, attr)[str(width)] = facts[key]


def _screen_name(docname: str, width: int) -> str:
    return f"{docname.replace('/', '-')}-{width}.png"


def _wait_until_ready(page) -> None:
    """MathJax typesets after load: wait for it where the page has math; then for every image."""
    if page.evaluate("() => document.querySelector('.math') !== null"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=PAGE_TIMEOUT_MS)
        page.evaluate("() => MathJax.startup.promise")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=PAGE_TIMEOUT_MS)


def _blocking_route(context, server: str) -> None:
    """Every request that leaves the local server is refused (the desktop visit also records them)."""
    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)


@pytest.fixture(scope="session")
def visits(site, server, browser) -> dict[str, Visit]:
    """Every page of the table of contents, visited on a desktop and then on a phone; what the browser
    saw on each."""
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=DESKTOP)
    current: list[Visit] = []

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            current[-1].external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    out: dict[str, Visit] = {}
    chapter_shot = None
    for docname in booktools.toc_docnames(ROOT):
        visit = Visit(docname, server + docname + ".html")
        current.append(visit)
        page = context.new_page()
        page.on("console", lambda m, v=visit: v.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, v=visit: v.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r, v=visit: v.failed.append(f"{r.url} ({r.failure})")
                if r.url not in v.external else None)
        page.on("response", lambda r, v=visit: v.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        page.goto(visit.url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        _wait_until_ready(page)
        facts = page.evaluate(_PAGE_FACTS)
        figures = page.evaluate(_FIGURE_FACTS)
        visit.n_figures = len(figures)
        visit.figures_unnumbered = [f["id"] for f in figures if not (f["numbered"] and f["captioned"])]
        visit.figures_shrunk = [f"{f['id']} ({f['shown']:.0f} of {f['natural']} px)" for f in figures
                                if f["natural"] and f["shown"] < 0.9 * f["natural"]]
        page.screenshot(path=str(SCREENS / _screen_name(docname, DESKTOP["width"])), full_page=True)
        visit.math_elements, visit.math_rendered = facts["math_elements"], facts["math_rendered"]
        visit.math_errors = facts["math_errors"]
        visit.n_images = len(facts["images"])
        visit.broken_images = [src for src, complete, w, h in facts["images"] if not (complete and w > 0 and h > 0)]
        visit.links = facts["links"]
        visit.colab = [href for href in facts["links"] if "colab.research.google.com" in href]
        visit.scorecard_ids = facts["scorecard"]
        _reading_problems(page, visit, DESKTOP["width"])
        visit.before_text = page.evaluate(_FIRST_AFTER_H1)
        wide = page.evaluate(_SIDEWAYS)
        if wide["scroll"] > wide["inner"] + 1:
            visit.sideways_desktop = f"scrollWidth {wide['scroll']} > {wide['inner']}: {', '.join(wide['out']) or '?'}"
        if docname == SCORECARD:
            from conservae_lib.chapters.scorecard import words

            visit.undefined = sorted(words.abbreviations(page.evaluate(_OPEN_TEXT)) - set(words.GLOSSARY))
        if docname.startswith("notebooks/"):
            # the reader's path: click the launch (rocket) button, the Colab entry appears
            toggle = page.locator(".dropdown-launch-buttons button.dropdown-toggle")
            if toggle.count():
                toggle.first.click()
                entry = page.locator('.dropdown-launch-buttons a[href*="colab.research.google.com"]')
                entry.first.wait_for(state="visible", timeout=5_000)
                if entry.first.inner_text().strip() == "Open in Colab":
                    visit.colab_visible = entry.first.get_attribute("href")
        if docname == booktools.toc_docnames(ROOT)[0]:
            page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)
            visit.found_top = page.evaluate(_FOUND_TOP)
        elif chapter_shot is None and docname.startswith("notebooks/"):
            chapter_shot = ARTIFACTS / f"chapter-{Path(docname).name}.png"
            page.screenshot(path=str(chapter_shot), full_page=False)
        page.close()
        out[docname] = visit
    context.close()
    _visit_on_a_phone(browser, server, out)
    return out


def _visit_on_a_phone(browser, server: str, visits: dict[str, Visit]) -> None:
    """Every page again, 390 px wide: how far it scrolls sideways; a full-page screenshot."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    _blocking_route(context, server)
    for docname, visit in visits.items():
        page = context.new_page()
        page.goto(visit.url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        _wait_until_ready(page)
        _reading_problems(page, visit, PHONE["width"])
        wide = page.evaluate(_SIDEWAYS)
        if wide["scroll"] > wide["inner"] + 1:
            visit.sideways = f"scrollWidth {wide['scroll']} > {wide['inner']}: {', '.join(wide['out']) or '?'}"
        page.screenshot(path=str(SCREENS / _screen_name(docname, PHONE["width"])), full_page=True)
        page.close()
    context.close()


def _report(visits, attr):
    return {d: getattr(v, attr) for d, v in visits.items() if getattr(v, attr)}


def test_every_toc_page_loads_without_console_errors(visits):
    assert len(visits) == len(booktools.toc_docnames(ROOT))
    assert not _report(visits, "console_errors")


def test_no_request_fails(visits):
    assert not _report(visits, "failed")


def test_no_request_leaves_the_site(visits):
    assert not _report(visits, "external")


def test_math_renders_on_every_page_with_math(visits):
    with_math = {d: v for d, v in visits.items() if v.math_elements}
    assert with_math, "no page has math: the check would be vacuous"
    unrendered = {d: f"{v.math_rendered}/{v.math_elements} rendered, {v.math_errors} errors"
                  for d, v in with_math.items() if v.math_rendered < v.math_elements or v.math_errors}
    assert not unrendered


def test_every_image_has_a_size(visits):
    assert any(v.n_images for v in visits.values()), "no images at all: the check would be vacuous"
    assert not _report(visits, "broken_images")


def _ids(html_file: Path, cache: dict) -> set[str]:
    if html_file not in cache:
        cache[html_file] = set(re.findall(r'\bid="([^"]+)"', html_file.read_text(errors="replace")))
    return cache[html_file]


def test_every_internal_link_resolves(visits, site, server):
    cache: dict = {}
    broken = {}
    n = 0
    for docname, v in visits.items():
        for href in v.links:
            if not href.startswith(server):
                continue
            n += 1
            url, frag = urldefrag(href)
            rel = unquote(urlparse(url).path).lstrip("/")
            target = site / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.setdefault(docname, []).append(href)
            elif frag and target.suffix == ".html" and unquote(frag) not in _ids(target, cache):
                broken.setdefault(docname, []).append(href)
    assert n > 0
    assert not broken


def test_colab_button_opens_the_pages_own_notebook(visits):
    chapters = [d for d in visits if d.startswith("notebooks/")]
    assert chapters
    wrong = {}
    for docname in chapters:
        want = booktools.colab_url(docname, ROOT)
        got = set(visits[docname].colab)
        if got != {want}:
            wrong[docname] = {"expected": want, "found": sorted(got)}
        elif visits[docname].colab_visible != want:
            wrong[docname] = "no visible 'Open in Colab' entry with that link under the launch (rocket) button"
        if not (ROOT / "book" / f"{docname}.ipynb").exists():
            wrong[docname] = f"book/{docname}.ipynb is not in the repository"
    assert not wrong


def test_screenshots_saved(visits):
    shots = [ARTIFACTS / "landing.png", *ARTIFACTS.glob("chapter-*.png")]
    assert (ARTIFACTS / "landing.png").stat().st_size > 10_000
    assert len(shots) >= 2


def test_every_figure_is_numbered_and_captioned(visits):
    """Every <figure> of a chapter has a caption that starts "Fig. N" and says something (issue 26)."""
    checked = {d: v for d, v in visits.items() if d not in FIGURES_NOT_YET}
    assert sum(v.n_figures for v in checked.values()) > 0, "no figure at all: the check would be vacuous"
    assert not {d: v.figures_unnumbered for d, v in checked.items() if v.figures_unnumbered}


def test_figures_are_shown_at_their_own_size_on_a_desktop(visits):
    """A figure is drawn for the content column (about 760 px); shown much smaller, its text would be
    too small to read."""
    checked = {d: v for d, v in visits.items() if d not in FIGURES_NOT_YET}
    assert not {d: v.figures_shrunk for d, v in checked.items() if v.figures_shrunk}


def test_no_page_scrolls_sideways_on_a_phone(visits):
    """At 390 px no page is wider than the window: wide tables and code scroll inside themselves."""
    assert not _report(visits, "sideways")


def test_every_page_has_its_screenshots(visits):
    for docname in visits:
        for width in (DESKTOP["width"], PHONE["width"]):
            assert (SCREENS / _screen_name(docname, width)).stat().st_size > 5_000, (docname, width)


def test_scorecard_page_shows_every_item_of_the_paper(visits):
    from conservae_lib.claims import ledger

    pages = {d: v.scorecard_ids for d, v in visits.items() if v.scorecard_ids}
    assert list(pages) == [SCORECARD], list(pages)
    assert pages[SCORECARD] == ledger.ids()


def test_no_page_scrolls_sideways_on_a_desktop(visits):
    assert not _report(visits, "sideways_desktop")


def test_no_table_is_truncated(visits):
    """No pandas ellipsis ("…" or "...") as a row, a column or the end of a cell, at either width."""
    assert not _report(visits, "truncated_tables")


def test_no_printed_line_runs_off_the_column(visits):
    """A printed output whose <pre> is wider than its box by more than 4 px is cut for the reader, even where
    the <pre> scrolls: results are printed to be read, so outputs wrap (book/_static/conservae.css)."""
    assert not _report(visits, "cut_lines")


def test_figure_text_is_at_least_8_css_px_at_its_shown_size(visits):
    """shown width / natural width × MIN_FONT_PT × DPI / 72 ≥ 8 CSS px for every figure, desktop and phone
    (on a phone a figure keeps a readable width and scrolls inside itself)."""
    checked = {d: v for d, v in visits.items() if d not in FIGURES_NOT_YET}
    assert not {d: v.small_text for d, v in checked.items() if v.small_text}


def test_no_parameters_wall_before_the_first_headings_text(visits):
    """The first thing a reader sees after a page's title is prose, not a (folded) code cell."""
    assert not _report(visits, "before_text")


def test_every_abbreviation_on_the_scorecard_is_defined(visits):
    """Every abbreviation-like word on the scorecard, its folds opened, is in the page's glossary
    (``conservae_lib.chapters.scorecard.words.GLOSSARY``, shown on the page)."""
    assert SCORECARD in visits
    assert not visits[SCORECARD].undefined


def test_the_landing_pages_first_screen_states_the_findings(visits):
    """On a 1366 × 900 desktop, "What we found" and the start of its first finding are on the first screen."""
    top = visits[booktools.toc_docnames(ROOT)[0]].found_top
    assert top is not None, "the landing page has no 'What we found' section"
    assert top < DESKTOP["height"], f"'What we found' starts {top:.0f} px down, below the first screen"

