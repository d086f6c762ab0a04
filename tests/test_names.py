"""Every dotted name of the library that the code, the chapters and the guides mention exists: a docstring or
a page that points at a module, function or constant that moved is caught here."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOTTED = re.compile(r"conservae_lib(?:\.[A-Za-z_]\w*)+")


def resolves(dotted: str) -> bool:
    """Whether ``conservae_lib.a.b.c`` names a module or an attribute reachable from the longest module prefix."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for name in parts[k:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def mentioned_names() -> dict[str, list[str]]:
    texts = [*sorted((ROOT / "conservae_lib").rglob("*.py")), *sorted((ROOT / "notebooks").glob("*.md")),
             ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "book").glob("*.md")),
             *sorted((ROOT / "benchmarks").glob("*.py"))]
    found: dict[str, list[str]] = {}
    for path in texts:
        for name in set(DOTTED.findall(path.read_text())):
            found.setdefault(name.rstrip("."), []).append(path.relative_to(ROOT).as_posix())
    return found


def test_every_mentioned_library_name_exists():
    missing = {name: where for name, where in mentioned_names().items() if not resolves(name)}
    assert not missing, f"names that do not exist (moved or renamed?): {missing}"


def test_the_check_catches_a_moved_name():
    assert resolves("conservae_lib.core.fields.jacobian")
    assert not resolves("conservae_lib.experiments.empirical.train_runs")
    assert not resolves("conservae_lib.core.fields.no_such_function")
