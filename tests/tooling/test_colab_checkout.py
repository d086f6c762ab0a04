"""Colab once the repository is public: one repository URL (``_config.yml``), and a first cell that makes the
published results available to a chapter opened from an empty folder.

The Colab cell (:func:`conservae_lib.tooling.notebook_files.colab_install_code`) clones the repository when a
notebook runs in Colab outside a checkout, installs it, and works inside the clone. Here it runs for real, from an
empty temporary folder, with the clone's source replaced by a local repository holding this checkout's ``HEAD``
(``$CONSERVAE_REPOSITORY``, which the cell reads and which also lets it run outside Colab). Outside Colab the
cell skips its ``pip install -e`` (it would install the clone into this shared virtual environment; the test's
kernel already has every dependency) and relies on what it does in Colab too: the clone first on ``sys.path``
and as the working directory. The chapter executed there is the scorecard as committed at ``HEAD``.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conservae_lib.tooling import booktools, notebook_files

ROOT = Path(__file__).resolve().parents[2]
URL, BRANCH = notebook_files.repository(ROOT)


# ----------------------------------------------------------------------------- one URL
def _files_naming_urls() -> list[Path]:
    """README, pyproject, the chapter sources and book pages, the executed notebooks, the library and benchmarks."""
    found = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "CONTRIBUTING.md"]
    for pattern in ("notebooks/*.md", "book/*.md", "book/notebooks/*.ipynb", "conservae_lib/**/*.py",
                    "benchmarks/*", "book/_ext/*.py", "Makefile", ".github/**/*.yml"):
        found += [p for p in ROOT.glob(pattern) if p.is_file()]
    return [p for p in found if p.exists()]


#: ``github.com/<owner>/<name>`` and Colab's ``…/github/<owner>/<name>`` (a repository named in any address).
REPO_URL = re.compile(r"(?:https?://)?(?:www\.)?github\.com/([\w.-]+)/([\w.-]+)|colab\.research\.google\.com/github/([\w.-]+)/([\w.-]+)")


def _named_repositories(text: str) -> set[str]:
    out = set()
    for m in REPO_URL.finditer(text):
        owner, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        out.add(f"https://github.com/{owner}/{name.removesuffix('.git')}")
    return out


def test_the_url_finder_sees_both_forms_of_address():
    text = "see https://github.com/a/b.git and https://colab.research.google.com/github/c/d/blob/main/x.ipynb"
    assert _named_repositories(text) == {"https://github.com/a/b", "https://github.com/c/d"}


def test_every_repository_address_is_the_configured_one():
    """Every GitHub repository that README, the notebooks (sources and executed), the book's pages, the library
    or the benchmarks name is ``repository.url`` of ``_config.yml``: changing that one line moves them all."""
    wrong = {}
    for path in _files_naming_urls():
        named = _named_repositories(path.read_text(errors="replace")) - {URL}
        if named:
            wrong[str(path.relative_to(ROOT))] = sorted(named)
    assert not wrong, f"addresses other than {URL} (_config.yml): {wrong}"


def test_the_readme_names_the_configured_repository_and_branch():
    assert f"{URL} (branch `{BRANCH}`)" in (ROOT / "README.md").read_text()


def test_buttons_and_the_cell_are_built_from_the_config(tmp_path):
    """Another URL and branch in ``_config.yml`` change the Colab button and the cell, and nothing else is needed."""
    config = (ROOT / "_config.yml").read_text()
    assert config.count(URL) == 1, "the repository URL is written once in _config.yml"
    (tmp_path / "_config.yml").write_text(config.replace(URL, "https://github.com/someone/elsewhere")
                                          .replace(f"branch: {BRANCH}", "branch: pages"))
    assert booktools.colab_url("notebooks/x", tmp_path) == (
        "https://colab.research.google.com/github/someone/elsewhere/blob/pages/book/notebooks/x.ipynb")
    cell = notebook_files.colab_install_code(tmp_path)
    assert '"https://github.com/someone/elsewhere"' in cell and '"pages"' in cell and URL not in cell


NOTEBOOKS = sorted((ROOT / "book" / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_notebooks_ask_colab_for_a_gpu_runtime(path):
    """What Colab writes when a notebook is saved on a GPU runtime, and reads when it opens one."""
    meta = json.loads(path.read_text())["metadata"]
    assert meta.get("accelerator") == "GPU", path.name
    assert meta.get("colab", {}).get("gpuType") == notebook_files.COLAB_GPU["colab"]["gpuType"], path.name


def test_normalize_asks_for_the_gpu_runtime():
    import nbformat

    nb = notebook_files.normalize(nbformat.v4.new_notebook())
    assert nb.metadata["accelerator"] == "GPU" and nb.metadata["colab"]["gpuType"] == "T4"


# ----------------------------------------------------------------------------- the cell itself
def _run_cell(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the Colab cell's code in a fresh Python in ``cwd``; print the working directory it leaves."""
    code = notebook_files.colab_install_code(ROOT) + "\nimport os; print('CWD', os.getcwd())\n"
    base = {k: v for k, v in os.environ.items() if k not in (notebook_files.REPOSITORY_ENV, notebook_files.BRANCH_ENV)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_the_cell_does_nothing_outside_colab(tmp_path):
    done = _run_cell(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"CWD {tmp_path.resolve()}" and not list(tmp_path.iterdir())


def test_the_cell_does_nothing_inside_a_checkout():
    """Inside a checkout it neither clones nor moves, even when asked to (the address below does not exist)."""
    done = _run_cell(ROOT / "notebooks", **{notebook_files.REPOSITORY_ENV: "file:///nonexistent/repository"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"CWD {(ROOT / 'notebooks').resolve()}"


def _origin(tmp_path: Path) -> Path:
    """A bare repository holding this checkout's ``HEAD`` as the configured branch: what GitHub would serve."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(["git", "-C", str(origin), "fetch", "-q", "--depth", "1", f"file://{ROOT}",
                    f"HEAD:refs/heads/{BRANCH}"], check=True, timeout=300)
    return origin


@pytest.mark.slow
def test_the_scorecard_shows_real_verdicts_when_opened_from_an_empty_folder(tmp_path, monkeypatch):
    """Colab's situation: an empty working folder, no ``results/``. The cell clones the repository, and the
    scorecard (as committed) then reads the published summaries: its tally holds verdicts, not only "not tested"."""
    import papermill

    workdir = tmp_path / "content"
    workdir.mkdir()
    source = tmp_path / "90_scorecard.md"
    source.write_text(subprocess.run(["git", "-C", str(ROOT), "show", "HEAD:notebooks/90_scorecard.md"],
                                     check=True, capture_output=True, text=True).stdout)
    nb = notebook_files.load_source(source, ROOT)
    import nbformat

    nb.cells.append(nbformat.v4.new_code_cell(
        "import conservae_lib, os, json\nprint(json.dumps({'lib': conservae_lib.__file__, 'cwd': os.getcwd()}))"))
    monkeypatch.setenv(notebook_files.REPOSITORY_ENV, f"file://{_origin(tmp_path)}")
    for name in ("CONSERVAE_RESULTS", "CONSERVAE_PUBLISH", "CONSERVAE_INPUTS_DIGEST", notebook_files.BRANCH_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    start = time.time()
    out = papermill.execute_notebook(nb, str(tmp_path / "out.ipynb"), parameters={"profile": "paper"},
                                     kernel_name="python3", cwd=str(workdir), progress_bar=False)
    clone = (workdir / Path(URL).name).resolve()
    where = json.loads("".join(out.cells[-1].outputs[0]["text"]).strip().splitlines()[-1])
    assert Path(where["cwd"]) == clone, "the chapter does not run inside the clone"
    assert Path(where["lib"]).is_relative_to(clone), f"conservae_lib came from {where['lib']}, not the clone"
    card = clone / "results" / "paper" / "scorecard.json"
    assert card.stat().st_mtime >= start - 1, "the scorecard did not write its table in the clone"
    tally = json.loads(card.read_text())["tally"]
    judged = sum(n for verdict, n in tally.items() if verdict != "not tested")
    assert judged > 0 and judged >= tally.get("not tested", 0), f"the scorecard found no published results: {tally}"
    assert not out.cells[0].get("outputs"), "the Colab cell printed something"
