"""The book as a product, checked without a browser: Colab cells and buttons, offline math, the TOC.

The built pages come from one build of a copy of the book per test session
(the session fixture ``site`` of ``conftest.py``), shared with ``test_browser.py``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conservae_lib.tooling import booktools, notebook_files, profiles

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "book" / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())



def _chapter_pages() -> list[str]:
    return [d for d in booktools.toc_docnames(ROOT) if d.startswith("notebooks/")]


# ----------------------------------------------------------------------------- Colab
def test_there_are_executed_notebooks():
    assert NOTEBOOKS, "book/notebooks has no executed notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_is_the_colab_checkout_cell_and_is_hidden(path):
    nb = json.loads(path.read_text())
    first = nb["cells"][0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code"
    assert {"colab-install", "remove-cell"} <= set(first["metadata"].get("tags", []))
    assert source.strip() == notebook_files.colab_install_code(ROOT).strip()
    url, branch = notebook_files.repository(ROOT)
    assert f'"{url}"' in source and f'"{branch}"' in source
    # it acts only under Colab (or when a test names a repository), and it left no output here
    assert '"google.colab" in sys.modules or "CONSERVAE_REPOSITORY" in os.environ' in source
    assert first.get("outputs", []) == []
    # it is the only such cell
    assert sum("colab-install" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1


def test_colab_url_uses_the_repository_of_the_config():
    url = booktools.colab_url("notebooks/01_conservative_autoencoders", ROOT)
    repo = CONFIG["repository"]
    slug = repo["url"].rstrip("/").split("github.com/")[1]
    assert url == (f"https://colab.research.google.com/github/{slug}/blob/{repo['branch']}/"
                   f"{repo['path_to_book']}/notebooks/01_conservative_autoencoders.ipynb")


def test_every_chapter_in_the_toc_is_an_executed_notebook():
    for docname in _chapter_pages():
        assert (ROOT / "book" / f"{docname}.ipynb").exists(), f"{docname} is in _toc.yml but book/{docname}.ipynb is not"
        assert not (ROOT / "book" / f"{docname}.md").exists(), f"book/{docname}.md would get a Colab link Colab cannot open"


def test_every_built_chapter_page_links_to_its_notebook_in_colab(site):
    chapters = _chapter_pages()
    assert chapters
    for docname in chapters:
        html = (site / f"{docname}.html").read_text()
        links = set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html))
        assert links == {booktools.colab_url(docname, ROOT)}, (docname, links)
        assert "Open in Colab" in html, docname


def test_colab_install_and_injected_parameters_are_hidden_in_the_book(site):
    for docname in _chapter_pages():
        html = (site / f"{docname}.html").read_text()
        assert "google.colab" not in html, docname
        assert not re.search(r"# Parameters</span>\n", html), docname  # papermill's injected cell


def test_chapters_pick_the_device_automatically():
    """Every chapter with a ``device`` parameter uses "auto" (CUDA when present) in every profile."""
    with_device = {ch: t for ch, t in profiles.CHAPTERS.items() if "device" in t["paper"]}
    assert with_device
    for chapter, tables in with_device.items():
        for profile, table in tables.items():
            assert table["device"] == "auto", (chapter, profile)
    for source in (ROOT / "notebooks").glob("*.md"):
        text = source.read_text()
        if "select_device(" in text:
            assert re.search(r"select_device\(cfg\.device\)", text), source.name


# ----------------------------------------------------------------------------- offline math
def test_mathjax_is_vendored_from_the_extra_path_not_the_static_path():
    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["mathjax_path"] == "mathjax/tex-mml-chtml.js"
    assert "_vendor" in sphinx["html_extra_path"]
    assert "html_static_path" not in sphinx
    assert booktools.mathjax_ready(), "MathJax is not vendored: run `make mathjax`"
    assert (booktools.MATHJAX_DIR / "VERSION").read_text().startswith("3.")
    size = sum(f.stat().st_size for f in booktools.MATHJAX_DIR.rglob("*") if f.is_file())
    assert size < 5e6
    assert not (ROOT / "book" / "_static" / "mathjax").exists()


def test_pages_load_one_local_mathjax_and_nothing_external(site):
    for html_file in site.rglob("*.html"):
        html = html_file.read_text()
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
        assert len(scripts) < 30, (html_file.name, len(scripts))
        has_math = 'class="math' in html
        assert sum("tex-mml-chtml.js" in s for s in scripts) == int(has_math), html_file.name
        external = [s for s in scripts if re.match(r"(https?:)?//", s)]
        external += re.findall(r"<link[^>]*rel=\"(?:stylesheet|preload|icon)\"[^>]*href=\"((?:https?:)?//[^\"]+)\"", html)
        assert not external, (html_file.name, external)
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").exists()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_vendoring_refuses_mathjax_4(tmp_path):
    pkg = tmp_path / "mathjax"
    (pkg / "es5").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"version": "4.0.0"}))
    with pytest.raises(RuntimeError, match="needs MathJax 3"):
        booktools.copy_mathjax(pkg, tmp_path / "out")


def test_vendoring_copies_only_what_chtml_needs(tmp_path):
    pkg = tmp_path / "mathjax"
    for part in booktools.MATHJAX_PARTS + ("tex-svg.js", "sre/mathmaps"):
        p = pkg / "es5" / part
        if part.endswith(".js"):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("//")
        else:
            p.mkdir(parents=True)
            (p / "x.woff").write_text("f")
    (pkg / "package.json").write_text(json.dumps({"version": "3.2.2"}))
    out = booktools.copy_mathjax(pkg, tmp_path / "out")
    assert booktools.mathjax_ready(out)
    assert not (out / "tex-svg.js").exists() and not (out / "sre").exists()


# ----------------------------------------------------------------------------- pages
def test_toc_pages_exist_and_references_are_on_one_page():
    for docname in booktools.toc_docnames(ROOT):
        assert any((ROOT / "book" / f"{docname}{ext}").exists() for ext in (".md", ".ipynb")), docname
    pages_with_bibliography = [p for p in (ROOT / "book").rglob("*.md") if "```{bibliography}" in p.read_text()]
    assert [p.name for p in pages_with_bibliography] == ["references.md"]


def test_landing_page_numbers_are_glued_not_typed():
    text = (ROOT / "book" / "intro.md").read_text()
    prose = re.sub(r"\{glue:?\w*\}`[^`]*`|```.*?```|`[^`]*`", "", text, flags=re.S)
    prose = re.sub(r"\(\w[\w.-]*\)=|\[[^\]]*\]\([^)]*\)|\{cite\}", "", prose)
    # the only digits allowed in prose are section/equation/table/figure names and years
    numbers = re.findall(r"(?<![\w.])\d+(?:\.\d+)?\s*%?", prose)
    allowed = re.compile(r"^(19|20)\d\d$|^[1-9]$")
    assert all(allowed.match(n.strip()) for n in numbers), numbers
    assert "::n_items" in text and "::profile" in text
