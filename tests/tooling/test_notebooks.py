"""Every chapter: executed with the `smoke` profile and re-checked by nbval; and every
committed (paper-profile) notebook matches its source and the current library."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conservae_lib.tooling import notebook_files, pipeline, staleness

ROOT = Path(__file__).resolve().parents[2]
SOURCES = pipeline.notebook_sources(ROOT)
IDS = [s.stem for s in SOURCES]


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_smoke_run_reproduces_under_nbval(source: Path, tmp_path: Path):
    """Execute with the smoke profile, then let nbval re-execute and compare every output."""
    run_dir, check_dir = tmp_path / "run", tmp_path / "check"
    run_dir.mkdir()
    check_dir.mkdir()
    out = run_dir / f"{source.stem}.ipynb"
    pipeline.execute(source, out, {"profile": "smoke"}, cwd=run_dir, progress=False)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    shutil.copy(out, check_dir / out.name)
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--rootdir", str(check_dir), "-c", os.devnull, str(check_dir / out.name)],
        cwd=check_dir, env=env, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_committed_notebook_is_current(source: Path):
    """book/notebooks/<name>.ipynb exists, was made with the paper profile from this source and
    the current library, has the same code cells, and contains no error."""
    out = ROOT / "book" / "notebooks" / f"{source.stem}.ipynb"
    assert out.exists(), f"{out.relative_to(ROOT)} is missing: run `python -m conservae_lib run {source.stem}`"
    recorded = json.loads(out.read_text())["metadata"].get(notebook_files.METADATA_KEY, {})
    wanted = staleness.inputs_digest(source, {"profile": "paper"}, ROOT)
    stale = [k for k, v in wanted.items() if recorded.get(k) != v]
    assert not stale, f"{out.name} is stale ({', '.join(stale)} changed): run `python -m conservae_lib run {source.stem}`"
    executed = nbformat.read(out, as_version=4)
    assert notebook_files.code_cells(executed) == notebook_files.code_cells(notebook_files.load_source(source, ROOT))
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert executed.cells[0].metadata.get("tags", [])[:1] == [notebook_files.COLAB_TAG]
