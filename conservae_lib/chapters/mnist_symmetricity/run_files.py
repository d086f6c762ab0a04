"""One small result file per finished run, so that long profiles (full MNIST) can be trained in parts.

A run of chapter 04 on full MNIST takes minutes (AE) to hours (CAE) on a CPU. Each finished run writes
``runs/<run name>.json`` beside the chapter's summary (:func:`save_run`): its configuration, settings, seed,
per-epoch records (Figure 2's curves, Table 1's final values), wall time, whether it is degenerate, and the
statistics the chapter otherwise reads off the trained model (:func:`model_statistics`: the hidden units'
pre-activation histogram, curvature-band and active shares and h' spread, the tied baseline of Corollary 1,
and for Figure 1's cell the filters it draws). The ``full`` profile commits these files as they finish; the
chapter then trains only the runs whose file is missing or stale (:func:`train_or_load`).

A file is *fresh* when it was made from the same configuration, settings, seed and data (the checkpoint's
tag, :func:`~conservae_lib.chapters.mnist_symmetricity.empirical.run_tag`) by training code that still produces
the same numbers (:func:`training_canary`: a tiny training run whose results are compared within a tolerance),
so moving code between modules leaves every file fresh, and a change to what training computes makes them all
stale. Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import base64
import functools
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from conservae_lib.data.mnist import MNIST
from conservae_lib.foundations.files import load_json, save_json
from .empirical import GRID, RunResult, RunSpec, Settings, run_tag, train_run
from .symmetry_metrics import hidden_statistics, tied_baseline

__all__ = ["FIGURE1_CELL", "FIGURE1_FILTERS", "RUN_FILE_FORMAT", "CANARY_RTOL", "training_canary", "model_statistics", "save_run",
           "load_run", "fresh_run", "published_runs", "run_statistics", "run_filters", "train_or_load", "BudgetSpent"]

#: The cell whose filters Figure 1 draws, and how many: only its run files carry filters (float16).
FIGURE1_CELL: str = "AE.sigmoid"
FIGURE1_FILTERS: int = 36

#: The layout of a result file; a file of another layout is stale (raise it when :func:`model_statistics` changes).
RUN_FILE_FORMAT: int = 1

#: Relative tolerance within which the canary's numbers must agree for a file to stay fresh (float32
#: rounding differs in the last bits between CPUs; a change to the training code moves them by far more).
CANARY_RTOL: float = 1e-4


@functools.lru_cache(maxsize=1)
def training_canary() -> tuple[float, ...]:
    """What the training code computes, in a few numbers: two tiny runs (a sigmoid AE with the weight-length
    constraint under Adam, a ReLU CAE with eq. (10) under SGD with momentum) of 3 epochs on 40 fixed random
    8 × 8 images, on the CPU; their final loss, sym(∂r/∂x) and ‖W‖_F, ‖R‖_F."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 64, generator=g)
    data = MNIST(x[:32], torch.zeros(32, dtype=torch.long), x[32:], torch.zeros(8, dtype=torch.long), "canary", "canary")
    out: list[float] = []
    for spec, optimizer in ((RunSpec("AE", "sigmoid", True), "adam"), (RunSpec("CAE", "relu", False), "sgd")):
        st = Settings(H=6, epochs=3, batch_size=8, lr=0.01, optimizer=optimizer, cae_weight=0.1, alpha=1.0, n_eval=8,
                      metrics_every=1, checkpoint_every=1, device="cpu", contraction="eq10", weight_decay=0.0)
        with torch.random.fork_rng():
            run = train_run(spec, st, data, seed=0, progress=False)
        out += [run.final("loss"), run.final(), float(run.model.W.detach().norm()), float(run.model.R.detach().norm())]
    return tuple(out)


def _pack(a: torch.Tensor) -> dict[str, Any]:
    arr = a.detach().cpu().numpy().astype(np.float16)
    return {"shape": list(arr.shape), "float16_base64": base64.b64encode(arr.tobytes()).decode()}


def _unpack(d: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(d["float16_base64"]), dtype=np.float16).reshape(d["shape"]).astype(np.float32)


def model_statistics(run: RunResult, x_eval: torch.Tensor) -> dict[str, Any]:
    """What the chapter reads off a trained model, computed at ``x_eval``: :func:`hidden_statistics` (the
    pre-activations as their histogram), the tied baseline (AE runs) and, for :data:`FIGURE1_CELL`, the first
    :data:`FIGURE1_FILTERS` columns of W and R (a degenerate run's too: the chapter shows what it became)."""
    hidden = {k: v for k, v in hidden_statistics(run.model, x_eval).items() if k != "u"}
    out: dict[str, Any] = {"hidden": hidden}
    if run.spec.model == "AE":
        out["tied_sym"] = tied_baseline(run.model, x_eval)
    if run.spec.key == FIGURE1_CELL:
        out["filters"] = {"W": _pack(run.model.W[:, :FIGURE1_FILTERS]), "R": _pack(run.model.R[:, :FIGURE1_FILTERS])}
    return out


def run_statistics(run: RunResult, x_eval: torch.Tensor) -> dict[str, Any]:
    """:func:`model_statistics` of a run: from its model when it has one, else from its file."""
    if run.model is not None:
        return model_statistics(run, x_eval)
    if run.statistics is None:
        raise ValueError(f"run {run.name} has neither a model nor the statistics of its result file.")
    return run.statistics


def run_filters(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """(W, R) of a run, or their first :data:`FIGURE1_FILTERS` columns when it was read from its file."""
    if run.model is not None:
        return run.model.W.detach().cpu().numpy(), run.model.R.detach().cpu().numpy()
    f = (run.statistics or {}).get("filters")
    if f is None:
        raise ValueError(f"the result file of run {run.name} keeps no filters (only {FIGURE1_CELL}'s do).")
    return _unpack(f["W"]), _unpack(f["R"])


def save_run(run: RunResult, folder: str | Path, data: MNIST) -> Path:
    """Write ``<folder>/<run.name>.json``: the run's configuration, settings, seed, records, wall time,
    degeneracy, :func:`model_statistics` at the first ``n_eval`` test images, its tag and the canary."""
    x_eval = data.x_test[: run.settings.n_eval]
    return save_json(Path(folder) / f"{run.name}.json", {
        "config": run.spec.key, "seed": run.seed, "settings": asdict(run.settings), "wall_s": run.wall_s,
        "degenerate": run.degenerate, "failure": run.failure, "records": run.records,
        "tag": run_tag(run.spec, run.settings, data, run.seed), "canary": list(training_canary()),
        "format": RUN_FILE_FORMAT,
        "statistics": model_statistics(run, x_eval)})


def load_run(path: str | Path, spec: RunSpec, settings: Settings) -> RunResult:
    """The run of a result file, without its model (``statistics`` from the file)."""
    d = load_json(path)
    return RunResult(spec, int(d["seed"]), settings, d["records"], None, failure=d.get("failure"),
                     statistics=d["statistics"])


def published_runs(profile: str, epochs: int) -> list[RunResult]:
    """Every run of ``epochs`` epochs (Table 1's length; the ε rule's runs are shorter) whose result file ``profile``
    has published so far (``results/<profile>/mnist_symmetricity/runs``; subfolders such as the data-set check's
    aside), in Table 1's order then by seed, without models; none when it has none."""
    from conservae_lib.presentation.results import results_root

    order = [s.key for s in GRID]
    runs = []
    for path in sorted((results_root() / profile / "mnist_symmetricity" / "runs").glob("*.json")):
        d = load_json(path)
        runs.append(load_run(path, next(s for s in GRID if s.key == d["config"]), Settings(**d["settings"])))
    return sorted((r for r in runs if r.settings.epochs == epochs), key=lambda r: (order.index(r.spec.key), r.seed))


def fresh_run(folder: str | Path, spec: RunSpec, settings: Settings, data: MNIST, seed: int) -> RunResult | None:
    """The run's result file in ``folder`` when it is fresh (same tag and :data:`RUN_FILE_FORMAT`, canary within
    :data:`CANARY_RTOL`), else None."""
    probe = RunResult(spec, seed, settings, [], None)
    path = Path(folder) / f"{probe.name}.json"
    if not path.is_file():
        return None
    d = load_json(path)
    canary = d.get("canary") or []
    if d.get("format") != RUN_FILE_FORMAT or d.get("tag") != run_tag(spec, settings, data, seed) or len(canary) != len(training_canary()) or not all(
            math.isclose(a, b, rel_tol=CANARY_RTOL, abs_tol=1e-7) for a, b in zip(canary, training_canary())):
        return None
    return load_run(path, spec, settings)


class BudgetSpent(RuntimeError):
    """The time budget ended before every run was trained (the finished ones have their files)."""


def _train_and_save(spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str,
                    runs_dir: str) -> None:
    """One run in a worker process: train (resuming from its checkpoint) and write its result file."""
    save_run(train_run(spec, settings, data, seed, checkpoint_dir, progress=False), runs_dir, data)


def train_or_load(jobs: Sequence[tuple[RunSpec, Settings, int]], data: MNIST, checkpoint_dir: str | Path,
                  runs_dir: str | Path, progress: bool = True, workers: int = 1,
                  budget_s: float | None = None) -> list[RunResult]:
    """Each job's run: read from its fresh result file in ``runs_dir``, else trained (checkpointed in
    ``checkpoint_dir``, ``workers`` processes on a CPU) and its file written as soon as it finishes. With
    ``budget_s``, no run starts after that many seconds; runs already started finish, and
    :class:`BudgetSpent` says how many are left (run again to continue)."""
    from conservae_lib.training.pool import run_in_processes
    from conservae_lib.training.progress import progress_bar

    runs_dir, jobs = Path(runs_dir), list(jobs)
    runs_dir.mkdir(parents=True, exist_ok=True)
    found = [fresh_run(runs_dir, s, st, data, seed) for s, st, seed in jobs]
    missing = [j for j, r in zip(jobs, found) if r is None]
    deadline = None if budget_s is None else time.monotonic() + budget_s
    if workers > 1 and len(missing) > 1:
        run_in_processes(_train_and_save, [(s, st, data, seed, str(checkpoint_dir), str(runs_dir))
                                           for s, st, seed in missing], workers, progress=progress, desc="runs",
                         deadline=deadline)
    else:
        for s, st, seed in progress_bar(missing, "runs", progress):
            if deadline is not None and time.monotonic() > deadline:
                break
            save_run(train_run(s, st, data, seed, checkpoint_dir, progress), runs_dir, data)
    out = [r if r is not None else fresh_run(runs_dir, s, st, data, seed) for (s, st, seed), r in zip(jobs, found)]
    left = sum(r is None for r in out)
    if left:
        raise BudgetSpent(f"the time budget ended with {left} of {len(jobs)} runs still to train; their checkpoints "
                          "keep what was done; run the same command again to continue.")
    return out
