"""The pipeline from Jupytext source to executed, normalised notebook."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jupytext
import pytest

from conservae_lib.tooling import cli, notebook_files, pipeline, staleness
from conservae_lib.foundations.parameters import PROFILES
from conservae_lib.tooling.profiles import validate_all

ROOT = Path(__file__).resolve().parents[2]

def _page(title: str, body: str) -> str:
    """A one-chapter MyST notebook: front matter, the title, a ``parameters`` cell, then ``body``."""
    return textwrap.dedent("""\
        ---
        jupytext:
          text_representation: {extension: .md, format_name: myst}
        kernelspec: {display_name: Python 3, language: python, name: python3}
        ---
        # TITLE

        ```{code-cell} ipython3
        :tags: [parameters]
        profile = "paper"
        ```

        """).replace("TITLE", title) + textwrap.dedent(body)


TINY = _page("Tiny", """\
    ```{code-cell} ipython3
    from conservae_lib.presentation import report
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
    from conservae_lib.tooling.profiles import CHAPTERS

    for src in pipeline.notebook_sources():
        assert pipeline.chapter_name(src) in CHAPTERS, f"{src.name} has no profile table"


def test_library_digest_follows_imports_folder_by_folder_and_ignores_unused_folders(tiny_root: Path):
    lib = tiny_root / "conservae_lib"
    code = "from conservae_lib.core import energy"
    before, folders = staleness.library_digest(code, lib)
    assert {"core", "."} <= set(folders)
    assert not {"training", "tooling", "chapters/curl_2d"} & set(folders)
    (lib / "training" / "trainer.py").write_text((lib / "training" / "trainer.py").read_text() + "\n_UNRELATED = 1\n")
    assert staleness.library_digest(code, lib)[0] == before
    (lib / "core" / "fields.py").write_text((lib / "core" / "fields.py").read_text() + "\n# a comment in a dependency\n\n\n")
    assert staleness.library_digest(code, lib)[0] == before
    (lib / "core" / "fields.py").write_text((lib / "core" / "fields.py").read_text() + "\n_CHANGED_IN_A_DEPENDENCY = 1\n")
    assert staleness.library_digest(code, lib)[0] != before


def test_comments_and_docstrings_do_not_make_a_chapter_stale_but_code_does(tiny_root: Path):
    """Issue 16: a chapter is stale when the library code it imports changes, not its prose."""
    lib = tiny_root / "conservae_lib"
    code = "from conservae_lib.core import fields"
    before = staleness.library_digest(code, lib)[0]
    path = lib / "core" / "models.py"
    src = path.read_text()
    assert '"""The reconstruction r(x) = R h(Wᵀx + b) + c of eq. (1), N × D."""' in src
    path.write_text(src.replace("of eq. (1), N × D.", "of eq. (1) — reworded.")
                    .replace("def forward(self, x: Tensor) -> Tensor:", "def forward(self, x: Tensor) -> Tensor:  # note", 1))
    assert staleness.library_digest(code, lib)[0] == before
    path.write_text(src.replace("return self.decode_preactivation(self.preactivation(x))",
                                "return self.decode_preactivation(self.preactivation(x)) * 1", 1))
    assert staleness.library_digest(code, lib)[0] != before


def test_editing_the_book_tooling_leaves_every_chapter_current(tiny_root: Path):
    """Issue 27: no notebook imports ``conservae_lib/tooling``, so its code is no chapter's input."""
    lib = tiny_root / "conservae_lib"
    digests = {}
    for src in sorted((ROOT / "notebooks").glob("*.md")):
        code = "\n".join(notebook_files.code_cells(notebook_files.load_source(src, ROOT)))
        digests[src.stem] = staleness.library_digest(code, lib)
        assert "tooling" not in digests[src.stem][1], src.name
    for path in sorted((lib / "tooling").glob("*.py")):
        path.write_text(path.read_text() + "\n_EDITED = 1\n")
    for src in sorted((ROOT / "notebooks").glob("*.md")):
        code = "\n".join(notebook_files.code_cells(notebook_files.load_source(src, ROOT)))
        assert staleness.library_digest(code, lib) == digests[src.stem], src.name


def test_editing_one_chapters_folder_makes_that_chapter_stale_and_no_other(tiny_root: Path):
    """Issue 27: a chapter's folder (its parameter declaration included) counts for that chapter alone."""
    lib = tiny_root / "conservae_lib"
    codes = {src.stem: "\n".join(notebook_files.code_cells(notebook_files.load_source(src, ROOT)))
             for src in sorted((ROOT / "notebooks").glob("*.md"))}
    before = {k: staleness.library_digest(c, lib)[0] for k, c in codes.items()}
    decl = lib / "chapters" / "curl_2d" / "parameters.py"
    src = decl.read_text()
    assert 'Param("record_every", 10,' in src
    decl.write_text(src.replace('Param("record_every", 10,', 'Param("record_every", 11,', 1))
    changed = {k for k, c in codes.items() if staleness.library_digest(c, lib)[0] != before[k]}
    assert changed == {"05_curl_2d"}


def test_the_claims_file_counts_for_the_chapters_that_import_the_claims_layer_only(tiny_root: Path):
    """A layer's data file is read by its modules: editing a number of the paper's claims stales the chapters
    that judge claims, not one that only uses the mathematical core; a comment or re-spacing stales none."""
    lib = tiny_root / "conservae_lib"
    judged = staleness.library_digest("from conservae_lib.claims import ledger", lib)
    core = staleness.library_digest("from conservae_lib.core import fields", lib)
    path = lib / "claims" / "paper_claims.yml"
    path.write_text("# a new comment\n" + path.read_text().replace("AE: [0.959,", "AE:   [0.959,", 1))
    assert staleness.library_digest("from conservae_lib.claims import ledger", lib) == judged
    path.write_text(path.read_text().replace("AE:   [0.959,", "AE: [0.958,", 1))
    assert staleness.library_digest("from conservae_lib.claims import ledger", lib) != judged
    assert staleness.library_digest("from conservae_lib.core import fields", lib) == core


def test_every_import_form_of_a_notebook_counts_in_the_digest():
    code = ("from conservae_lib.core import fields\nfrom conservae_lib.training import runtime\n\ncfg = 1\n"
            "from conservae_lib.data import (\n    mnist,\n    toy_data as t,  # eq. 1\n)\n"
            "from conservae_lib.presentation.plotting import plot_field\nimport conservae_lib.claims.ledger\n"
            "from conservae_lib.chapters.curl_2d import figures\n"
            "x = conservae_lib.foundations.files.load_json\n")
    assert staleness.notebook_folders(code) == {"core", "training", "data", "presentation", "claims",
                                                "chapters/curl_2d", "foundations"}


def test_normalize_gives_stable_ids_and_drops_timestamps():
    nb = jupytext.reads(TINY, fmt="md:myst")
    nb.metadata["papermill"] = {"start_time": "x", "end_time": "y", "duration": 1.0, "parameters": {"profile": "smoke"}}
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026"}
    nb.cells[0].metadata["papermill"] = {"duration": 0.1}
    nb.cells[0].metadata["tags"] = ["injected-parameters"]
    out = notebook_files.normalize(nb)
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
    assert nb["cells"][0]["metadata"]["tags"] == [notebook_files.COLAB_TAG, "remove-cell"]
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


# ----------------------------------------------------------------- issue 17: runs that cannot mislead
ENV_PAGE = _page("Environment", """\
    ```{code-cell} ipython3
    import json, os, pathlib
    root = pathlib.Path(os.environ.get("CONSERVAE_RESULTS", "results")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    (root / "seen.json").write_text(json.dumps({"results": str(root),
                                                "digest": os.environ.get("CONSERVAE_INPUTS_DIGEST")}))
    ```
    """)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.exists() else {}


@pytest.fixture
def env_root(tiny_root: Path) -> Path:
    (tiny_root / "notebooks" / "01_tiny.md").unlink()
    (tiny_root / "notebooks" / "01_env.md").write_text(ENV_PAGE)
    return tiny_root


@pytest.mark.slow
def test_a_variant_run_writes_beside_its_output_and_the_kernel_gets_the_inputs_digest(env_root: Path, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(env_root / "results"))
    out = tmp_path / "variant"
    pipeline.run("smoke", output_dir=out, root=env_root, cwd=env_root)
    seen = json.loads((out / "results" / "seen.json").read_text())
    assert seen["results"] == str((out / "results").resolve())
    recorded = json.loads((out / "01_env.ipynb").read_text())["metadata"]["conservae"]
    recorded.pop("timing")
    assert seen["digest"] == staleness.inputs_sha(recorded)
    assert not (env_root / "results").exists()  # the published root was not touched
    # the plain run of a profile writes to the published root, and its notebooks beside it
    pipeline.run("smoke", root=env_root, cwd=env_root)
    assert json.loads((env_root / "results" / "seen.json").read_text())["results"] == str((env_root / "results").resolve())
    assert (env_root / "results" / "smoke" / "notebooks" / "01_env.ipynb").exists()
    assert not (env_root / "book").exists()  # a smoke run never replaces a page of the book
    assert cli._check("smoke", None, root=env_root) == 0
    assert cli._check("paper", None, root=env_root) == 1
    assert cli._check("smoke", tmp_path / "empty", root=env_root) == 1
    assert cli._check("smoke", out, root=env_root) == 0


def test_overrides_without_an_output_folder_go_to_the_variants_folder(tiny_root: Path, monkeypatch):
    calls = []
    monkeypatch.setattr(pipeline, "execute", lambda src, out, params, **kw: calls.append((out, params, kw)) or 0.0)
    pipeline.run("smoke", extra={"seed": 3}, root=tiny_root, cwd=tiny_root)
    out, params, kw = calls[0]
    assert out.parent == tiny_root / pipeline.VARIANTS_DIR / "smoke"
    assert kw["results_root"] == (out.parent / "results").resolve()
    assert params == {"profile": "smoke", "seed": 3}


@pytest.mark.slow
def test_the_readme_override_example_leaves_the_published_results_byte_identical(tmp_path: Path):
    """Issue 17, case 1: `run --profile smoke -p seed 3 --output-dir OUT 01_conservative_autoencoders`.

    Runs in a copy of the repository (chapter 01, the library, the published results), so that
    nothing else writing to this checkout meanwhile can make the comparison pass or fail."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "01_conservative_autoencoders.md", repo / "notebooks")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "conservae_lib", repo / "conservae_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "results" / "paper", repo / "results" / "paper",
                    ignore=shutil.ignore_patterns("*.ckpt", "*.pt", "checkpoints"))
    (repo / "results" / "smoke" / "conservative_autoencoders").mkdir(parents=True)
    (repo / "results" / "smoke" / "conservative_autoencoders" / "summary.json").write_text('{"claims": []}\n')
    before = {p: _snapshot(repo / "results" / p) for p in ("smoke", "paper")}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "conservae_lib", "run", "--profile", "smoke", "-p", "seed", "3", "--output-dir",
         str(out), "01_conservative_autoencoders"],
        cwd=repo, env={k: v for k, v in os.environ.items() if k != "CONSERVAE_RESULTS"} | {"TQDM_DISABLE": "1"},
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {p: _snapshot(repo / "results" / p) for p in ("smoke", "paper")} == before
    assert sorted(p.name for p in (repo / "results").iterdir()) == ["paper", "smoke"]
    summaries = list((out / "results").rglob("summary.json"))
    assert summaries, "the variant's summary was written beside its output"
    assert "without encryption" not in proc.stderr  # issue 17, case 6
    recorded = json.loads((out / "01_conservative_autoencoders.ipynb").read_text())["metadata"]["conservae"]
    assert recorded["parameters"] == {"profile": "smoke", "seed": 3}
    recorded.pop("timing")
    digests = {json.loads(p.read_text()).get("provenance", {}).get("inputs_digest") for p in summaries}
    assert staleness.inputs_sha(recorded) in digests  # the summary records the digest the pipeline exported


def test_a_second_run_of_a_chapter_into_the_same_folder_is_refused_naming_the_holder(tiny_root: Path, tmp_path):
    out = tmp_path / "out"
    with pipeline.chapter_lock("01_tiny", out, tiny_root):
        with pytest.raises(pipeline.RunLockedError) as info:
            pipeline.run("smoke", output_dir=out, root=tiny_root, cwd=tiny_root)
        message = str(info.value)
        assert re.search(rf"by process {os.getpid()} \(started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", message)
        assert "\n" not in message and "--output-dir" in message
        with pipeline.chapter_lock("01_tiny", tmp_path / "elsewhere", tiny_root):
            pass  # another folder: its own lock
    with pipeline.chapter_lock("01_tiny", out, tiny_root):
        pass  # released when its holder is done
    assert not list(out.glob("*.ipynb"))


def test_the_lock_of_a_live_process_in_another_process_is_seen(tiny_root: Path, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from conservae_lib.tooling import pipeline\n"
                               f"with pipeline.chapter_lock('01_tiny', {str(out)!r}):\n"
                               "    print('held', flush=True); time.sleep(60)"],
        cwd=tiny_root, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(pipeline.RunLockedError, match=rf"by process {holder.pid} "):
            with pipeline.chapter_lock("01_tiny", out, tiny_root):
                pass
    finally:
        holder.kill()
        holder.wait()
    with pipeline.chapter_lock("01_tiny", out, tiny_root):
        pass  # a killed holder leaves no stale lock


def test_an_unwritable_output_or_results_folder_is_found_before_the_chapter_runs(tiny_root: Path, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "execute", lambda *a, **k: pytest.fail("the chapter must not start"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(pipeline.OutputNotWritableError) as info:
        pipeline.run("smoke", output_dir=blocker / "out", root=tiny_root, cwd=tiny_root)
    message = str(info.value)
    assert str(blocker / "out") in message and "executed notebooks go" in message and "--output-dir" in message
    monkeypatch.setenv("CONSERVAE_RESULTS", str(blocker / "results"))
    with pytest.raises(pipeline.OutputNotWritableError) as info:
        pipeline.run("smoke", root=tiny_root, cwd=tiny_root)
    message = str(info.value)
    assert "results go" in message and "CONSERVAE_RESULTS" in message and "\n" not in message


SLEEPY = TINY.replace("print(profile, report.fmt(2 / 3))", "import time\ntime.sleep(120)")


def _wait_for(path: Path, timeout: float = 120.0) -> None:
    """Wait until the chapter's cell has written ``path`` (the kernel is up and inside the cell): a fixed sleep
    is too short where a fresh environment starts its first kernel slowly."""
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"the chapter never reached its cell ({path} not written)"
        time.sleep(0.2)


@pytest.mark.slow
def test_ctrl_c_during_a_chapter_prints_one_line_and_exits_130(tiny_root: Path, tmp_path):
    """Issue 17, case 4: SIGINT to the whole process group, as a terminal's Ctrl-C sends it."""
    inside = tmp_path / "inside"
    (tiny_root / "notebooks" / "01_tiny.md").write_text(
        SLEEPY.replace("import time\n", f"import pathlib, time\npathlib.Path({str(inside)!r}).write_text('x')\n"))
    proc = subprocess.Popen([sys.executable, "-m", "conservae_lib", "run", "--profile", "smoke", "--output-dir",
                             str(tmp_path / "out")], cwd=tiny_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=dict(os.environ, TQDM_DISABLE="1"),
                            # as a terminal's foreground job: SIGINT not ignored even when the tests themselves run
                            # as a background job of a shell without job control (which ignores it)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert "executing" in proc.stdout.readline()
    _wait_for(inside)  # the kernel is up and inside the sleeping cell
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == cli.INTERRUPTED + "\n"
    assert not list((tmp_path / "out").glob("*.ipynb"))


@pytest.mark.slow
def test_sigterm_stops_a_chapter_like_ctrl_c_and_leaves_no_worker_behind(tiny_root: Path, tmp_path):
    """Issue 28: SIGTERM to the command alone (not its group) ended the run silently and left the kernel's pool
    workers writing after the lock was released. A worker here writes a file 12 s after it starts."""
    late, script = tmp_path / "late.txt", tmp_path / "worker.py"
    script.write_text(f"import pathlib, time\ntime.sleep(12)\npathlib.Path({str(late)!r}).write_text('late')\n")
    inside = tmp_path / "inside"
    worker = (f"import pathlib, subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(script)!r}])\n"
              f"pathlib.Path({str(inside)!r}).write_text('x')\ntime.sleep(120)")
    (tiny_root / "notebooks" / "01_tiny.md").write_text(TINY.replace("print(profile, report.fmt(2 / 3))", worker))
    proc = subprocess.Popen([sys.executable, "-m", "conservae_lib", "run", "--profile", "smoke", "--output-dir",
                             str(tmp_path / "out")], cwd=tiny_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, TQDM_DISABLE="1"))
    assert "executing" in proc.stdout.readline()
    _wait_for(inside)  # the kernel is up, its worker started, inside the sleeping cell
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == cli.INTERRUPTED + "\n"
    with pipeline.chapter_lock("01_tiny", tmp_path / "out", tiny_root):
        pass  # released
    time.sleep(10)
    assert not late.exists(), "a worker of the stopped kernel outlived the run"


def test_check_refuses_an_unknown_profile_in_one_sentence(capsys):
    assert cli.main(["check", "--profile", "smok"]) == 2
    assert capsys.readouterr().err == "error: parameter 'profile' got 'smok', but it must be one of smoke, paper, full.\n"


def test_a_pages_declared_input_files_count(tiny_root: Path):
    """Issue 17, case 5: editing results/device/paper.json makes the performance page stale."""
    (tiny_root / "notebooks" / "91_performance.md").write_text(TINY)
    device = tiny_root / "results" / "device"
    device.mkdir(parents=True)
    (device / "paper.json").write_text('{"wall_s": 1}')
    source = tiny_root / "notebooks" / "91_performance.md"
    before = staleness.inputs_digest(source, {"profile": "paper"}, tiny_root)
    assert "inputs_sha" in before
    out = tiny_root / "out.ipynb"
    out.write_text(json.dumps({"metadata": {"conservae": before}}))
    assert staleness.is_current(source, out, {"profile": "paper"}, tiny_root)
    (device / "paper.json").write_text('{"wall_s": 2}')
    assert not staleness.is_current(source, out, {"profile": "paper"}, tiny_root)
    assert "inputs_sha" not in staleness.inputs_digest(tiny_root / "notebooks" / "01_tiny.md", {"profile": "paper"}, tiny_root)
    # a page may declare its inputs in its front matter as well
    declared = TINY.replace("kernelspec:", "conservae: {inputs: [data/*.csv]}\nkernelspec:")
    (tiny_root / "notebooks" / "01_tiny.md").write_text(declared)
    (tiny_root / "data").mkdir()
    (tiny_root / "data" / "a.csv").write_text("1")
    first = staleness.inputs_digest(tiny_root / "notebooks" / "01_tiny.md", {"profile": "paper"}, tiny_root)
    (tiny_root / "data" / "a.csv").write_text("2")
    assert staleness.inputs_digest(tiny_root / "notebooks" / "01_tiny.md", {"profile": "paper"}, tiny_root) != first


def test_a_page_that_reads_its_chapter_under_another_profile_does_not_depend_on_its_own_results(tiny_root):
    declared = TINY.replace("kernelspec:", "conservae: {inputs: [results/*/tiny/summary.json]}\nkernelspec:")
    source = tiny_root / "notebooks" / "01_tiny.md"
    source.write_text(declared)
    for profile in ("paper", "full"):
        (tiny_root / "results" / profile / "tiny").mkdir(parents=True, exist_ok=True)
        (tiny_root / "results" / profile / "tiny" / "summary.json").write_text("{}")
    first = {p: staleness.inputs_digest(source, {"profile": p}, tiny_root)["inputs_sha"] for p in ("paper", "full")}
    (tiny_root / "results" / "full" / "tiny" / "summary.json").write_text('{"changed": 1}')  # what the full run wrote
    after = {p: staleness.inputs_digest(source, {"profile": p}, tiny_root)["inputs_sha"] for p in ("paper", "full")}
    assert after["full"] == first["full"]  # its own output: the full run stays current
    assert after["paper"] != first["paper"]  # the paper run shows the full column: it is out of date


def test_the_real_performance_page_declares_the_device_record():
    source = ROOT / "notebooks" / "91_performance.md"
    if not source.exists():
        pytest.skip("no performance page")
    files = staleness.page_input_files(source, ROOT)
    assert ROOT / "results" / "device" / "paper.json" in files


def test_code_digest_cuts_docstrings_and_comments_out_of_the_text_itself():
    src = ('"""Module doc, é."""\nimport x  # a comment, é\n\n\ndef f(a):  # c\n    """Doc ü."""\n'
           '    s = "# not a comment"\n    return a + 1\nclass C:\n    \'doc\'\n    y = 1\n')
    assert staleness.code_digest(src).decode() == (
        'import x\ndef f(a):\n    s = "# not a comment"\n    return a + 1\nclass C:\n    y = 1')
    assert staleness.code_digest("def broken(:\n") == b"def broken(:\n"  # unparsable: as it is


def test_pretrain_refuses_bad_arguments_in_one_line_before_training(capsys):
    assert cli.main(["pretrain", "--profile", "fast"]) == 2
    assert capsys.readouterr().err.strip() == ("error: parameter 'profile' got 'fast', but it must be one of smoke, "
                                               "paper, full.")
    for bad in (["--workers", "0"], ["--threads", "-1"], ["--budget-min", "0"], ["--budget-min", "-5"]):
        assert cli.main(["pretrain", "--profile", "smoke", *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--workers must be ≥ 1, --threads ≥ 0 and --budget-min > 0" in err[0]
    with pytest.raises(SystemExit) as info:
        cli.main(["pretrain", "--profile", "paper", "--only", "AE.relu"])
    assert info.value.code == 2 and "unrecognized arguments: --only AE.relu" in capsys.readouterr().err


@pytest.mark.slow
def test_a_cut_short_notebook_is_named_and_replaced_and_a_failed_chapter_leaves_its_partial_notebook(tiny_root: Path,
                                                                                                     tmp_path, capsys):
    """Issue 28: a truncated executed notebook made its chapter impossible to run (a JSON error naming no file),
    and a failed chapter left no notebook and no traceback."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "01_tiny.ipynb").write_text('{"cells": [{"cell_ty')  # a write killed half-way
    assert pipeline.unreadable(out / "01_tiny.ipynb") and not pipeline.unreadable(out / "absent.ipynb")
    pipeline.run("smoke", output_dir=out, force=True, root=tiny_root, cwd=tiny_root)
    assert "is not a readable notebook (cut short?); it will be replaced" in capsys.readouterr().out
    assert not pipeline.unreadable(out / "01_tiny.ipynb")
    assert not (tiny_root / pipeline.KERNEL_LOGS_DIR / "01_tiny.partial.ipynb").exists()  # removed after success
    (tiny_root / "notebooks" / "01_tiny.md").write_text(TINY.replace("print(profile, report.fmt(2 / 3))",
                                                                     "raise ValueError('broken on purpose')"))
    with pytest.raises(Exception) as info:
        pipeline.run("smoke", output_dir=out, force=True, root=tiny_root, cwd=tiny_root)
    partial = info.value.partial_notebook
    assert partial == tiny_root / pipeline.KERNEL_LOGS_DIR / "01_tiny.partial.ipynb" and partial.exists()
    assert "broken on purpose" in partial.read_text()
