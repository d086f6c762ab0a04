"""The bad-input table (issue 17): what a hostile user types, and the one sentence each gets.

Every row is (chapter, parameter, value, a fragment the message must contain). The rows go
through :func:`conservae_lib.tooling.profiles.configure` under the published ``paper`` profile (fast: no
kernel starts); a few go end to end through ``python -m conservae_lib run`` to show that the
message is one line, names the parameter and ends the command with a non-zero status before any
chapter runs. The cases numbered in issue 17 are marked ``# issue 17.N``.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conservae_lib.tooling import cli, profiles
from conservae_lib.foundations import limits
from conservae_lib.foundations.parameters import ParameterError

ROOT = Path(__file__).resolve().parents[2]
INF = math.inf
HUGE = 10**7  # D or H of ten million: D × D alone is hundreds of TiB

C01, C02, C03, C04 = "conservative_autoencoders", "sufficient_condition", "local_conservativeness", "mnist_symmetricity"
C05, C06, C07 = "curl_2d", "hodge_2d", "mnist_conservative_part"
C90, C91, C92 = "scorecard", "performance", "reproducibility"

MEMORY = "of memory"  # the memory refusal names the estimate and what is free
BAD_INPUTS: list[tuple[str, str, Any, str]] = [
    # chapter 01 — Propositions 1–2
    (C01, "D", 1, "integer ≥ 2"),                       # issue 17.3: IndexError before
    (C01, "D", 0, "integer ≥ 2"),
    (C01, "D", HUGE, MEMORY),                           # issue 17.3: raw allocator error after 52 s before
    (C01, "H", HUGE * 10, MEMORY),
    (C01, "H", -5, "integer ≥ 8"),
    (C01, "H", 4, "integer ≥ 8 (measured with 4"),       # issue 28 sweep: an AssertionError inside the kernel before
    (C01, "n_loops", 1, "integer ≥ 4"),                  # issue 28 sweep: an AssertionError inside the kernel before
    (C02, "H", 1, "integer ≥ 4"),                        # issue 28 sweep: an IndexError inside the kernel before
    (C02, "n_points", 1, "integer ≥ 16"),                # issue 28 sweep: an AssertionError inside the kernel before
    (C05, "half_width", 1e-6, "number ≥ 0.8"),           # issue 28 sweep: "no grid point lies within near_radius"
    (C05, "near_radius", 1e-6, "at least the grid spacing"),
    (C05, "grid_n", 5, "near_radius (0.1) must be at least the grid spacing 2·half_width/(grid_n − 1) = 0.6"),
    (C01, "n_points", 2.5, "integer ≥ 4"),
    (C01, "seed", -1, "integer ≥ 0"),
    (C01, "seed", 2**40, "[0, 4294967295]"),
    (C01, "device", "gpu", "auto, cpu, cuda or cuda:N"),
    (C01, "H_2d", True, "positive integer"),
    (C01, "D_2d", 3, "[2, 2]"),                         # issue 28: a shape error inside the kernel before
    (C01, "n_points", 2, "integer ≥ 4"),                # issue 28: an AssertionError naming nothing before
    # chapter 02 — eq. (8)
    (C02, "n_deltas", 1, "integer ≥ 3"),                # issue 17.3: AssertionError before
    (C02, "n_deltas", 2, "integer ≥ 3"),
    (C02, "D", HUGE, MEMORY),
    (C02, "n_loops", 0, "positive integer"),
    (C02, "n_recover", "ten", "integer"),
    (C02, "D", 2, "integer ≥ 3 (measured at D = 2"),    # issue 28: an AssertionError inside the kernel before
    # chapter 03 — Proposition 3
    (C03, "noise", -INF, "finite number"),              # issue 17.3: an argparse error before (CLI below)
    (C03, "noise", 100.0, "positive number ≤ 10"),
    (C03, "noise", -0.1, "positive number"),
    (C03, "noise", 0.0, "positive number"),              # issue 28 sweep: "radius and noise must be positive" before
    (C03, "noise", 10.0, "must exceed √2 × noise"),      # issue 28 sweep: "no ridge" inside the kernel before
    (C03, "radius", 1e-6, "must exceed √2 × noise"),
    (C03, "epochs", 100_000_000, "≤ 100000"),           # issue 17.3: ran until killed before
    (C03, "strengths", [0.1, -1], "elements"),
    (C03, "strengths", [1e9], "≤ 10000"),
    (C03, "activation", "swish", "one of"),
    (C03, "seeds", [], "non-empty list"),
    (C03, "baseline", "yes", "true or false"),
    (C03, "radius", math.nan, "finite number"),
    (C03, "seeds", [0, 0], "0 is given twice"),        # issue 28.2: two seeds' worth of one run scored before
    (C03, "hidden", 1, "integer ≥ 2 (one unit gives a rank-one Jacobian"),  # issue 28.3: real eigenvalues "reproduced"
    # chapter 04 — Table 1, Figures 1–2
    (C04, "n_train", 100_000, "at most 4000"),          # issue 17.3: silently became 4,000 before
    (C04, "n_test", 5000, "at most 1000"),
    (C04, "n_eval", 5000, "at most n_test = 1000"),     # issue 17.3: ran on fewer images before
    (C04, "lrs", [1e-3, 1e6], "≤ 10"),                  # issue 17.2: saturated sigmoids scored before
    (C04, "lrs", [0.0], "positive number"),
    (C04, "epochs", 100_000_000, "≤ 100000"),
    (C04, "H", HUGE * 100, MEMORY),
    (C04, "alpha", 1e9, "≤ 10000"),
    (C04, "data_source", "ftp", "one of"),
    (C04, "data_root", 5, "folder"),
    (C04, "batch_size", 0, "positive integer"),
    (C04, "optimizers", ["adam", "rmsprop"], "one of"),
    (C04, "n_seeds", -3, "positive integer"),
    # chapter 05 — Figure 3
    (C05, "lr", 1e10, "≤ 10"),                          # issue 17.2: a dead network scored before
    (C05, "grid_n", 100_000, MEMORY),                   # issue 17.3: asked for 74.5 GiB before
    (C05, "epochs", 100_000_000, "≤ 100000"),
    (C05, "dae_noise", 1e3, "[0, 10]"),
    (C05, "data_noise", INF, "finite number"),
    (C05, "datasets", ["line", "moon"], "one of"),
    (C05, "hidden", 0, "positive integer"),
    (C05, "seed", -7, "≥ 0"),
    (C05, "seeds", [2, 1, 2], "2 is given twice"),
    (C05, "grid_n", 3, "integer ≥ 5"),                  # issue 28: "no grid point lies within near_radius" before
    # chapter 06 — Figure 4
    (C06, "n_train", 1, "integer ≥ 3"),                 # issue 17.3: an error naming `n` before
    (C06, "n_grid", 2, "integer ≥ 3"),
    (C06, "n_grid", 1_000_000, MEMORY),
    (C06, "contractions", [0.1, 1e9], "[0, 10000]"),
    (C06, "hidden", -1, "positive integer"),
    (C06, "seeds", [0, 1, 1], "1 is given twice"),
    # chapter 07 — Algorithm 1, Table 2, Figure 5
    (C07, "n_train", 5000, "at most 4000"),
    (C07, "n_test", 2000, "at most 1000"),
    (C07, "betas", [0.0, 1.5], "[0, 1]"),
    (C07, "lr", 1e10, "≤ 10"),
    (C07, "mnist_epochs", 10**9, "≤ 100000"),
    (C07, "H", HUGE * 100, MEMORY),
    (C07, "corruption_level", 2.0, "[0, 1]"),
    (C07, "activation", "gelu", "one of"),
    (C07, "seeds", [0, 0], "0 is given twice"),
    (C07, "quadrature_nodes", 1, "integer ≥ 8"),        # issue 28: an AssertionError ('tied', 0.0) before
    (C07, "n_eval_points", 1, "integer ≥ 50"),          # issue 28 sweep: an AssertionError (errors ~1e26) before
    # the appendices
    (C90, "results_profile", "fast", "smoke, paper, full"),
    (C91, "D", HUGE, MEMORY),
    (C91, "chunk_size", 0, "positive integer"),
    (C91, "deep_sizes", [5], "at least three sizes [D, …, D]"),  # issue 28: a ValueError inside the kernel before
    (C92, "n_train", 5000, "at most 4000"),
    (C92, "n_eval", 2000, "at most 1000"),
    (C92, "lr", 100.0, "≤ 10"),
    (C92, "threads", [1, 0], "elements"),
]


def test_the_table_has_sixty_cases_across_every_chapter() -> None:
    assert len(BAD_INPUTS) >= 60
    assert {c for c, *_ in BAD_INPUTS} == set(profiles.CHAPTERS)


@pytest.mark.parametrize("chapter,name,value,fragment", BAD_INPUTS,
                         ids=[f"{c}-{n}={v!r}" for c, n, v, _ in BAD_INPUTS])
def test_each_bad_input_is_refused_in_one_sentence_naming_the_parameter(chapter: str, name: str, value: Any,
                                                                        fragment: str) -> None:
    assert name in profiles.CHAPTERS[chapter]["paper"], f"{chapter} has no parameter {name!r} any more"
    with pytest.raises(ParameterError) as info:
        profiles.configure(chapter, "paper", **{name: value})
    message = str(info.value)
    assert message.startswith(f"parameter {name!r} got {value!r}, but ")
    assert "\n" not in message and message.endswith(".")
    assert fragment in message


def test_the_memory_refusal_names_the_estimate_and_what_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 16 * 2**30)
    with pytest.raises(ParameterError) as info:
        profiles.configure(C05, "paper", grid_n=30_000)
    assert str(info.value) == ("parameter 'grid_n' got 30000, but this run would need at least 342 GiB of memory "
                               "(the grid_n² grid points and every data set's n_samples points, each with its 2 "
                               "coordinates and its hidden activities, in float32) and this machine has 16 GiB "
                               "available.")
    # the same run fits a machine with more memory: the bound is the machine's, not a fixed one
    monkeypatch.setattr(limits, "available_memory", lambda: 512 * 2**30)
    assert profiles.configure(C05, "paper", grid_n=30_000).grid_n == 30_000


@pytest.mark.parametrize("chapter, name, value", [
    (C01, "n_points", 10**7), (C05, "n_samples", 10**9), ("mnist_conservative_part", "quadrature_nodes", 10**7),
])
def test_the_memory_estimate_counts_every_size_that_costs_memory(monkeypatch, chapter, name, value) -> None:
    """Issue 28: the estimate ignored n_points (01), n_samples (05) and quadrature_nodes (07)."""
    monkeypatch.setattr(limits, "available_memory", lambda: 16 * 2**30)
    with pytest.raises(ParameterError, match=rf"^parameter '{name}' got {value}, but this run would need"):
        profiles.configure(chapter, "paper", **{name: value})


def test_the_memory_refusal_blames_the_override_not_the_largest_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 2**30)
    with pytest.raises(ParameterError, match=r"^parameter 'D' got 100000, "):
        profiles.configure(C01, "paper", D=100_000)


@pytest.mark.parametrize("chapter", sorted(profiles.CHAPTERS))
def test_every_profile_of_every_chapter_is_accepted(chapter: str) -> None:
    """The bounds refuse only what cannot run: each published table passes them."""
    for profile in profiles.PROFILES:
        profiles.configure(chapter, profile)


def test_good_values_at_the_bounds_pass() -> None:
    assert profiles.configure(C05, "paper", lr=10.0, dae_noise=10.0, epochs=100_000, seed=2**32 - 1).lr == 10.0
    assert profiles.configure(C04, "paper", n_train=4000, n_test=1000, n_eval=1000).n_train == 4000
    assert profiles.configure(C04, "paper", data_source="torchvision", n_train=60000, n_test=10000).n_test == 10000
    assert profiles.configure(C01, "smoke", D=2).D == 2
    assert profiles.configure(C06, "smoke", n_train=3, n_grid=3).n_grid == 3


def test_profile_and_chapter_cannot_be_overridden_as_parameters() -> None:
    one = ["01_conservative_autoencoders"]
    with pytest.raises(ParameterError, match=r"^parameter 'chapter' \(given 'x'\) is set by the pipeline"):
        cli.validate_parameters("smoke", one, {"chapter": "x"})
    with pytest.raises(ParameterError, match=r"^parameter 'profile' \(given 'paper'\) is chosen with --profile"):
        cli.validate_parameters("smoke", one, {"profile": "paper"})


# ----------------------------------------------------------------- end to end, through the CLI
CLI_CASES = [
    ("01_conservative_autoencoders", "smoke", ["-p", "D", "1"], "error: parameter 'D' got 1, but it must be an integer ≥ 2"),
    ("02_sufficient_condition", "smoke", ["-p", "n_deltas", "1"], "error: parameter 'n_deltas' got 1, "),
    ("03_local_conservativeness", "smoke", ["-p", "noise", "-Infinity"],
     "error: parameter 'noise' got -inf, but it must be a finite number."),
    ("04_mnist_symmetricity", "paper", ["-p", "n_eval", "5000"],
     "error: parameter 'n_eval' got 5000, but it must be at most n_test = 1000, the held-out images loaded."),
    ("04_mnist_symmetricity", "smoke", ["-p", "n_train", "100000"], "error: parameter 'n_train' got 100000, "),
    ("05_curl_2d", "smoke", ["-p", "epochs", "100000000"], "error: parameter 'epochs' got 100000000, "),
    ("05_curl_2d", "smoke", ["-p", "grid_n", "100000"], "error: parameter 'grid_n' got 100000, but this run would need"),
    ("05_curl_2d", "smoke", ["-p", "lr", "1e10"], "error: parameter 'lr' got 10000000000.0, but it must be a positive number ≤ 10."),
    ("06_hodge_2d", "smoke", ["-p", "n_train", "1"], "error: parameter 'n_train' got 1, but it must be an integer ≥ 3"),
    ("01_conservative_autoencoders", "smoke", ["-p", "profile", "paper"],
     "error: parameter 'profile' (given 'paper') is chosen with --profile, not -p; run with --profile paper instead."),
]


@pytest.mark.slow
@pytest.mark.parametrize("chapter,profile,args,start", CLI_CASES, ids=[" ".join(a) for _, _, a, _ in CLI_CASES])
def test_the_cli_refuses_in_one_line_with_a_non_zero_status(tmp_path: Path, chapter: str, profile: str,
                                                            args: list[str], start: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conservae_lib", "run", "--profile", profile, *args, "--output-dir", str(tmp_path),
         chapter],
        cwd=ROOT, env=dict(os.environ, TQDM_DISABLE="1"), capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode != 0
    assert proc.stdout == ""  # refused before any chapter started
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
    assert not list(tmp_path.rglob("*.ipynb")) and not list(tmp_path.rglob("summary.json"))


@pytest.mark.slow
def test_check_refuses_an_unknown_profile_in_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "conservae_lib", "check", "--profile", "smok"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "error: parameter 'profile' got 'smok', but it must be one of smoke, paper, full.\n"


# ----------------------------------------------------------------- published files: written by the published run alone
from conservae_lib.tooling import pipeline
from conservae_lib.presentation import results  # noqa: E402


@pytest.mark.parametrize("folder", [".", "", "book/notebooks", "book", "results", "results/paper",
                                    "results/full/mnist_conservative_part", "results/device"])
def test_a_variant_may_not_write_into_or_over_a_published_folder(folder: str, monkeypatch) -> None:
    """Issue 28.1: `--output-dir .` (or '', or book/notebooks …) rewrote published summaries and pages."""
    monkeypatch.chdir(ROOT)
    with pytest.raises(pipeline.PublishedFolderError, match="published folder"):
        pipeline.run("paper", ["01_conservative_autoencoders"], Path(folder), root=ROOT)


def test_a_symlink_to_the_repository_is_seen_through(tmp_path: Path) -> None:
    link = tmp_path / "repo"
    link.symlink_to(ROOT)
    with pytest.raises(pipeline.PublishedFolderError, match="contains the published folder"):
        pipeline.run("smoke", ["01_conservative_autoencoders"], link, extra={"seed": 3}, root=ROOT)
    with pytest.raises(pipeline.PublishedFolderError, match="is the published folder|is the published"):
        pipeline.check_variant_folder(link / "book" / "notebooks", ROOT)
    pipeline.check_variant_folder(tmp_path / "elsewhere", ROOT)  # a harmless folder passes
    pipeline.check_variant_folder(ROOT / ".tmp" / "try", ROOT)


def test_only_the_published_run_writes_the_repositorys_published_summaries(monkeypatch) -> None:
    """Issue 28.1: papermill on a committed notebook with -p profile paper rewrote results/paper."""
    monkeypatch.setenv("CONSERVAE_RESULTS", str(ROOT / "results"))
    monkeypatch.delenv(pipeline.PUBLISH_ENV, raising=False)
    for profile in results.PUBLISHED_PROFILES:
        assert results.summary_dir("curl_2d", profile) == ROOT / "results" / "unpublished" / profile / "curl_2d"
    assert results.summary_dir("curl_2d", "smoke") == ROOT / "results" / "smoke" / "curl_2d"
    monkeypatch.setenv(pipeline.PUBLISH_ENV, "1")
    assert results.summary_dir("curl_2d", "paper") == ROOT / "results" / "paper" / "curl_2d"


def test_elsewhere_a_chapter_run_by_hand_writes_its_profile_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    monkeypatch.delenv(pipeline.PUBLISH_ENV, raising=False)
    assert results.summary_dir("curl_2d", "paper") == tmp_path / "paper" / "curl_2d"
