"""Bad parameters stop a chapter in its first cells with one sentence naming the parameter, the
value given and what is allowed — through :func:`profiles.configure`, the pipeline's CLI and
papermill itself.

The bad inputs are generated from every chapter's declared values in ``profiles.CHAPTERS`` (so a
new chapter is covered as soon as it declares its parameters), plus a synthetic declaration that
exercises the kinds of range no chapter may use yet.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from conservae_lib.tooling import cli, pipeline, profiles
from conservae_lib.foundations import parameters
from conservae_lib.foundations.parameters import (COUNT, EPOCHS, FOLDER, FRACTION, NOISE, RATE, SEED, WEIGHT, Chapter, Param,
                                                  ParameterError, chapter_keys, declaration)

ROOT = Path(__file__).resolve().parents[2]
CHAPTER_01 = "conservative_autoencoders"

#: Parameter names that are sizes or counts: zero is as wrong as a negative value.
_SIZE_LIKE = re.compile(r"^(D|H)(_\w+)?$|^(n_|epochs|batch|lr|learning_rate|hidden|width|steps|grid)")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def bad_values(name: str, default: Any) -> Iterator[tuple[Any, str]]:
    """(bad value, fragment its error must contain) for a parameter whose paper value is ``default``.

    The expectations are written from the parameter's meaning (its name and type), not copied
    from the rules in ``profiles``.
    """
    if isinstance(default, bool):
        yield "yes", "true or false"
        yield 1, "true or false"
    elif _is_number(default):
        kind = "integer" if isinstance(default, int) else "number"
        yield -1, "must be"  # no numeric parameter of this book may be negative
        yield "ten", kind
        yield float("nan"), "must be"
        if isinstance(default, int):
            yield 2.5, "integer"
        if name.startswith("beta"):
            yield 1.5, "[0, 1]"
        elif _SIZE_LIKE.match(name):
            yield 0, ("positive", "≥ ")  # "a positive integer", or a larger minimum with its reason
        elif name.startswith("seed"):
            yield -7, "≥ 0"
    elif isinstance(default, (list, tuple)) and default:
        yield [], "non-empty list"
        yield "not a list", "list"
        if _is_number(default[0]):
            yield [default[0], -1], "elements"
            if name.startswith("beta"):
                yield [0.5, 1.5], "[0, 1]"
        if isinstance(default[0], str):
            yield [default[0], 7], "elements"
            if name.startswith(("datasets", "activation")):
                yield [default[0], "moon"], "one of"
    elif default is None and name.startswith("data_root"):
        yield 5, "folder"
    elif isinstance(default, str):
        if name.startswith("activation"):
            yield "swish", "one of"
        elif name.startswith("data_source"):
            yield "ftp", "one of"
        elif name.startswith("device"):
            yield "gpu", "cuda"
        elif name.startswith("optimizer"):
            yield "rmsprop", "one of"
        elif name.startswith(("profile", "results_profile")):
            yield "fast", "smoke, paper, full"
        yield 3, "must be"


def bad_inputs() -> list[tuple[str, str, Any, str]]:
    """(chapter, parameter, bad value, fragment) across every chapter's paper table."""
    cases = []
    for chapter, tables in profiles.CHAPTERS.items():
        for name, default in tables["paper"].items():
            for value, fragment in bad_values(name, default):
                cases.append((chapter, name, value, fragment))
    return cases


BAD_INPUTS = bad_inputs()


def assert_one_sentence(message: str, name: str, value: Any) -> None:
    """The message is one line, one sentence, and names the parameter and the value given."""
    assert "\n" not in message
    assert message.endswith(".")
    assert f"{name!r}" in message
    assert repr(value) in message
    assert "must be" in message
    # One sentence: no full stop followed by a capital letter inside it.
    assert not re.search(r"\.\s+[A-Z]", message[:-1]), message


def test_there_are_at_least_twenty_bad_inputs_across_the_chapters() -> None:
    assert len(BAD_INPUTS) >= 20
    assert {c for c, *_ in BAD_INPUTS} >= {CHAPTER_01}


@pytest.mark.parametrize(
    "chapter,name,value,fragment", BAD_INPUTS,
    ids=[f"{c}-{n}={v!r}" for c, n, v, _ in BAD_INPUTS],
)
def test_every_chapter_rejects_a_bad_value_with_one_sentence(chapter: str, name: str, value: Any, fragment: str) -> None:
    with pytest.raises(ParameterError) as info:
        profiles.configure(chapter, "smoke", **{name: value})
    message = str(info.value)
    assert message.startswith(f"parameter {name!r} got ")
    assert_one_sentence(message, name, value)
    assert any(f in message for f in (fragment if isinstance(fragment, tuple) else (fragment,))), message


@pytest.mark.parametrize("chapter", sorted(profiles.CHAPTERS))
def test_every_chapter_rejects_an_unknown_name_and_an_unknown_profile(chapter: str) -> None:
    with pytest.raises(ParameterError) as info:
        profiles.configure(chapter, "smoke", n_epochz=3)
    message = str(info.value)
    assert_one_sentence(message, "n_epochz", 3)
    assert "not a parameter of chapter" in message
    for known in profiles.CHAPTERS[chapter]["paper"]:
        assert known in message
    with pytest.raises(ParameterError, match=r"^parameter 'profile' got 'fast', but it must be one of smoke, paper, full\.$"):
        profiles.configure(chapter, "fast")


def test_exact_messages_for_chapter_01() -> None:
    expected = {
        ("H", -5): "parameter 'H' got -5, but it must be an integer ≥ 8 (measured with 4: a non-conservative control, "
                   "the deep sigmoid model, came out path-independent).",
        ("D", 0): "parameter 'D' got 0, but it must be an integer ≥ 2 (a 1 × 1 Jacobian is symmetric whatever the model).",
        ("D", 1): "parameter 'D' got 1, but it must be an integer ≥ 2 (a 1 × 1 Jacobian is symmetric whatever the model).",
        ("n_points", 2.5): "parameter 'n_points' got 2.5, but it must be an integer ≥ 4 (measured with 2 points: a "
                             "non-conservative control looked path-independent).",
        ("seed", -1): "parameter 'seed' got -1, but it must be an integer ≥ 0.",
        ("device", "gpu"): "parameter 'device' got 'gpu', but it must be auto, cpu, cuda or cuda:N.",
        ("device", "cuda:x"): "parameter 'device' got 'cuda:x', but it must be auto, cpu, cuda or cuda:N.",
        ("H_2d", True): "parameter 'H_2d' got True, but it must be a positive integer.",
    }
    for (name, value), message in expected.items():
        with pytest.raises(ParameterError) as info:
            profiles.configure(CHAPTER_01, "smoke", **{name: value})
        assert str(info.value) == message


@pytest.mark.parametrize("chapter", sorted(c for c, t in profiles.CHAPTERS.items()
                                            if {"data_source", "data_root"} <= set(t["paper"])))
def test_the_idx_source_without_a_folder_fails_before_any_data_is_read(chapter: str) -> None:
    with pytest.raises(ParameterError) as info:
        profiles.configure(chapter, "smoke", data_source="idx")
    assert str(info.value) == ("parameter 'data_root' got None, but it must be the folder holding the MNIST IDX "
                               "files when data_source is 'idx'.")
    assert profiles.configure(chapter, "smoke", data_source="idx", data_root="/data/mnist").data_root == "/data/mnist"


def test_asking_for_cuda_without_a_gpu_says_so() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ParameterError, match="no CUDA GPU"):
        profiles.configure(CHAPTER_01, "smoke", device="cuda")


# ----------------------------------------------------------------- ranges as declared
SYNTHETIC = Chapter("synthetic", (
    Param("seed", 0, **SEED),
    Param("epochs", 10, **EPOCHS),
    Param("batch_size", 32, **COUNT),
    Param("lr", 1e-3, **RATE),
    Param("activation", "sigmoid", kind=str, choices=("sigmoid", "relu", "tanh", "softplus", "linear")),
    Param("activations", ["sigmoid", "relu"], many=True, kind=str, choices=("sigmoid", "relu", "tanh", "softplus", "linear")),
    Param("beta", 0.5, **FRACTION),
    Param("betas", [0.0, 0.5, 1.0], many=True, **FRACTION),
    Param("noise", 0.1, **NOISE),
    Param("contraction", 0.0, **WEIGHT),
    Param("data_root", None, **FOLDER),
    Param("tied", False, kind=bool),
    Param("width", 3, kind=int, low=3, why="three points a side"),
))


@pytest.mark.parametrize("name,value,message", [
    ("betas", [0.0, 1.2], "parameter 'betas' got [0.0, 1.2], but it must be a non-empty list whose elements are each a number in [0, 1]."),
    ("betas", [], "parameter 'betas' got [], but it must be a non-empty list."),
    ("betas", 0.5, "parameter 'betas' got 0.5, but it must be a list like [0.0, 0.5, 1.0]."),
    ("beta", -0.1, "parameter 'beta' got -0.1, but it must be a number in [0, 1]."),
    ("beta", "half", "parameter 'beta' got 'half', but it must be a number in [0, 1]."),
    ("lr", 0.0, "parameter 'lr' got 0.0, but it must be a positive number."),
    ("lr", -0.01, "parameter 'lr' got -0.01, but it must be a positive number."),
    ("lr", 11.0, "parameter 'lr' got 11.0, but it must be a positive number ≤ 10."),
    ("lr", math.inf, "parameter 'lr' got inf, but it must be a finite number."),
    ("epochs", 0, "parameter 'epochs' got 0, but it must be a positive integer."),
    ("epochs", 100_001, "parameter 'epochs' got 100001, but it must be a positive integer ≤ 100000."),
    ("batch_size", -32, "parameter 'batch_size' got -32, but it must be a positive integer."),
    ("seed", 2**32, "parameter 'seed' got 4294967296, but it must be an integer in [0, 4294967295]."),
    ("activation", "swish", "parameter 'activation' got 'swish', but it must be one of sigmoid, relu, tanh, softplus, linear."),
    ("activation", 1, "parameter 'activation' got 1, but it must be one of sigmoid, relu, tanh, softplus, linear."),
    ("activations", ["relu", "gelu"], "parameter 'activations' got ['relu', 'gelu'], but it must be a non-empty list whose elements are each one of sigmoid, relu, tanh, softplus, linear."),
    ("noise", -0.1, "parameter 'noise' got -0.1, but it must be a number ≥ 0."),
    ("contraction", 2e4, "parameter 'contraction' got 20000.0, but it must be a number in [0, 10000]."),
    ("data_root", 5, "parameter 'data_root' got 5, but it must be a folder path (a string) or None."),
    ("tied", "yes", "parameter 'tied' got 'yes', but it must be true or false."),
    ("width", 2, "parameter 'width' got 2, but it must be an integer ≥ 3 (three points a side)."),
])
def test_each_kind_of_range_is_refused_in_one_sentence(name: str, value: Any, message: str) -> None:
    with pytest.raises(ParameterError) as info:
        SYNTHETIC.configure("paper", **{name: value})
    assert str(info.value) == message


def test_good_values_pass_and_are_used() -> None:
    cfg = SYNTHETIC.configure("smoke", betas=[0, 1], beta=1, lr=1, noise=0, contraction=0.0, activations=["tanh"],
                              data_root="/data", tied=True, width=3)
    assert cfg.betas == [0, 1] and cfg.lr == 1 and cfg.tied is True and cfg.data_root == "/data"
    assert cfg.profile == "smoke" and cfg.chapter == "synthetic"
    profiles.validate_all()


def test_a_declaration_whose_own_profile_values_are_invalid_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="smoke.*n = 0"):
        Chapter("bad", (Param("n", 3, smoke=0, **COUNT),))
    with pytest.raises(ValueError, match="unique"):
        Chapter("bad", (Param("n", 3, **COUNT), Param("n", 4, **COUNT)))


def test_every_chapter_declares_its_parameters_in_its_folder() -> None:
    for chapter in chapter_keys():
        decl = declaration(chapter)
        assert decl.name == chapter and decl.names, chapter
    for src in pipeline.notebook_sources(ROOT):
        assert pipeline.chapter_name(src) in chapter_keys(), f"{src.name} declares no parameters"
    with pytest.raises(ValueError, match="unknown chapter 'nope'"):
        declaration("nope")


def test_every_notebooks_parameters_cell_is_generated_from_its_declaration() -> None:
    """The cell is what papermill reads (``--help-notebook``); it must list exactly the declared names."""
    assert profiles.sync_cells(ROOT / "notebooks") == [], "run: python -m conservae_lib parameters --write"


def test_each_chapter_reads_its_parameters_through_its_declaration() -> None:
    for src in pipeline.notebook_sources(ROOT):
        text = src.read_text()
        assert "profiles.configure(" not in text, src.name
        own = re.escape(pipeline.chapter_name(src))
        assert re.search(rf"^from conservae_lib\.chapters\.{own} import [^\n]*\bparameters\b", text, re.M), src.name
        assert "cfg = parameters.PARAMETERS.resolve(globals())" in text, src.name


def test_resolve_refuses_a_parameters_cell_that_lacks_a_declared_name() -> None:
    with pytest.raises(ParameterError, match="parameters cell lacks it"):
        SYNTHETIC.resolve({"profile": "smoke", "seed": None})
    namespace = {"profile": "smoke", **{n: None for n in SYNTHETIC.names}, "epochs": 3}
    assert SYNTHETIC.resolve(namespace).epochs == 3


def test_the_library_names_are_the_allowed_choices() -> None:
    from conservae_lib.core import activations
    from conservae_lib.data import mnist
    from conservae_lib.training import trainer

    t1 = profiles.declaration("mnist_symmetricity")
    assert t1.param("data_source").choices == mnist.SOURCES
    assert t1.param("optimizers").choices == trainer.OPTIMIZERS
    assert set(profiles.declaration("curl_2d").param("activation").choices) == set(activations.ACTIVATIONS)


@pytest.mark.parametrize("name,value", [("dae_noise", 0.0), ("contractions", [0.0, 1.0]), ("seed", 0),
                                        ("data_root", "/data/mnist"), ("data_root", None)])
def test_zero_noise_and_zero_penalties_are_allowed(name: str, value: Any) -> None:
    chapter = {"dae_noise": "curl_2d", "contractions": "hodge_2d", "seed": CHAPTER_01}.get(name, "mnist_symmetricity")
    assert profiles.configure(chapter, "smoke", **{name: value})[name] == value


def test_a_name_papermill_injected_but_the_chapter_does_not_know_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulates the kernel's input history after ``papermill -p n_epochz 3``."""
    import IPython

    class Shell:
        user_ns = {"In": ["", "# Parameters (papermill)\nprofile = 'paper'\n",
                          '# Parameters\nprofile = "smoke"\nn_epochz = 3\n']}

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert parameters.injected_parameter_names() == {"profile": "smoke", "n_epochz": 3}
    with pytest.raises(ParameterError, match=r"^parameter 'n_epochz' \(given 3\) is not a parameter of chapter"):
        profiles.configure(CHAPTER_01, "smoke")
    Shell.user_ns = {"In": ["", '# Parameters\nprofile = "smoke"\nH = 9\n']}
    assert profiles.configure(CHAPTER_01, "smoke", H=9).H == 9


def test_the_cli_error_is_one_line_without_traceback() -> None:
    class CellError(Exception):
        ename, evalue = "ParameterError", "parameter 'H' got -5, but it must be a positive integer."

    assert cli._short_error(CellError("long\ntraceback")) == (
        "ParameterError: parameter 'H' got -5, but it must be a positive integer.")
    assert cli._short_error(ParameterError("parameter 'x' got 1, but it must be 2.")) == (
        "parameter 'x' got 1, but it must be 2.")


def test_the_pipeline_checks_overrides_before_any_kernel_starts() -> None:
    one = ["01_conservative_autoencoders"]
    cli.validate_parameters("smoke", one, {"H": 9})
    with pytest.raises(ParameterError, match=r"^parameter 'H' got -1, but it must be an integer ≥ 8 "):
        cli.validate_parameters("smoke", one, {"H": -1})
    with pytest.raises(ParameterError, match=r"^parameter 'n_epochz' \(given 3\) is not a parameter of chapter"):
        cli.validate_parameters("smoke", one, {"n_epochz": 3})
    with pytest.raises(ParameterError, match=r"^parameter 'profile' got 'fast'"):
        cli.validate_parameters("fast", one, {})


def test_an_override_for_several_chapters_reaches_only_those_that_define_it() -> None:
    sources = [s for s in pipeline.notebook_sources(ROOT) if pipeline.chapter_name(s) in profiles.CHAPTERS]
    with_seed = [s for s in sources if "seed" in profiles.CHAPTERS[pipeline.chapter_name(s)]["paper"]]
    without_seed = [s for s in sources if s not in with_seed]
    if not (with_seed and without_seed):
        pytest.skip("needs chapters with and without a seed parameter")
    names = [with_seed[0].stem, without_seed[0].stem]
    cli.validate_parameters("smoke", names, {"seed": 3})
    assert pipeline.chapter_parameters(with_seed[0], {"seed": 3}) == {"seed": 3}
    assert pipeline.chapter_parameters(without_seed[0], {"seed": 3}) == {}
    with pytest.raises(ParameterError, match=r"^parameter 'seed' got -3, but it must be an integer ≥ 0\.$"):
        cli.validate_parameters("smoke", names, {"seed": -3})
    with pytest.raises(ParameterError, match=r"^parameter 'n_epochz' \(given 3\) is not a parameter of any chosen chapter"):
        cli.validate_parameters("smoke", names, {"n_epochz": 3})


# ----------------------------------------------------------------- through real processes
def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, TQDM_DISABLE="1", CONSERVAE_RESULTS=str(tmp_path / "results"))


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (["--profile", "smoke", "-p", "H", "-5"], "error: parameter 'H' got -5, but it must be an integer ≥ 8 (measured "
                                              "with 4: a non-conservative control, the deep sigmoid model, came out "
                                              "path-independent)."),
    (["--profile", "fast"], "error: parameter 'profile' got 'fast', but it must be one of smoke, paper, full."),
])
def test_cli_exits_non_zero_with_the_sentence(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conservae_lib", "run", *args, "--output-dir", str(tmp_path),
         "01_conservative_autoencoders"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not list(tmp_path.glob("*.ipynb"))


@pytest.mark.slow
def test_papermill_exits_non_zero_with_the_sentence(tmp_path: Path) -> None:
    """The real papermill CLI and kernel: a misspelt name fails in the cell after the parameters."""
    import jupytext

    notebook = tmp_path / "chapter01.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / "01_conservative_autoencoders.md"), notebook)
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(notebook), str(tmp_path / "out.ipynb"), "-k", "python3",
         "--cwd", str(ROOT), "--no-progress-bar", "-p", "profile", "smoke", "-p", "n_epochz", "3"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode != 0
    known = ", ".join(["profile", *sorted(profiles.CHAPTERS[CHAPTER_01]["paper"])])
    sentence = ("parameter 'n_epochz' (given 3) is not a parameter of chapter 'conservative_autoencoders'; "
                f"it must be one of {known}.")
    assert sentence in proc.stderr + proc.stdout


def test_report_formats_mean_and_spread_and_missing_values():
    from conservae_lib.presentation import report

    assert report.fmt_pm({"mean": 0.123456, "std": 0.0123}, 3) == "0.123 ± 0.01"
    assert report.fmt_pm({"mean": 0.5, "std": 0.1}, 2, show_sd=False) == "0.5"
    assert report.fmt_pm(None) == "—"
    assert report.fmt(None, missing="—") == "—" and report.fmt(float("nan")) == "n/a"
