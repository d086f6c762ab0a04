"""Devices, seeds and determinism: what the reproducibility page relies on and measures, and
training that diverges stopping with a clear error."""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.chapters.reproducibility import reproducibility
from conservae_lib.chapters.reproducibility import report as reproducibility_report
from conservae_lib.training import runtime
from conservae_lib.training.trainer import DivergenceError, fit


# ----------------------------------------------------------------- devices
def test_auto_picks_cuda_only_when_present() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.select_device("auto").type == expected
    assert runtime.select_device("cpu") == torch.device("cpu")
    assert runtime.select_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "CPU", "", 0, None, "tpu:0"])
def test_an_unknown_device_is_one_clear_sentence(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"^device must be one of auto, cpu, cuda or cuda:N; got {bad!r}\.$"):
        runtime.select_device(bad)  # type: ignore[arg-type]


def test_cuda_without_a_gpu_says_so_instead_of_running_on_the_cpu() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="no CUDA GPU; use device='auto' or 'cpu'"):
        runtime.select_device("cuda:0")


def test_one_label_names_the_device_and_the_machine_records_threads_and_version() -> None:
    import platform

    assert runtime.device_label("cpu") == f"CPU ({os.cpu_count()} cores, {platform.machine()})"
    assert runtime.device_label(torch.device("cpu")) == runtime.device_label()
    info = runtime.machine("cpu")
    assert info == {"device": runtime.device_label("cpu"), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__}
    if torch.cuda.is_available():
        assert runtime.device_label("cuda") == torch.cuda.get_device_name(0)


# ----------------------------------------------------------------- seeds and settings
def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_repeats_every_random_stream_and_sets_deterministic_kernels() -> None:
    runtime.seed_everything(7)
    first = _draws()
    runtime.seed_everything(7)
    assert _draws() == first
    runtime.seed_everything(8)
    assert _draws() != first
    settings = runtime.determinism_settings()
    assert settings["deterministic algorithms"] is True
    assert settings["cuDNN benchmark"] is False
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] in (":4096:8", ":16:8")
    assert settings["CPU threads (intra-op)"] == torch.get_num_threads()


def test_num_threads_restores_the_previous_count() -> None:
    before = torch.get_num_threads()
    with reproducibility.num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="positive integer"):
        with reproducibility.num_threads(0):
            pass


# ----------------------------------------------------------------- measuring differences
def test_agreeing_digits_counts_the_printed_digits_two_numbers_share() -> None:
    assert reproducibility.agreeing_digits(25.2999544, 25.3436483) == 3  # both print as 25.3
    assert reproducibility.agreeing_digits(25.29, 25.36) == 2
    assert reproducibility.agreeing_digits(1.0, 1.0) == 17
    assert reproducibility.agreeing_digits(1.0, 2.0) == 0
    assert reproducibility.agreeing_digits(0.123456, 0.123457) == 5


def _small_runs(**kw) -> reproducibility.Outcome:
    g = torch.Generator().manual_seed(0)
    x, x_eval = torch.rand(40, 12, generator=g), torch.rand(10, 12, generator=g)
    return reproducibility.train_outcome(x, x_eval, H=6, epochs=3, batch_size=10, lr=1e-2, seed=0, **kw)


def test_same_settings_are_bit_identical_and_a_perturbation_is_seen() -> None:
    a, b = _small_runs(), _small_runs()
    same = reproducibility.compare(a, b)
    assert same["identical"] and same["max_param_diff"] == 0 and same["loss_digits"] == 17
    assert reproducibility_report.comparison_row(same)["loss digits shared"] == "all"
    moved = reproducibility.compare(_small_runs(perturb_ulps=1), a)
    assert not moved["identical"] and moved["max_param_diff"] > 0
    double = reproducibility.compare(_small_runs(dtype=torch.float64), a)
    assert not double["identical"]
    # Same initial weights in both precisions: the difference is rounding, not a new draw.
    assert double["rel_param_diff"] < 1e-3
    assert reproducibility_report.format_difference(0.0) == "0"
    assert reproducibility_report.format_difference(1.234e-7) == "1.2e-07"


def test_kernel_check_reports_booleans_for_both_kernels() -> None:
    out = reproducibility.kernel_bitwise_equal((1, 1), n=1 << 12, size=16)
    assert out == {"sum": True, "matmul": True}  # the same thread count always repeats


# ----------------------------------------------------------------- divergence
def test_an_absurd_learning_rate_stops_with_the_epoch_and_the_likely_cause(tmp_path) -> None:
    x = torch.rand(64, 8, generator=torch.Generator().manual_seed(0))
    model = AutoEncoder(8, 6, activation="linear", seed=0)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(DivergenceError) as info:
        fit(model, x, epochs=5, batch_size=16, lr=1e8, optimizer="sgd", device="cpu", progress=False,
            checkpoint=ckpt, on_divergence="raise")
    message = str(info.value)
    assert message.startswith("training diverged at epoch 1: the loss became ")
    assert "learning rate (100000000.0) is probably too large" in message
    assert "try a smaller one" in message
    assert not ckpt.exists()  # nothing non-finite was saved to resume from


def test_divergence_names_the_epoch_in_which_it_happened() -> None:
    """Two good epochs, then the weights are poisoned (by the metrics hook after epoch 2): the
    error names epoch 3, not the first or the last."""
    x = torch.rand(32, 4, generator=torch.Generator().manual_seed(0))
    model = AutoEncoder(4, 3, activation="tanh", seed=0)
    seen: list[int] = []

    def poison_after_two_epochs(m: AutoEncoder) -> dict[str, float]:
        seen.append(len(seen))
        if len(seen) == 3:  # called before training (epoch 0), then after epochs 1 and 2
            m.W.fill_(float("nan"))
        return {}

    with pytest.raises(DivergenceError, match=r"^training diverged at epoch 3: the loss became nan\."):
        fit(model, x, epochs=6, batch_size=32, lr=1e-2, device="cpu", progress=False, metrics=poison_after_two_epochs,
            on_divergence="raise")


# ----------------------------------------------------------------- what a newcomer sees (issue 17, case 6)
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_the_package_declares_its_licence_as_an_spdx_string_and_a_setuptools_that_reads_it() -> None:
    """A table (``license = {text = ...}``) makes setuptools ≥ 77 print a deprecation banner at set-up."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert "setuptools>=77" in meta["build-system"]["requires"]


@pytest.mark.slow
def test_the_tests_show_no_torchscript_deprecation_warning(tmp_path) -> None:
    """torch.func.jvp (fields.jacobian_quadratics_estimate) makes torch script 18 decompositions on
    first use, each warning that torch.jit.script is deprecated; pyproject's filter hides exactly
    those. A fresh pytest process (the decompositions load once per process) must show none."""
    import subprocess
    import sys

    test = tmp_path / "test_jvp.py"
    test.write_text("import torch\n"
                    "def test_jvp():\n"
                    "    torch.func.jvp(lambda z: z * z, (torch.ones(3),), (torch.ones(3),))\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c",
                           str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), str(test)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "jit.script" not in proc.stdout + proc.stderr
    assert "warning" not in proc.stdout.lower()
