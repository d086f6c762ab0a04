"""A training run killed part-way (a real SIGKILL to a real process) resumes from its last
checkpoint and ends with exactly the numbers of an uninterrupted run; damaged checkpoints are
reported by name; a checkpoint written under other settings is not resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.foundations.files import CorruptResultError
from conservae_lib.training.trainer import fit

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 12

#: A small training run. Its metric sleeps (so that the run lasts a few seconds and can be
#: killed in the middle) and draws from the *global* torch RNG, as chapter code may, so the
#: test also checks that the global random state is restored on resume.
SCRIPT = textwrap.dedent(f"""
    import json, sys, time
    import torch
    from conservae_lib import AutoEncoder
    from conservae_lib.training import runtime
    from conservae_lib.training.trainer import fit

    checkpoint, out, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    runtime.seed_everything(0)
    x = torch.rand(256, 20)
    model = AutoEncoder(20, 16, activation="sigmoid", seed=1)

    def metrics(m):
        time.sleep(pause)
        z = torch.rand(8, 20)
        return {{"probe": float(((m(z) - z) ** 2).sum(1).mean())}}

    history = fit(model, x, epochs={EPOCHS}, batch_size=32, lr=0.01, noise=0.05, metrics=metrics, seed=3,
                  device="cpu", progress=False, checkpoint=None if checkpoint == "-" else checkpoint)
    result = {{
        "losses": history.column("loss"), "probes": history.column("probe"), "epochs": history.column("epoch"),
        "params": {{k: v.tolist() for k, v in model.state_dict().items()}},
        "after": torch.rand(4).tolist(), "resumed_from": history.resumed_from,
    }}
    with open(out, "w") as fh:
        json.dump(result, fh)
""")


def _command(script: Path, checkpoint: str, out: Path, pause: float) -> list[str]:
    return [sys.executable, str(script), checkpoint, str(out), str(pause)]


def _env() -> dict[str, str]:
    return dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


@pytest.mark.slow
def test_a_killed_run_resumes_and_ends_with_the_numbers_of_an_uninterrupted_run(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    checkpoint = tmp_path / "run.ckpt"

    # An uninterrupted run without any checkpoint, in parallel (the reference).
    plain_proc = subprocess.Popen(_command(script, "-", tmp_path / "plain.json", 0.0), env=_env(), cwd=tmp_path)

    # 1. Start the run and kill it with SIGKILL once at least one checkpoint exists.
    proc = subprocess.Popen(_command(script, str(checkpoint), tmp_path / "killed.json", 0.25), env=_env(), cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert proc.poll() is None, "the run ended before writing a checkpoint"
        assert time.monotonic() < deadline, "no checkpoint after 120 s"
        time.sleep(0.05)
    time.sleep(0.6)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed.json").exists()
    killed_at = torch.load(checkpoint, weights_only=False)["epoch"]
    assert 1 <= killed_at < EPOCHS

    # 2. Re-run with the same parameters: it resumes from the checkpoint.
    subprocess.run(_command(script, str(checkpoint), tmp_path / "resumed.json", 0.0), env=_env(), cwd=tmp_path,
                   check=True, timeout=120)
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["resumed_from"] == killed_at

    assert plain_proc.wait(timeout=120) == 0
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert plain["resumed_from"] == 0

    assert resumed["epochs"] == plain["epochs"] == list(range(EPOCHS + 1))
    assert resumed["losses"] == plain["losses"]  # exactly, not approximately
    assert resumed["probes"] == plain["probes"]
    assert resumed["params"] == plain["params"]
    assert resumed["after"] == plain["after"]  # the global RNG continues as if never interrupted
    print(f"killed after epoch {killed_at} of {EPOCHS}; final loss {plain['losses'][-1]!r} reproduced exactly")


# ----------------------------------------------------------------- in-process checks
def _data() -> torch.Tensor:
    return torch.rand(64, 6, generator=torch.Generator().manual_seed(0))


def _train(checkpoint: Path | None, epochs: int = 4, lr: float = 0.01, **kw) -> tuple[AutoEncoder, object]:
    model = AutoEncoder(6, 5, activation="tanh", seed=2)
    history = fit(model, _data(), epochs=epochs, batch_size=16, lr=lr, seed=5, device="cpu", progress=False,
                  checkpoint=checkpoint, **kw)
    return model, history


def test_resuming_a_finished_run_returns_the_same_numbers_without_training(tmp_path: Path) -> None:
    ckpt = tmp_path / "c.ckpt"
    model_a, hist_a = _train(ckpt)
    model_b, hist_b = _train(ckpt)
    assert hist_b.resumed_from == 4
    assert hist_b.column("loss") == hist_a.column("loss")
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_checkpoint_written_with_other_settings_is_not_resumed(tmp_path: Path) -> None:
    ckpt = tmp_path / "c.ckpt"
    _train(ckpt, lr=0.05)
    with pytest.warns(UserWarning, match=r"c\.ckpt was written .*lr.*starting over"):
        model_b, hist_b = _train(ckpt, lr=0.01)
    model_c, hist_c = _train(None, lr=0.01)
    assert hist_b.resumed_from == 0
    assert hist_b.column("loss") == hist_c.column("loss")
    assert torch.equal(model_b.W, model_c.W)
    # ...and the checkpoint now belongs to the new settings.
    assert _train(ckpt, lr=0.01)[1].resumed_from == 4


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "not a checkpoint"])
def test_a_damaged_checkpoint_is_reported_by_name(tmp_path: Path, damage: str) -> None:
    ckpt = tmp_path / "damaged.ckpt"
    _train(ckpt)
    data = ckpt.read_bytes()
    if damage == "truncated":
        ckpt.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        ckpt.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        ckpt.write_bytes(b"")
    else:
        torch.save({"weights": torch.zeros(3)}, ckpt)
    with pytest.raises(CorruptResultError) as info:
        _train(ckpt)
    message = str(info.value)
    assert str(ckpt) in message
    assert "delete it" in message
    assert "\n" not in message


def test_a_diverged_run_leaves_no_checkpoint_to_resume_from(tmp_path: Path, capsys) -> None:
    """A run stopped for non-finite values (issue 17, case 2) saves nothing non-finite: re-running
    starts over instead of resuming a broken state."""
    ckpt = tmp_path / "diverged.ckpt"
    x = _data() * 1e3
    model = AutoEncoder(6, 5, activation="linear", seed=2)
    history = fit(model, x, epochs=4, batch_size=16, lr=1e8, optimizer="sgd", seed=5, device="cpu", progress=False,
                  checkpoint=ckpt, checkpoint_every=1)
    assert history.degenerate is not None and history.stopped_at == 1
    assert not ckpt.exists()
    assert capsys.readouterr().err.count("\n") == 1
