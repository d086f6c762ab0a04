"""The book's notebooks as files: the Jupytext sources, the Colab install cell, the executed notebook.

* :func:`notebook_sources`, :func:`chapter_name` — ``notebooks/NN_name.md`` and the chapter it is;
* :func:`repository`, :func:`colab_install_code`, :func:`load_source` — the repository's URL and branch (from
  ``_config.yml``, the one place they are written), the hidden Colab cell built from them (it clones the
  repository and works inside it), and a source as a notebook with that cell first;
* :func:`normalize`, :func:`dumps` — an executed notebook made deterministic (stable cell ids, no
  timestamps, the injected parameters cell hidden) and written the same way every time;
* :func:`recorded` — what an executed notebook's metadata says it was made from.
Used by :mod:`conservae_lib.tooling.staleness` and :mod:`conservae_lib.tooling.pipeline` (the book tooling).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

from conservae_lib.foundations.files import REPO_ROOT

LIB_DIR = REPO_ROOT / "conservae_lib"
METADATA_KEY = "conservae"
COLAB_TAG = "colab-install"


def notebook_sources(root: Path = REPO_ROOT, names: Sequence[str] = ()) -> list[Path]:
    """The chapter sources ``notebooks/*.md`` in book order, optionally filtered by name."""
    sources = sorted((root / "notebooks").glob("*.md"))
    if not names:
        return sources
    picked = []
    for name in names:
        stem = Path(name).stem
        match = [s for s in sources if s.stem == stem or s.stem.split("_", 1)[-1] == stem]
        if not match:
            known = ", ".join(s.stem for s in sources)
            raise SystemExit(f"error: no notebook named {name!r}; known: {known}.")
        picked.extend(match)
    return picked


def chapter_name(source: Path) -> str:
    """``notebooks/04_mnist_symmetricity.md`` → ``mnist_symmetricity`` (its profiles key)."""
    stem = source.stem
    return stem.split("_", 1)[1] if re.match(r"^\d+_", stem) else stem


def read_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text())


#: Environment variables the Colab cell reads: the repository to clone (default: ``repository.url`` of
#: ``_config.yml``) and its branch (default: ``repository.branch``). Setting the first one also runs the cell
#: outside Colab (without its ``pip install``), which is how the tests run it against a local clone.
REPOSITORY_ENV, BRANCH_ENV = "CONSERVAE_REPOSITORY", "CONSERVAE_BRANCH"


def repository(root: Path = REPO_ROOT) -> tuple[str, str]:
    """The repository's URL (no trailing slash) and branch, from ``repository`` in ``_config.yml`` — the one
    place they are written; the Colab buttons (:func:`conservae_lib.tooling.booktools.colab_url`) and the Colab
    cell (:func:`colab_install_code`) are built from them."""
    repo = read_config(root)["repository"]
    return repo["url"].rstrip("/"), str(repo.get("branch", "main"))


def colab_install_code(root: Path = REPO_ROOT) -> str:
    """The first cell of every executed notebook. In Colab (or when ``$CONSERVAE_REPOSITORY`` is set) and
    outside a checkout, it clones the repository (:func:`repository`, or the environment's
    :data:`REPOSITORY_ENV`/:data:`BRANCH_ENV`) into ``./<name>``, installs it with ``pip install -e`` (Colab
    only: it brings the dependencies Colab lacks), puts it first on ``sys.path`` and makes it the working
    directory, so that the chapter reads the published ``results/`` and the data paths as in the book.
    Inside a checkout, and outside Colab, it does nothing and prints nothing."""
    url, branch = repository(root)
    name = url.rsplit("/", 1)[-1].removesuffix(".git") or "conservae"
    return f"""\
# Colab: work inside a checkout of the repository, so that this chapter reads the published results
# (results/) and the data paths as the book does. Does nothing in a checkout or outside Colab.
def _conservae_checkout():
    import os, pathlib, subprocess, sys
    here = pathlib.Path.cwd().resolve()
    if not ("google.colab" in sys.modules or "{REPOSITORY_ENV}" in os.environ) or any(
            (p / "_config.yml").is_file() and (p / "conservae_lib").is_dir() for p in (here, *here.parents)):
        return
    top = here / "{name}"
    if not (top / "conservae_lib").is_dir():
        url = os.environ.get("{REPOSITORY_ENV}", "{url}")
        branch = os.environ.get("{BRANCH_ENV}", "{branch}")
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", branch, url, str(top)], check=True)
    if "google.colab" in sys.modules:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(top)], check=True)
    sys.path.insert(0, str(top))
    os.chdir(top)
_conservae_checkout()
del _conservae_checkout
"""


def load_source(source: Path, root: Path = REPO_ROOT):
    """The Jupytext source as a notebook, with the Colab install cell first."""
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    cell = nbformat.v4.new_code_cell(colab_install_code(root))
    cell.metadata["tags"] = [COLAB_TAG, "remove-cell"]
    nb.cells.insert(0, cell)
    return nb


def code_cells(nb) -> list[str]:
    """Source of the code cells a reader wrote (no Colab or injected-parameters cells)."""
    skip = {COLAB_TAG, "injected-parameters"}
    return [
        c.source.strip() for c in nb.cells
        if c.cell_type == "code" and not skip & set(c.metadata.get("tags", []))
    ]


_PAPERMILL_DROP = ("start_time", "end_time", "duration", "exception", "status", "input_path", "output_path", "environment_variables", "version")


#: What Colab reads from a notebook's metadata to open it on a GPU runtime (what Colab itself writes).
COLAB_GPU = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}


def normalize(nb) -> Any:
    """Make an executed notebook deterministic (stable ids, no timestamps), hide the injected parameters,
    fold the papermill parameters cell (a reader sees the values in the cell after it), and ask Colab for a
    GPU runtime (:data:`COLAB_GPU`)."""
    nb.metadata.pop("widgets", None)
    nb.metadata.update(json.loads(json.dumps(COLAB_GPU)))
    pm = nb.metadata.get("papermill", {})
    for key in _PAPERMILL_DROP:
        pm.pop(key, None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]
        elif "parameters" in tags and "hide-cell" not in tags:
            cell.metadata["tags"] = tags + ["hide-cell"]
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("execution", None)
    nb.nbformat_minor = max(nb.get("nbformat_minor", 5), 5)
    return nb


def dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + ("" if nbformat.writes(nb).endswith("\n") else "\n")


def without_timing(text: str) -> str:
    nb = json.loads(text)
    nb.get("metadata", {}).get(METADATA_KEY, {}).pop("timing", None)
    return json.dumps(nb, sort_keys=True)


def recorded(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text()).get("metadata", {}).get(METADATA_KEY)
    except json.JSONDecodeError:
        return None
