"""The runs behind Table 1 and Figures 1–2: one untied auto-encoder trained on MNIST, and what it records.

The experiment of the paper's section *Empirical conservativeness*: train untied one-layer
auto-encoders (eq. 1) with H hidden units on MNIST — plain squared-error auto-encoders (AE) and
contractive ones (CAE), sigmoid and ReLU, with and without the weight-length constraint
‖W_{·k}‖² = α (footnote 4) — and follow during training

* sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²_F / ‖J‖²_F with J = R D_h'(x) Wᵀ (Proposition 2), averaged over
  held-out points (Table 1, Figures 2a/2c), and
* sym(R Wᵀ), the symmetricity of the weight product (Figures 2b/2d, section *Symmetricity of
  weights product*).

Both come from the same three H × H Gram matrices (:mod:`conservae_lib.chapters.mnist_symmetricity.symmetry_metrics`), so no
D × D Jacobian is formed. Where ‖∂r/∂x‖_F ≈ 0 (saturated sigmoids, dead ReLUs) sym is undefined
(NaN), and a run whose Jacobian vanishes at most held-out points, or whose loss is not finite, is
*degenerate* (:attr:`RunResult.degenerate`): its cells are not tested, never scored.

This module holds the runs: a configuration (:class:`RunSpec`, :data:`GRID`), its settings
(:class:`Settings`; the CAE penalty ``contraction="eq10"``, ε‖∂r/∂x‖²_F of eq. (10), primary, or
``"rifai"``, λ‖∂h/∂x‖²_F), one checkpointed run (:func:`train_run`, re-running resumes with identical
numbers) and many (:func:`train_runs`, a process pool). The rest of the chapter's machinery:
``table1_jobs`` (the runs a profile asks for, and the command line), ``table1`` (Table 1, baselines,
sensitivity, the ledger's inputs), ``readings`` (ε of eq. (10), Rifai's penalty, the optimiser),
``table1_report`` and ``table1_figures`` (its tables and figures). Chapter: *Empirical
conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from conservae_lib.data.mnist import MNIST
from conservae_lib.core.models import AutoEncoder
from conservae_lib.training.optimizers import OPTIMIZERS
from conservae_lib.training.progress import progress_bar
from .symmetry_metrics import filter_cosines, symmetricity_metrics
from conservae_lib.training.trainer import DivergenceError, fit, renormalize_columns

Tensor = torch.Tensor

__all__ = [
    "RunSpec", "Settings", "RunResult", "GRID", "CONTRACTIONS", "paper_table1",
    "run_tag", "train_run", "train_runs",
]


#: The CAE penalties: ``eq10`` = ε‖∂r/∂x‖²_F (the paper's eq. 10, primary), ``rifai`` = λ‖∂h/∂x‖²_F.
CONTRACTIONS: tuple[str, ...] = ("eq10", "rifai")

#: A run is degenerate when its Jacobian vanishes at more than this fraction of the held-out points.
DEGENERATE_FRACTION: float = 0.5

#: A run did not fit when its held-out reconstruction error is not below this fraction of the error
#: of predicting the mean training image (a network that collapsed to a constant output).
NOT_FITTED_RATIO: float = 0.9


def paper_table1() -> dict[str, float]:
    """The paper's Table 1 (fractions) by configuration key, read from the claim ledger (the one
    place where the paper's numbers are typed)."""
    from conservae_lib.claims import ledger

    return {s.key: float(ledger.claim(f"table1.{s.key}").paper) for s in GRID}


@dataclass(frozen=True)
class RunSpec:
    """One cell of Table 1: ``model`` AE or CAE, the activation, weight-length constraint or not."""

    model: str
    activation: str
    weight_length: bool

    def __post_init__(self) -> None:
        if self.model not in ("AE", "CAE"):
            raise ValueError(f"model must be AE or CAE; got {self.model!r}.")
        if self.activation not in ("sigmoid", "relu"):
            raise ValueError(f"activation must be sigmoid or relu; got {self.activation!r}.")

    @property
    def key(self) -> str:
        """``AE.relu``, ``CAE.sigmoid_wl`` …: the claim id without ``table1.``."""
        return f"{self.model}.{self.activation}{'_wl' if self.weight_length else ''}"

    @property
    def column(self) -> str:
        """The paper's column heading (ReLU, ReLU+wl, sig., sig.+wl)."""
        base = "ReLU" if self.activation == "relu" else "sig."
        return base + ("+wl" if self.weight_length else "")


#: The eight configurations of Table 1, in the paper's order (rows AE, CAE; columns left to right).
GRID: tuple[RunSpec, ...] = tuple(
    RunSpec(m, a, wl) for m in ("AE", "CAE") for a, wl in (("relu", False), ("relu", True), ("sigmoid", False), ("sigmoid", True))
)


@dataclass(frozen=True)
class Settings:
    """Training hyper-parameters shared by every run (the paper does not give them; we chose them). Every field
    is required: the values come from the chapter's declaration (``parameters.py``) through
    :func:`~conservae_lib.chapters.mnist_symmetricity.table1_jobs.settings_from`.

    ``cae_weight`` is the CAE strength (used only by CAE runs): ε of ε‖∂r/∂x‖²_F (eq. 10) when
    ``contraction="eq10"``, λ of Rifai's λ‖∂h/∂x‖²_F when ``"rifai"``; ``alpha`` the squared
    filter length of the weight-length constraint (used only by ``+wl`` runs), ``n_eval`` the
    number of held-out images at which sym(∂r/∂x) is averaged; ``optimizer`` one of
    ``training.OPTIMIZERS`` (``sgd`` has momentum 0.9, ``sgd_plain`` none); ``weight_decay`` λ of an L2
    penalty λ(‖W‖²_F + ‖R‖²_F) (0 in every run but the study of what it takes to reach Table 1).
    """

    H: int
    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    cae_weight: float
    alpha: float
    n_eval: int
    metrics_every: int
    checkpoint_every: int
    device: str
    contraction: str
    weight_decay: float

    def __post_init__(self) -> None:
        if self.contraction not in CONTRACTIONS:
            raise ValueError(f"parameter 'contraction' got {self.contraction!r}, but it must be one of {', '.join(CONTRACTIONS)}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"parameter 'optimizer' got {self.optimizer!r}, but it must be one of {', '.join(OPTIMIZERS)}.")
        for name in ("H", "epochs", "batch_size", "n_eval", "metrics_every", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"parameter {name!r} got {v!r}, but it must be a positive integer.")
        for name in ("lr", "cae_weight", "alpha"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"parameter {name!r} got {v!r}, but it must be a positive number.")
        if not (isinstance(self.weight_decay, (int, float)) and math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"parameter 'weight_decay' got {self.weight_decay!r}, but it must be a number ≥ 0.")


@dataclass
class RunResult:
    """A finished run: its configuration, seed, per-epoch records and the trained model (CPU); a run read
    from its result file (:mod:`~conservae_lib.chapters.mnist_symmetricity.run_files`) has no model but the
    ``statistics`` the chapter reads off one."""

    spec: RunSpec
    seed: int
    settings: Settings
    records: list[dict[str, Any]]
    model: AutoEncoder | None = field(repr=False)
    resumed_from: int = 0
    failure: str | None = None  # why training stopped early (a non-finite loss), else None
    statistics: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """A file name for this run: configuration, optimiser, learning rate, penalty, seed, epochs."""
        st = self.settings
        pen = f"_{st.contraction}{st.cae_weight:g}" if self.spec.model == "CAE" else ""
        pen += f"_wd{st.weight_decay:g}" if st.weight_decay else ""
        return f"{self.spec.key}_{st.optimizer}{st.lr:g}{pen}_seed{self.seed}_ep{st.epochs}"

    @property
    def wall_s(self) -> float:
        """Training wall time in seconds (metrics excluded; summed over resumed sessions)."""
        return float(self.records[-1].get("train_time_s", 0.0)) if self.records else 0.0

    @property
    def degenerate(self) -> str | None:
        """Why this run cannot be scored (one sentence), or None when it can: training stopped on a
        non-finite loss; the model did not fit (held-out reconstruction error not below
        :data:`NOT_FITTED_RATIO` × that of predicting the mean image); or at the end ‖∂r/∂x‖_F ≈ 0
        at most held-out points (saturated sigmoids, dead ReLUs), where the symmetricity is undefined."""
        if self.failure:
            return self.failure
        if not self.records:
            return "the run recorded nothing"
        last = self.records[-1]
        if "loss" in last and not math.isfinite(float(last["loss"])):
            return f"the training loss is not finite at epoch {last['epoch']}"
        rec, trivial = last.get("rec_err"), last.get("rec_trivial")
        if rec is not None and trivial and not rec < NOT_FITTED_RATIO * trivial:
            return (f"{self.spec.key} seed {self.seed}: the model did not learn to reconstruct (held-out error {rec:.3g}, "
                    f"as large as the {trivial:.3g} of predicting the mean image)")
        frac = float(last.get("degenerate_frac", 0.0))
        if frac > DEGENERATE_FRACTION or not math.isfinite(float(last.get("jac_sym", float("nan")))):
            return (f"{self.spec.key} seed {self.seed}: ‖∂r/∂x‖_F ≈ 0 at {100 * frac:.0f} % of the held-out points "
                    "after training (saturated or dead hidden units), so its symmetricity is undefined")
        return None

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a metric over the records that carry it."""
        rows = [r for r in self.records if key in r]
        return np.array([r["epoch"] for r in rows]), np.array([r[key] for r in rows], dtype=float)

    def final(self, key: str = "jac_sym") -> float:
        """The metric's last recorded value (NaN when the run recorded none)."""
        v = self.series(key)[1]
        return float(v[-1]) if len(v) else float("nan")

    def at_epoch(self, key: str, epoch: int) -> float | None:
        for r in self.records:
            if r["epoch"] == epoch and key in r:
                return float(r[key])
        return None


# ----------------------------------------------------------------------------- training
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def run_tag(spec: RunSpec, settings: Settings, data: MNIST, seed: int) -> str:
    """A digest of what a run computes from: its configuration, the settings it uses (not the device; an AE
    not the CAE penalty; no weight decay: the tag it had before the weight-decay study), seed and data."""
    unused = {"device"} | ({"cae_weight", "contraction"} if spec.model == "AE" else set())
    unused |= set() if settings.weight_decay else {"weight_decay"}
    return _digest({"spec": asdict(spec), "settings": {k: v for k, v in asdict(settings).items() if k not in unused},
                    "seed": seed, "data": data.description, "source": data.source})


def train_run(
    spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str | Path | None = None,
    progress: bool = True,
) -> RunResult:
    """Train one configuration with one seed (initialisation and batch order both from ``seed``).

    Metrics (:func:`~conservae_lib.chapters.mnist_symmetricity.symmetry_metrics.symmetricity_metrics` on the first ``n_eval``
    test images, their reconstruction error ``rec_err`` and the mean filter cosine) are recorded at
    epoch 0, every ``metrics_every`` epochs and at the end, besides the loss and the training wall time that
    :func:`~conservae_lib.training.trainer.fit` records. A CAE run adds ε‖∂r/∂x‖²_F (eq. 10) or
    λ‖∂h/∂x‖²_F (``settings.contraction``). With ``checkpoint_dir`` the run is checkpointed under
    a name that encodes the configuration, settings, seed and data, so a re-run resumes (or, when
    finished, just reloads) and gives the same numbers. A run whose loss becomes non-finite is
    returned with ``failure`` set (see :attr:`RunResult.degenerate`), not raised.
    """
    model = AutoEncoder(data.x_train.shape[1], settings.H, spec.activation, tied=False, seed=seed)
    if spec.weight_length:
        renormalize_columns(model, settings.alpha)  # start on the constraint set
    x_eval = data.x_test[: settings.n_eval]
    ckpt = None if checkpoint_dir is None else (
        Path(checkpoint_dir) / f"{spec.key}_seed{seed}_{run_tag(spec, settings, data, seed)}.pt")
    cae = spec.model == "CAE"
    trivial = float(((x_eval - data.x_train.mean(dim=0)) ** 2).sum(dim=1).mean())  # predicting the mean image
    try:
        history = fit(
            model, data.x_train, epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
            optimizer=settings.optimizer,
            contraction=settings.cae_weight if cae and settings.contraction == "eq10" else 0.0,
            encoder_contraction_weight=settings.cae_weight if cae and settings.contraction == "rifai" else 0.0,
            weight_length=settings.alpha if spec.weight_length else None, weight_decay=settings.weight_decay,
            metrics=lambda m: _run_metrics(m, x_eval, trivial), metrics_every=settings.metrics_every,
            seed=seed, device=settings.device, progress=progress, desc=f"{spec.key} seed {seed}",
            checkpoint=ckpt, checkpoint_every=settings.checkpoint_every,
        )
    except DivergenceError as err:
        model.to("cpu")
        return RunResult(spec, seed, settings, [], model, 0, failure=str(err).split(". ")[0] + ".")
    model.to("cpu")
    return RunResult(spec, seed, settings, history.records, model, history.resumed_from)


def _run_metrics(model: AutoEncoder, x_eval: Tensor, trivial: float) -> dict[str, float]:
    x = x_eval.to(model.W.device, model.W.dtype)
    rec = float(((model(x) - x) ** 2).sum(dim=1).mean())
    return {**symmetricity_metrics(model, x), "rec_err": rec, "rec_trivial": trivial,
            "filter_cos": float(filter_cosines(model).mean())}


def _train_job(spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str) -> None:
    """One run in a worker process; its result reaches the parent through the checkpoint."""
    train_run(spec, settings, data, seed, checkpoint_dir, progress=False)


def train_runs(
    jobs: Sequence[tuple[RunSpec, Settings, int]], data: MNIST, checkpoint_dir: str | Path | None = None,
    progress: bool = True, workers: int = 1,
) -> list[RunResult]:
    """:func:`train_run` for each (configuration, settings, seed) of ``jobs``, in order.

    With ``workers`` > 1, a checkpoint folder and a CPU device, the runs are first trained in a pool of
    ``workers`` processes with ``torch.get_num_threads() // workers`` threads each
    (:func:`conservae_lib.training.pool.run_in_processes`: several small single-threaded trainings use a CPU's
    cores better than one run with all threads; the performance appendix measures it), then every run is read
    back from its finished checkpoint. The numbers are those of a run with that many threads; a GPU, or
    ``workers=1``, trains the runs one after another in this process.
    """
    from conservae_lib.training.pool import check_workers, run_in_processes
    from conservae_lib.training.runtime import select_device

    check_workers(workers)
    jobs = list(jobs)
    if workers > 1 and len(jobs) > 1 and checkpoint_dir is not None and all(
            select_device(st.device).type == "cpu" for _, st, _ in jobs):
        run_in_processes(_train_job, [(s, st, data, seed, str(checkpoint_dir)) for s, st, seed in jobs], workers,
                         progress=progress, desc="runs")
    jobs_it = progress_bar(jobs, "runs", progress)
    return [train_run(s, st, data, seed, checkpoint_dir, progress) for s, st, seed in jobs_it]
