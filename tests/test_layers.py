"""The library is one folder per layer and imports in one direction: a module imports only from its
own layer or the layers above it (CONTRIBUTING.md, "Layout"), with no exception."""
from __future__ import annotations

from pathlib import Path

import pytest

from conservae_lib.tooling.staleness import _module_imports as library_imports

LIB = Path(__file__).resolve().parents[1] / "conservae_lib"

#: The layers, from the one that imports nothing of the library to the one that may import them all.
LAYERS = ("foundations", "claims", "core", "data", "training", "experiments", "presentation", "book")


def layer_of(module: str) -> int:
    """The rank of a dotted library module (``core.fields``) in :data:`LAYERS`; the library's own
    ``__init__`` ranks last (it may re-export from any layer)."""
    head = module.split(".")[0]
    return LAYERS.index(head) if head in LAYERS else len(LAYERS)


def test_every_module_lives_in_a_layer_folder():
    loose = sorted(p.name for p in LIB.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], f"move these into a layer folder (CONTRIBUTING.md, Layout): {loose}"
    folders = sorted(p.name for p in LIB.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(LAYERS), "a folder of conservae_lib that is not a layer, or a layer without its folder"
    for layer in LAYERS:
        assert (LIB / layer / "__init__.py").read_text().startswith('"""'), f"{layer}/__init__.py says what the layer holds"


def test_library_imports_only_from_its_own_layer_or_above():
    leaks = set()
    for path in sorted(LIB.glob("*/*.py")):
        mine = layer_of(path.parent.name)
        for dep in library_imports(path, LIB):
            if layer_of(dep) > mine:
                leaks.add((f"{path.parent.name}.{path.stem}", dep))
    assert not leaks, f"imports against the layering (CONTRIBUTING.md, Layout): {sorted(leaks)}"


@pytest.mark.parametrize("line, expected", [
    ("from ..book.pipeline import run\n", {"book.pipeline"}),
    ("from ..book import results\n", {"book", "book.results"}),
    ("from conservae_lib.presentation.results import save_json\n", {"book.results"}),
    ("def f():\n    from ..presentation import report as r\n", {"presentation", "presentation.report"}),
])
def test_the_layer_check_catches_an_upward_import(tmp_path, line, expected):
    """A core module that imports book tooling or presentation, in any spelling, is caught."""
    lib = tmp_path / "conservae_lib"
    for layer in LAYERS:
        (lib / layer).mkdir(parents=True)
        (lib / layer / "__init__.py").write_text('"""layer"""\n')
    (lib / "book" / "pipeline.py").write_text("")
    (lib / "book" / "results.py").write_text("")
    (lib / "presentation" / "report.py").write_text("")
    fake = lib / "core" / "models.py"
    fake.write_text(line)
    deps = library_imports(fake, lib)
    assert deps == expected
    assert any(layer_of(d) > layer_of("core.models") for d in deps)


def test_a_sibling_import_stays_in_its_layer(tmp_path):
    lib = tmp_path / "conservae_lib"
    (lib / "core").mkdir(parents=True)
    (lib / "core" / "fields.py").write_text("")
    fake = lib / "core" / "energy.py"
    fake.write_text("from .fields import jacobian\nfrom . import fields\n")
    assert library_imports(fake, lib) == {"core", "core.fields"}
