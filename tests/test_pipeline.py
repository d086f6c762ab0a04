"""The pipeline from Jupytext source to executed, normalised notebook."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import jupytext
import pytest

from conservae_lib import pipeline
from conservae_lib.profiles import PROFILES, validate_all

ROOT = Path(__file__).resolve().parents[1]

TINY = textwrap.dedent("""\
    ---
    jupytext:
      text_representation: {extension: .md, format_name: myst}
    kernelspec: {display_name: Python 3, language: python, name: python3}
    ---
    # Tiny

    ```{code-cell} ipython3
    :tags: [parameters]
    profile = "paper"
    ```

    ```{code-cell} ipython3
    from conservae_lib import report
    print(profile, report.fmt(2 / 3))
    ```
    """)


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_tiny.md").write_text(TINY)
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "conservae_lib", tmp_path / "conservae_lib", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_every_chapter_profile_table_is_valid_and_complete():
    validate_all()
    assert PROFILES == ("smoke", "paper", "full")


def test_chapter_names_are_the_profile_keys():
    from conservae_lib.profiles import CHAPTERS

    for src in pipeline.notebook_sources():
        assert pipeline.chapter_name(src) in CHAPTERS, f"{src.name} has no profile table"


def test_library_digest_follows_imports_and_ignores_unused_modules(tiny_root: Path):
    lib = tiny_root / "conservae_lib"
    code = "from conservae_lib import energy"
    before, modules = pipeline.library_digest(code, lib)
    assert {"energy", "fields", "models", "activations"} <= set(modules)
    assert "training" not in modules
    (lib / "training.py").write_text((lib / "training.py").read_text() + "\n# unrelated change\n")
    assert pipeline.library_digest(code, lib)[0] == before
    (lib / "fields.py").write_text((lib / "fields.py").read_text() + "\n# change in a dependency\n")
    assert pipeline.library_digest(code, lib)[0] != before


def test_normalize_gives_stable_ids_and_drops_timestamps():
    nb = jupytext.reads(TINY, fmt="md:myst")
    nb.metadata["papermill"] = {"start_time": "x", "end_time": "y", "duration": 1.0, "parameters": {"profile": "smoke"}}
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026"}
    nb.cells[0].metadata["papermill"] = {"duration": 0.1}
    nb.cells[0].metadata["tags"] = ["injected-parameters"]
    out = pipeline.normalize(nb)
    assert [c.id for c in out.cells] == [f"cell-{i:03d}" for i in range(len(out.cells))]
    assert out.metadata["papermill"] == {"parameters": {"profile": "smoke"}}
    assert "execution" not in out.cells[0].metadata and "papermill" not in out.cells[0].metadata
    assert "remove-cell" in out.cells[0].metadata["tags"]


@pytest.mark.slow
def test_executing_twice_is_byte_identical_and_up_to_date_sources_are_skipped(tiny_root: Path):
    out_dir = tiny_root / "out"
    first = pipeline.run("smoke", output_dir=out_dir, root=tiny_root, cwd=tiny_root)
    assert [s for _, s, _ in first] == ["executed"]
    path = out_dir / "01_tiny.ipynb"
    text = path.read_text()
    nb = json.loads(text)
    assert nb["cells"][0]["metadata"]["tags"] == [pipeline.COLAB_TAG, "remove-cell"]
    assert "google.colab" in "".join(nb["cells"][0]["source"])
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert any("smoke 0.6667" in "".join(o.get("text", "")) for o in outputs)
    assert nb["metadata"]["conservae"]["parameters"] == {"profile": "smoke"}
    assert "start_time" not in json.dumps(nb["metadata"])
    second = pipeline.run("smoke", output_dir=out_dir, root=tiny_root, cwd=tiny_root)
    assert [s for _, s, _ in second] == ["skipped"]
    pipeline.run("smoke", output_dir=out_dir, root=tiny_root, cwd=tiny_root, force=True)
    assert path.read_text() == text
    (tiny_root / "notebooks" / "01_tiny.md").write_text(TINY.replace("2 / 3", "1 / 3"))
    third = pipeline.run("smoke", output_dir=out_dir, root=tiny_root, cwd=tiny_root)
    assert [s for _, s, _ in third] == ["executed"]


def test_unknown_notebook_name_is_a_clear_error():
    with pytest.raises(SystemExit, match="no notebook named 'nope'"):
        pipeline.notebook_sources(ROOT, ["nope"])


def test_editing_one_chapters_parameters_leaves_the_other_chapters_current(tiny_root: Path):
    lib = tiny_root / "conservae_lib"
    code = "from conservae_lib import fields"
    path = lib / "profiles.py"
    src = path.read_text()
    own = pipeline.library_digest(code, lib, "conservative_autoencoders")[0]
    other = pipeline.library_digest(code, lib, "curl_2d")[0]
    assert "record_every=10," in src
    changed = src.replace("record_every=10,", "record_every=11,", 1)  # the curl_2d table only
    path.write_text(changed)
    assert pipeline._chapter_tables(changed, path)["curl_2d"]["paper"]["record_every"] == 11
    assert pipeline.library_digest(code, lib, "conservative_autoencoders")[0] == own
    assert pipeline.library_digest(code, lib, "curl_2d")[0] != other
    # a table written inside CHAPTERS itself (chapter 04's, an assignment expression there)
    key = "metrics_every=1, checkpoint_every=10, workers=2,"
    assert key in changed
    inside = changed.replace(key, "metrics_every=3, checkpoint_every=10, workers=2,", 1)
    path.write_text(inside)
    assert pipeline._chapter_tables(inside, path)["mnist_symmetricity"]["paper"]["metrics_every"] == 3
    assert pipeline.library_digest(code, lib, "conservative_autoencoders")[0] == own
    # code (not tables) of profiles.py counts for every chapter
    path.write_text(changed + "\ndef _new_helper():\n    return 1\n")
    assert pipeline.library_digest(code, lib, "conservative_autoencoders")[0] != own


def test_every_imported_module_counts_in_the_digest():
    code = ("from conservae_lib import fields, runtime\n\ncfg = 1\n"
            "from conservae_lib import (\n    energy,\n    plotting as pl,  # figures\n)\nimport conservae_lib.data\n")
    mods = pipeline._notebook_modules(code)
    assert {"fields", "runtime", "energy", "plotting", "data"} <= mods
    assert "cfg" not in " ".join(mods)
