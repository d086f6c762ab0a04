"""The library is one folder per layer and imports in one direction: a module imports only from its own
layer or the layers before it (CONTRIBUTING.md, "Layout"), with no exception. A chapter lives in one folder
under ``chapters/``, imports no other chapter, and no notebook imports the book tooling."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conservae_lib.foundations.parameters import chapter_keys
from conservae_lib.tooling.staleness import module_imports

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "conservae_lib"

#: The layers, from the one that imports nothing of the library to the one that may import them all.
LAYERS = ("foundations", "claims", "core", "data", "training", "presentation", "chapters", "tooling")


def layer_of(module: str) -> int:
    """The rank of a dotted library module (``core.fields``) in :data:`LAYERS`; the library's own
    ``__init__`` ranks last (it may re-export from any layer)."""
    head = module.split(".")[0]
    return LAYERS.index(head) if head in LAYERS else len(LAYERS)


def chapter_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "chapters" and len(parts) > 1 else None


def test_every_module_lives_in_a_layer_folder_and_every_chapter_in_its_own():
    loose = sorted(p.name for p in LIB.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], f"move these into a layer folder (CONTRIBUTING.md, Layout): {loose}"
    folders = sorted(p.name for p in LIB.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(LAYERS), "a folder of conservae_lib that is not a layer, or a layer without its folder"
    for layer in LAYERS:
        assert (LIB / layer / "__init__.py").read_text().startswith('"""'), f"{layer}/__init__.py says what the layer holds"
    assert sorted(p.name for p in (LIB / "chapters").glob("*.py")) == ["__init__.py"]
    for chapter in (p for p in (LIB / "chapters").iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert (chapter / "parameters.py").is_file(), f"chapters/{chapter.name} declares no parameters"
        assert (chapter / "__init__.py").read_text().startswith('"""'), f"chapters/{chapter.name}/__init__.py"


def test_every_chapter_has_its_notebook_and_every_notebook_its_chapter():
    notebooks = {p.stem.split("_", 1)[1] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.md")}
    assert notebooks == set(chapter_keys())


def test_no_registry_names_the_chapters():
    """Chapters are found by their folder's name; no module lists them."""
    listed = []
    for path in sorted(LIB.rglob("*.py")):
        text = path.read_text()
        named = {k for k in chapter_keys() if re.search(rf"""["']{k}["']\s*:""", text)}
        if len(named) >= 3:
            listed.append((path.relative_to(LIB).as_posix(), sorted(named)))
    assert not listed, f"a registry of chapters: {listed}"


def test_library_imports_only_from_its_own_layer_or_before_and_no_chapter_imports_another():
    leaks, crossings = set(), set()
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB).with_suffix("")
        if len(rel.parts) == 1:
            continue  # the library's __init__ / __main__
        me = ".".join(rel.parts)
        for dep in module_imports(path, LIB):
            if layer_of(dep) > layer_of(me):
                leaks.add((me, dep))
            if chapter_of(me) and chapter_of(dep) and chapter_of(dep) != chapter_of(me):
                crossings.add((me, dep))
    assert not leaks, f"imports against the layering (CONTRIBUTING.md, Layout): {sorted(leaks)}"
    assert not crossings, f"a chapter imports another chapter: {sorted(crossings)}"


def _notebook_imports(text: str) -> set[str]:
    mods = set()
    for m in re.finditer(r"^\s*(?:from|import)\s+conservae_lib((?:\.\w+)*)", text, re.M):
        mods.add(m.group(1).strip("."))
    mods |= {d.strip(".") for d in re.findall(r"conservae_lib((?:\.\w+)+)", text)}
    return mods


def test_no_notebook_imports_the_book_tooling_or_another_chapter():
    for src in sorted((ROOT / "notebooks").glob("*.md")):
        code = "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", src.read_text(), re.S))
        mods = _notebook_imports(code)
        assert not [m for m in mods if m.split(".")[0] == "tooling"], f"{src.name} imports the book tooling"
        own = src.stem.split("_", 1)[1]
        others = {chapter_of(m) for m in mods if chapter_of(m)} - {own}
        assert not others, f"{src.name} imports chapter(s) {sorted(others)}"


@pytest.mark.parametrize("line, expected", [
    ("from ..tooling.pipeline import run\n", {"tooling.pipeline"}),
    ("from ..presentation import results\n", {"presentation", "presentation.results"}),
    ("from conservae_lib.presentation.results import save_json\n", {"presentation.results"}),
    ("def f():\n    from ..presentation import report as r\n", {"presentation", "presentation.report"}),
    ("import conservae_lib.tooling.pipeline\n", {"tooling.pipeline"}),
    ("import conservae_lib.presentation.report as r\n", {"presentation.report"}),
    ("def f():\n    import conservae_lib.chapters.curl_2d.figures\n", {"chapters.curl_2d.figures"}),
])
def test_the_layer_check_catches_an_upward_import_in_every_spelling(tmp_path, line, expected):
    """A core module that imports book tooling, presentation or a chapter, in any spelling, is caught."""
    lib = tmp_path / "conservae_lib"
    for layer in LAYERS:
        (lib / layer).mkdir(parents=True)
        (lib / layer / "__init__.py").write_text('"""layer"""\n')
    (lib / "chapters" / "curl_2d").mkdir()
    for name in ("tooling/pipeline", "presentation/results", "presentation/report", "chapters/curl_2d/figures"):
        (lib / f"{name}.py").write_text("")
    fake = lib / "core" / "models.py"
    fake.write_text(line)
    deps = module_imports(fake, lib)
    assert deps == expected
    assert any(layer_of(d) > layer_of("core.models") for d in deps)


def test_a_sibling_import_stays_in_its_layer(tmp_path):
    lib = tmp_path / "conservae_lib"
    (lib / "core").mkdir(parents=True)
    (lib / "core" / "fields.py").write_text("")
    fake = lib / "core" / "energy.py"
    fake.write_text("from .fields import jacobian\nfrom . import fields\n")
    assert module_imports(fake, lib) == {"core", "core.fields"}


def test_a_chapter_importing_another_is_caught(tmp_path):
    lib = tmp_path / "conservae_lib"
    for ch in ("a", "b"):
        (lib / "chapters" / ch).mkdir(parents=True)
        (lib / "chapters" / ch / "x.py").write_text("")
    fake = lib / "chapters" / "a" / "y.py"
    fake.write_text("from conservae_lib.chapters.b import x\nfrom .x import z\n")
    deps = module_imports(fake, lib)
    assert {chapter_of(d) for d in deps} == {"a", "b"}
