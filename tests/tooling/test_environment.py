"""The dependencies are written twice — ``pyproject.toml`` (pip, CI, Colab) and ``environment.yml``
(conda, which cannot be solved on this project's machines) — so a test keeps the two together:
the same packages, with the same version ranges."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[2]

#: conda-forge / pytorch channel names of packages whose PyPI name differs.
CONDA_TO_PIP = {"pytorch": "torch"}
#: Entries of environment.yml that are tools of conda itself, not dependencies of the project.
CONDA_ONLY = {"pip"}


def _pip_requirements() -> dict[str, SpecifierSet]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    own = canonicalize_name(project["name"])
    found: dict[str, SpecifierSet] = {}
    groups = [project["dependencies"], *project.get("optional-dependencies", {}).values()]
    for group in groups:
        for text in group:
            req = Requirement(text)
            if canonicalize_name(req.name) != own:  # "conservae_lib[book]" — the extras of itself
                found[canonicalize_name(req.name)] = req.specifier
    return found


def _conda_requirements() -> tuple[dict[str, SpecifierSet], SpecifierSet]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found: dict[str, SpecifierSet] = {}
    python = SpecifierSet()
    for entry in env["dependencies"]:
        texts = entry["pip"] if isinstance(entry, dict) else [entry]
        for text in texts:
            if text.startswith("-e"):
                continue
            req = Requirement(text)
            name = canonicalize_name(CONDA_TO_PIP.get(req.name, req.name))
            if name == "python":
                python = req.specifier
            elif name not in CONDA_ONLY:
                found[name] = req.specifier
    return found, python


def test_environment_yml_lists_the_same_packages_as_pyproject():
    pip, (conda, _) = _pip_requirements(), _conda_requirements()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not in pyproject.toml"


def test_environment_yml_uses_the_same_version_ranges_as_pyproject():
    pip, (conda, _) = _pip_requirements(), _conda_requirements()
    differ = {name: (str(pip[name]), str(conda[name])) for name in set(pip) & set(conda) if pip[name] != conda[name]}
    assert differ == {}, f"version ranges differ (pyproject, environment.yml): {differ}"


def test_environment_python_is_one_pyproject_supports():
    requires = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    _, python = _conda_requirements()
    lowest = next(s.version for s in python if s.operator == ">=")
    assert requires.contains(lowest), f"environment.yml asks for python {python}, pyproject.toml supports {requires}"


def test_the_comparison_notices_a_package_missing_from_environment_yml(tmp_path, monkeypatch):
    """The check can fail: drop one package from a copy of environment.yml and it is reported."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    env["dependencies"] = [d for d in env["dependencies"] if not (isinstance(d, str) and d.startswith("scipy"))]
    (tmp_path / "environment.yml").write_text(yaml.safe_dump(env))
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    pip, (conda, _) = _pip_requirements(), _conda_requirements()
    assert "scipy" in set(pip) - set(conda)
