"""The Colab path: the built wheel, installed into a fresh virtual environment outside the
repository, executes every committed notebook from an empty folder under the smoke profile.

This is what a reader does after the notebook's hidden install cell in Colab (issue 18): the
library comes from an installed wheel (not from this checkout), the working directory is empty
(Colab's /content), and nothing of the repository (``_config.yml``, ``results/``, ``notebooks/``)
is reachable by relative path. One environment is built per test session (module-scoped
fixture); pip's download cache is kept, so a second run installs from it. torch comes from the
local disk where it lies there (``torch==2.13.0``, the CPU build), as ``make setup`` installs it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "book" / "notebooks").glob("*.ipynb"))
# What a Colab runtime lacks and the notebook needs to run under papermill: the wheel's own
# dependencies come with it; papermill and ipykernel are the runner (Colab has its own kernel).
RUNNER = ["papermill>=2.5", "ipykernel>=6"]
# Paths of the checkout that a notebook run must never touch (folders are compared recursively).
SKIP = {".git", ".venv", ".tmp", ".pytest_cache", "_build", "node_modules", "__pycache__", "_vendor",
        "conservae_lib.egg-info"}

pytestmark = [pytest.mark.slow, pytest.mark.notebooks]  # executes chapters: not in the fast part of the suite


def _run(cmd: list[str], timeout: int, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        pytest.fail(f"{' '.join(map(str, cmd[:6]))} … failed (exit {proc.returncode}):\n{tail}", pytrace=False)
    return proc


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a reader's runtime: none of this checkout's variables or paths."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CONSERVAE_RESULTS", "VIRTUAL_ENV", "PYTHONHOME", "JUPYTER_PATH")}
    env.update(TQDM_DISABLE="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def build_wheel(dest: Path) -> Path:
    """The wheel of ``conservae_lib``, built from a copy of its sources (setuptools writes
    ``build/`` and ``*.egg-info`` next to ``pyproject.toml``: building in the checkout would
    leave them there)."""
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "conservae_lib", src / "conservae_lib", ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(dest / "dist")]
    try:
        import setuptools  # noqa: F401  (present: build with it, no isolated environment to fetch)

        cmd.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    _run(cmd, timeout=600)
    wheels = list((dest / "dist").glob("conservae_lib-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {wheels}"
    return wheels[0]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of the checkout outside :data:`SKIP`."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for f in filenames:
            p = Path(dirpath) / f
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory) -> Path:
    """A fresh virtual environment outside the repository with the wheel and a notebook runner."""
    base = tmp_path_factory.mktemp("colab_env")
    assert ROOT not in base.parents, "the environment must lie outside the repository"
    t0 = time.perf_counter()
    wheel = build_wheel(base / "wheel")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    py = venv / "bin" / "python"
    env = _clean_env()
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    try:  # the CPU build from the local disk, as `make setup` does; any torch ≥ 2.1 elsewhere
        _run(pip + ["torch==2.13.0"], timeout=1200, env=env)
    except pytest.fail.Exception:
        _run(pip + ["torch>=2.1"], timeout=1200, env=env)
    _run(pip + [str(wheel)] + RUNNER, timeout=1200, env=env)
    # The kernel papermill starts must be this environment's Python.
    probe = _run([str(py), "-c", "import json; from jupyter_client.kernelspec import KernelSpecManager as K; "
                  "print(json.dumps(K().get_kernel_spec('python3').argv))"],
                 timeout=120, env=_clean_env(JUPYTER_DATA_DIR=str(base / "jupyter")), cwd=base)
    argv0 = json.loads(probe.stdout.strip().splitlines()[-1])[0]
    assert Path(argv0).parent == py.parent or argv0 in ("python", "python3"), f"kernel runs {argv0}, not {py}"
    where = _run([str(py), "-c", "import conservae_lib; print(conservae_lib.__file__)"], timeout=120, env=env, cwd=base)
    assert str(venv) in where.stdout, f"conservae_lib imported from {where.stdout.strip()}, not the installed wheel"
    print(f"\n[colab path] wheel + environment in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return py


def _error_cells(nb: dict) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_runs_from_an_installed_wheel_in_an_empty_folder(notebook: Path, colab_python: Path,
                                                                           tmp_path: Path):
    workdir = tmp_path / "content"  # Colab's empty working directory
    workdir.mkdir()
    out = tmp_path / notebook.name
    before = _snapshot(ROOT)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(colab_python), "-m", "papermill", str(notebook), str(out), "-p", "profile", "smoke",
         "-k", "python3", "--cwd", str(workdir), "--no-progress-bar"],
        capture_output=True, text=True, timeout=1200, cwd=workdir,
        env=_clean_env(JUPYTER_DATA_DIR=str(tmp_path / "jupyter"), MPLBACKEND="Agg"))
    wall = time.perf_counter() - t0
    print(f"\n[colab path] {notebook.stem}: {wall:.0f} s", file=sys.stderr)
    # Nothing was written into the checkout (this must hold even when a cell failed).
    after = _snapshot(ROOT)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    wrote = f"{notebook.name} changed files of the repository: {changed[:10]}"
    if not out.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        pytest.fail(f"papermill wrote no notebook (exit {proc.returncode}):\n{tail}", pytrace=False)
    nb = json.loads(out.read_text())
    errors = _error_cells(nb)
    assert not errors, (f"{notebook.name}: error cell {errors[0].get('ename')}: {errors[0].get('evalue')}\n"
                        + "\n".join(errors[0].get("traceback", [])[-3:]))
    assert proc.returncode == 0, proc.stderr[-2000:]
    # The hidden install cell runs first and installs nothing outside Colab.
    first = nb["cells"][0]
    assert "colab-install" in first["metadata"].get("tags", []), "the first cell is not the Colab install cell"
    assert '"google.colab" in sys.modules' in "".join(first["source"])
    assert not first.get("outputs"), f"the Colab install cell printed something outside Colab: {first['outputs']}"
    assert not changed, wrote
    # The chapter's results went to the working directory, as in Colab's /content.
    assert (workdir / "results").is_dir() or notebook.stem.startswith("9"), "the chapter saved no results"
