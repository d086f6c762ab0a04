"""Empirical conservativeness of untied auto-encoders on MNIST: Table 1, Figures 1–2.

The experiment of the paper's section *Empirical conservativeness*: train untied one-layer
auto-encoders (eq. 1) with H hidden units on MNIST — plain squared-error auto-encoders (AE) and
contractive ones (CAE), sigmoid and ReLU, with and without the weight-length constraint
‖W_{·k}‖² = α (footnote 4) — and follow during training

* sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²_F / ‖J‖²_F with J = R D_h'(x) Wᵀ (Proposition 2), averaged over
  held-out points (Table 1, Figures 2a/2c), and
* sym(R Wᵀ), the symmetricity of the weight product (Figures 2b/2d, section *Symmetricity of
  weights product*).

Both come from the same three H × H Gram matrices (:func:`symmetricity_metrics`), so no D × D
Jacobian is formed. Where ‖∂r/∂x‖_F ≈ 0 (saturated sigmoids, dead ReLUs) sym is undefined (NaN),
and a run whose Jacobian vanishes at most held-out points, or whose loss is not finite, is
*degenerate* (:attr:`RunResult.degenerate`): its cells are not tested, never scored.

Readings of what the paper leaves open (``Settings``):

* the CAE penalty — ``contraction="eq10"`` (primary): ε‖∂r/∂x‖²_F, the paper's eq. (10);
  ``"rifai"`` (second reading): λ‖∂h/∂x‖²_F of Rifai et al. (2011). With ReLU units and the
  weight-length constraint the latter is λα·(number of active units), its gradient radial in each
  w_k, so the renormalisation removes it (:func:`rifai_relu_wl_check` measures this);
* ε by a rule fixed before Table 1 is looked at (:func:`choose_epsilon`);
* the optimiser — Adam, SGD with momentum 0.9, plain SGD (:func:`curve_shape`, :func:`reading_summary`
  compare them with the paper's Figure 2 and Table 1). This module runs the grid of configurations × seeds with per-run
checkpoints (re-running resumes, with identical numbers), aggregates it into Table 1 with the
spread over seeds, and draws the chapter's figures. Chapter: *Empirical conservativeness on
MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .data import MNIST
from .models import AutoEncoder
from .training import OPTIMIZERS, DivergenceError, fit

Tensor = torch.Tensor

__all__ = [
    "RunSpec", "Settings", "RunResult", "GRID", "CONTRACTIONS", "DEGENERATE_NORM2", "paper_table1",
    "symmetricity_metrics", "train_run", "train_runs", "run_grid", "table1", "table1_frame", "curves",
    "filter_cosines", "random_baseline", "tied_baseline", "hidden_statistics", "high_curvature_band",
    "sensitivity", "choose_epsilon", "epsilon_jobs", "rifai_relu_wl_check", "curve_shape", "reading_summary",
    "save_run", "pct", "optimizer_settings", "by_optimizer", "rifai_jobs", "grid_jobs", "cell_settings", "claim_inputs", "epsilon_frame", "readings_frame", "better_supported", "plot_fig2", "plot_filter_grid", "plot_fig1", "plot_hidden_distributions", "plot_epsilon",
]

#: The CAE penalties: ``eq10`` = ε‖∂r/∂x‖²_F (the paper's eq. 10, primary), ``rifai`` = λ‖∂h/∂x‖²_F.
CONTRACTIONS: tuple[str, ...] = ("eq10", "rifai")

#: ‖∂r/∂x‖²_F at or below this is a vanishing Jacobian: its symmetricity is undefined (NaN).
DEGENERATE_NORM2: float = 1e-8

#: A run is degenerate when its Jacobian vanishes at more than this fraction of the held-out points.
DEGENERATE_FRACTION: float = 0.5

#: A run did not fit when its held-out reconstruction error is not below this fraction of the error
#: of predicting the mean training image (a network that collapsed to a constant output).
NOT_FITTED_RATIO: float = 0.9


def paper_table1() -> dict[str, float]:
    """The paper's Table 1 (fractions) by configuration key, read from the claim ledger (the one
    place where the paper's numbers are typed)."""
    from . import ledger

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
    """Training hyper-parameters shared by every run (the paper does not give them; we chose them).

    ``cae_weight`` is the CAE strength (used only by CAE runs): ε of ε‖∂r/∂x‖²_F (eq. 10) when
    ``contraction="eq10"``, λ of Rifai's λ‖∂h/∂x‖²_F when ``"rifai"``; ``alpha`` the squared
    filter length of the weight-length constraint (used only by ``+wl`` runs), ``n_eval`` the
    number of held-out images at which sym(∂r/∂x) is averaged; ``optimizer`` one of
    ``training.OPTIMIZERS`` (``sgd`` has momentum 0.9, ``sgd_plain`` none).
    """

    H: int = 500
    epochs: int = 100
    batch_size: int = 200
    lr: float = 1e-3
    optimizer: str = "adam"
    cae_weight: float = 0.1
    alpha: float = 1.0
    n_eval: int = 1000
    metrics_every: int = 2
    checkpoint_every: int = 10
    device: str = "auto"
    contraction: str = "eq10"

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


@dataclass
class RunResult:
    """A finished run: its configuration, seed, per-epoch records and the trained model (CPU)."""

    spec: RunSpec
    seed: int
    settings: Settings
    records: list[dict[str, Any]]
    model: AutoEncoder = field(repr=False)
    resumed_from: int = 0
    failure: str | None = None  # why training stopped early (a non-finite loss), else None

    @property
    def name(self) -> str:
        """A file name for this run: configuration, optimiser, learning rate, penalty, seed, epochs."""
        st = self.settings
        pen = f"_{st.contraction}{st.cae_weight:g}" if self.spec.model == "CAE" else ""
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


# ----------------------------------------------------------------------------- metrics
@torch.no_grad()
def symmetricity_metrics(model: AutoEncoder, x: Tensor) -> dict[str, float]:
    """Mean sym(∂r/∂x) over the points x and sym(R Wᵀ), from shared H × H Gram matrices.

    With J(x) = R D Wᵀ, D = diag(d), d = h'(Wᵀx + b) (Proposition 2), Q = RᵀR ∘ WᵀW and
    P = M ∘ Mᵀ for M = WᵀR: ‖J‖²_F = dᵀQd and tr(J J) = dᵀPd, so
    sym(J) = ½ + dᵀPd / (2 dᵀQd) (1 where J = 0, a locally constant field). R Wᵀ is the case
    d = 1: sym(R Wᵀ) = ½ + ΣP / (2 ΣQ). Cost O(D H² + N H²); no D × D matrix is formed.
    Where ‖J‖²_F ≤ :data:`DEGENERATE_NORM2` sym(J) is undefined: such points are left out of the
    mean (NaN when all are), and ``degenerate_frac`` is their share. Also returns the spread of
    sym(J) over the points (``jac_sym_sd``) and the mean ‖J‖²_F (``jac_norm2``).
    """
    W, R = model.W, model.R
    x = x.to(W.device, W.dtype)
    M = W.T @ R
    Q = (R.T @ R) * (W.T @ W)
    P = M * M.T
    d = model.hidden_derivative(x)
    norm2 = ((d @ Q) * d).sum(dim=1)
    trace = ((d @ P) * d).sum(dim=1)
    ok = norm2 > DEGENERATE_NORM2
    jac = (0.5 + 0.5 * trace / torch.where(ok, norm2, torch.ones_like(norm2)))[ok]
    q = Q.sum()
    rw = 0.5 + 0.5 * P.sum() / q if q > DEGENERATE_NORM2 else torch.tensor(float("nan"))
    nan = float("nan")
    return {"jac_sym": float(jac.mean()) if len(jac) else nan,
            "jac_sym_sd": float(jac.std()) if len(jac) > 1 else (0.0 if len(jac) else nan),
            "rw_sym": float(rw), "degenerate_frac": float((~ok).float().mean()), "jac_norm2": float(norm2.mean())}


# ----------------------------------------------------------------------------- training
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def train_run(
    spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str | Path | None = None,
    progress: bool = True,
) -> RunResult:
    """Train one configuration with one seed (initialisation and batch order both from ``seed``).

    Metrics (:func:`symmetricity_metrics` on the first ``n_eval`` test images, their
    reconstruction error ``rec_err`` and the mean filter cosine) are recorded at epoch 0, every
    ``metrics_every`` epochs and at the end, besides the loss and the training wall time that
    :func:`~conservae_lib.training.fit` records. A CAE run adds ε‖∂r/∂x‖²_F (eq. 10) or
    λ‖∂h/∂x‖²_F (``settings.contraction``). With ``checkpoint_dir`` the run is checkpointed under
    a name that encodes the configuration, settings, seed and data, so a re-run resumes (or, when
    finished, just reloads) and gives the same numbers. A run whose loss becomes non-finite is
    returned with ``failure`` set (see :attr:`RunResult.degenerate`), not raised.
    """
    model = AutoEncoder(data.x_train.shape[1], settings.H, spec.activation, tied=False, seed=seed)
    if spec.weight_length:
        from .training import renormalize_columns

        renormalize_columns(model, settings.alpha)  # start on the constraint set
    x_eval = data.x_test[: settings.n_eval]
    ckpt = None
    if checkpoint_dir is not None:
        unused = {"device"} | ({"cae_weight", "contraction"} if spec.model == "AE" else set())  # an AE has no penalty
        tag = _digest({"spec": asdict(spec), "settings": {k: v for k, v in asdict(settings).items() if k not in unused},
                       "seed": seed, "data": data.description, "source": data.source})
        ckpt = Path(checkpoint_dir) / f"{spec.key}_seed{seed}_{tag}.pt"
    cae = spec.model == "CAE"
    trivial = float(((x_eval - data.x_train.mean(dim=0)) ** 2).sum(dim=1).mean())  # predicting the mean image
    try:
        history = fit(
            model, data.x_train, epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
            optimizer=settings.optimizer,
            contraction=settings.cae_weight if cae and settings.contraction == "eq10" else 0.0,
            encoder_contraction_weight=settings.cae_weight if cae and settings.contraction == "rifai" else 0.0,
            weight_length=settings.alpha if spec.weight_length else None,
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


def save_run(run: RunResult, folder: str | Path) -> Path:
    """Write one run's small result file ``<folder>/<run.name>.json`` (configuration, settings,
    seed, per-epoch records, wall time, degenerate or not); the ``full`` profile publishes these."""
    from .results import save_json

    return save_json(Path(folder) / f"{run.name}.json", {
        "config": run.spec.key, "seed": run.seed, "settings": asdict(run.settings), "wall_s": run.wall_s,
        "degenerate": run.degenerate, "records": run.records})


def run_grid(
    specs: Iterable[RunSpec], seeds: Sequence[int], settings: Settings, data: MNIST,
    checkpoint_dir: str | Path | None = None, progress: bool = True, workers: int = 1,
) -> list[RunResult]:
    """Every configuration × every seed (see :func:`train_runs` for ``workers``), sorted as Table 1."""
    specs = list(specs)
    jobs = [(s, settings, seed) for seed in seeds for s in specs]  # seed-major: every configuration gets seed 0 first
    out = train_runs(jobs, data, checkpoint_dir, progress=progress, workers=workers)
    return sorted(out, key=lambda r: ([g.key for g in GRID].index(r.spec.key) if r.spec in GRID else 99, r.seed))


def _pool_initializer(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_job(spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str) -> None:
    """One run in a worker process; its result reaches the parent through the checkpoint."""
    train_run(spec, settings, data, seed, checkpoint_dir, progress=False)


def train_runs(
    jobs: Sequence[tuple[RunSpec, Settings, int]], data: MNIST, checkpoint_dir: str | Path | None = None,
    progress: bool = True, workers: int = 1,
) -> list[RunResult]:
    """:func:`train_run` for each (configuration, settings, seed) of ``jobs``, in order.

    With ``workers`` > 1, a checkpoint folder and a CPU device, the unfinished runs are first
    trained in a pool of ``workers`` processes with ``torch.get_num_threads() // workers``
    threads each (several small single-threaded trainings use a CPU's cores better than one run
    with all threads: the performance appendix measures it), then every run is read back from
    its finished checkpoint. The numbers are those of a run with that many threads; a GPU, or
    ``workers=1``, trains the runs one after another in this process.
    """
    from .runtime import select_device

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}.")
    jobs = list(jobs)
    if workers > 1 and len(jobs) > 1 and checkpoint_dir is not None and all(
            select_device(st.device).type == "cpu" for _, st, _ in jobs):
        _train_in_pool(jobs, data, Path(checkpoint_dir), workers, progress)
    jobs_it = _progress(jobs, "runs") if progress else jobs
    return [train_run(s, st, data, seed, checkpoint_dir, progress) for s, st, seed in jobs_it]


def _train_in_pool(jobs: Sequence[tuple[RunSpec, Settings, int]], data: MNIST, checkpoint_dir: Path,
                   workers: int, progress: bool) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, torch.get_num_threads() // workers)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_pool_initializer, initargs=(threads,)) as pool:
        futures = [pool.submit(_train_job, s, st, data, seed, str(checkpoint_dir)) for s, st, seed in jobs]
        done = as_completed(futures)
        if progress:
            done = _progress_total(done, len(futures), f"runs ({workers} processes)")
        for fut in done:
            fut.result()  # re-raise a worker's error here


def _progress_total(it: Iterable, total: int, desc: str):
    import os

    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false"):
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc=desc, leave=False)


def _progress(items: list, desc: str):
    """A tqdm bar over ``items``, or the items themselves when ``TQDM_DISABLE`` is set."""
    import os

    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false"):
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


# ----------------------------------------------------------------------------- aggregation
def _group(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    out: dict[str, list[RunResult]] = {}
    for r in results:
        out.setdefault(r.spec.key, []).append(r)
    return out


def table1(results: Sequence[RunResult], key: str = "jac_sym") -> dict[str, dict[str, Any]]:
    """Per configuration: mean, sample standard deviation (ddof = 1; 0 for one seed), min, max,
    per-seed values and number of seeds of the final value of ``key``, its value at epoch 0, the
    mean training wall time, and ``degenerate`` (the first degenerate run's reason, or None; the
    statistics are then NaN)."""
    out = {}
    for k, runs in _group(results).items():
        bad = next((r.degenerate for r in runs if r.degenerate), None)
        v = np.array([r.final(key) for r in runs]) if not bad else np.full(len(runs), np.nan)
        v0 = np.array([r.series(key)[1][0] if r.records else np.nan for r in runs])
        out[k] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  "min": float(v.min()), "max": float(v.max()), "n": len(v), "values": [float(a) for a in v],
                  "initial": float(v0.mean()), "wall_s": float(np.mean([r.wall_s for r in runs])),
                  "degenerate": bad}
    return out


def _cell(s: dict[str, Any] | None, digits: int) -> str:
    if s is None:
        return "—"
    if s.get("degenerate"):
        return "degenerate"
    spread = f" ± {100 * s['sd']:.{digits}f}" if s["n"] > 1 else ""
    return f"{100 * s['mean']:.{digits}f}{spread}"


def table1_frame(stats: dict[str, dict[str, Any]], digits: int = 1, paper: bool = True,
                 columns: Mapping[str, dict[str, dict[str, Any]]] | None = None):
    """Table 1 as the paper lays it out (rows AE, CAE), each cell "ours ± sd (paper)" in percent.

    With ``columns`` (a label → stats mapping, e.g. ``{"subset": …, "full MNIST": …}``) the
    table has one row per configuration and one column per data set instead, beside the paper's."""
    import pandas as pd

    ref = paper_table1()
    if columns is not None:
        rows = [{"configuration": spec.key, **{label: _cell(st.get(spec.key), digits) for label, st in columns.items()},
                 "paper": f"{100 * ref[spec.key]:.1f}"} for spec in GRID]
        return pd.DataFrame(rows).set_index("configuration")
    rows: dict[str, dict[str, str]] = {}
    for spec in GRID:
        if spec.key not in stats:
            continue
        cell = _cell(stats[spec.key], digits) + (f" ({100 * ref[spec.key]:.1f})" if paper else "")
        rows.setdefault(spec.model, {})[spec.column] = cell
    return pd.DataFrame.from_dict(rows, orient="index")


def curves(results: Sequence[RunResult], key: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per configuration: epochs, mean over seeds and sd over seeds of a metric's trajectory."""
    out = {}
    for k, runs in _group(results).items():
        ep = runs[0].series(key)[0]
        vals = np.stack([r.series(key)[1] for r in runs])
        out[k] = (ep, vals.mean(axis=0), vals.std(axis=0, ddof=1) if len(runs) > 1 else np.zeros(len(ep)))
    return out


@torch.no_grad()
def filter_cosines(model: AutoEncoder) -> np.ndarray:
    """Cosine between each encoder filter W_{·k} and its decoder filter R_{·k} (H values)."""
    W, R = model.W.detach().cpu(), model.R.detach().cpu()
    return (torch.nn.functional.cosine_similarity(W, R, dim=0)).numpy()


@torch.no_grad()
def random_baseline(activation: str, D: int, H: int, x: Tensor, seeds: Sequence[int],
                    alpha: float | None = None) -> np.ndarray:
    """sym(∂r/∂x) (mean over x) of untrained untied models (Glorot, independent W and R), one per seed."""
    out = []
    for s in seeds:
        m = AutoEncoder(D, H, activation, tied=False, seed=s)
        if alpha is not None:
            from .training import renormalize_columns

            renormalize_columns(m, alpha)
        out.append(symmetricity_metrics(m, x)["jac_sym"])
    return np.array(out)


@torch.no_grad()
def tied_baseline(model: AutoEncoder, x: Tensor) -> float:
    """sym(∂r/∂x) of the tied model with the same encoder (R := W): exactly 1 (Corollary 1)."""
    tied = AutoEncoder.from_weights(model.W.detach().clone(), None, model.b.detach().clone(),
                                    model.c.detach().clone(), model.activation)
    return symmetricity_metrics(tied, x)["jac_sym"]


def high_curvature_band(activation: str = "sigmoid", fraction: float = 0.5) -> tuple[float, float]:
    """The pre-activations u > 0 where |h''(u)| ≥ ``fraction`` · max |h''| (by symmetry also −u).

    For the sigmoid h'' = h(1−h)(1−2h), largest at u = ±ln(2+√3) ≈ ±1.317.
    """
    if activation != "sigmoid":
        raise ValueError("the curvature band is defined for the sigmoid only (ReLU has h'' = 0 away from 0).")
    u = np.linspace(0, 12, 240001)
    s = 1 / (1 + np.exp(-u))
    c = np.abs(s * (1 - s) * (1 - 2 * s))
    inside = u[c >= fraction * c.max()]
    return float(inside.min()), float(inside.max())


@torch.no_grad()
def hidden_statistics(model: AutoEncoder, x: Tensor) -> dict[str, Any]:
    """Pre-activations u = Wᵀx + b (flattened), and summaries of h' across units.

    ``hprime_cv``: the mean over points of the coefficient of variation of h'_l(x) across units l
    (small when h' is nearly the same for all units, the paper's first explanation);
    ``in_band``: for sigmoid, the fraction of (point, unit) pairs whose |u| lies in the
    high-curvature band; ``active``: the fraction with u > 0 (ReLU units that pass gradient).
    """
    x = x.to(model.W.device, model.W.dtype)
    u = model.preactivation(x)
    d = model.hidden_derivative(x)
    cv = (d.std(dim=1) / d.mean(dim=1).clamp_min(1e-12)).mean()
    out: dict[str, Any] = {"u": u.flatten().cpu().numpy(), "hprime_cv": float(cv), "active": float((u > 0).float().mean())}
    if model.activation.name == "sigmoid":
        lo, hi = high_curvature_band("sigmoid")
        a = u.abs()
        out["in_band"] = float(((a >= lo) & (a <= hi)).float().mean())
    return out


def sensitivity(
    base: Sequence[RunResult], data: MNIST, settings: Settings, epochs: int,
    variations: Sequence[tuple[str, str, Any]], seed: int, checkpoint_dir: str | Path | None = None,
    progress: bool = True, workers: int = 1,
) -> list[dict[str, Any]]:
    """Change one hyper-parameter at a time and compare sym(∂r/∂x) after ``epochs`` epochs.

    ``variations`` holds (configuration key, setting name, value). The reference value is the
    base run of the same configuration and seed at the same epoch (Adam has no schedule, so a
    100-epoch run at epoch ``epochs`` *is* an ``epochs``-epoch run); it is trained anew when the
    base run has no record there. The runs go through :func:`train_runs` (``workers``).
    Returns one row per variation.
    """
    specs = {s.key: s for s in GRID}
    by_key = {(r.spec.key, r.seed): r for r in base}
    short = replace(settings, epochs=epochs)
    refs: dict[str, float | None] = {}
    jobs = []
    for key, name, value in variations:
        ref_run = by_key.get((key, seed))
        refs[key] = ref_run.at_epoch("jac_sym", epochs) if ref_run is not None else None
        if refs[key] is None and (specs[key], short, seed) not in jobs:
            jobs.append((specs[key], short, seed))
        jobs.append((specs[key], replace(short, **{name: value}), seed))
    done = {(s.key, st): r for (s, st, _), r in zip(jobs, train_runs(jobs, data, checkpoint_dir, progress, workers))}
    rows = []
    for key, name, value in variations:
        run = done[(key, replace(short, **{name: value}))]
        ref = refs[key] if refs[key] is not None else done[(key, short)].final()
        rows.append({"config": key, "parameter": name, "value": value, "base_value": getattr(settings, name),
                     "sym": run.final(), "sym_base": ref, "rw_sym": run.final("rw_sym"), "loss": run.final("loss")})
    return rows


# ----------------------------------------------------------------------------- ε by a stated rule
def epsilon_jobs(settings: Settings, grid: Sequence[float], epochs: int, seed: int) -> list[tuple[RunSpec, Settings, int]]:
    """The short eq. (10) CAE runs behind :func:`choose_epsilon`: every CAE cell × every ε of ``grid``,
    ``epochs`` epochs, one seed."""
    short = replace(settings, epochs=epochs, contraction="eq10")
    return [(spec, replace(short, cae_weight=float(e)), seed) for spec in GRID if spec.model == "CAE" for e in grid]


def choose_epsilon(ae_runs: Sequence[RunResult], eps_runs: Sequence[RunResult], epochs: int,
                   tolerance: float) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """ε of eq. (10) for each CAE cell, by a rule that looks only at reconstruction errors: the
    largest ε of the grid whose held-out reconstruction error after ``epochs`` epochs is at most
    (1 + ``tolerance``) × that of the AE of the same activation and constraint (same seed, same
    epoch); the smallest ε of the grid when none is. Returns the chosen ε per CAE key and one row
    per short run (ε, its reconstruction error, the AE's, their ratio, sym(∂r/∂x) after ``epochs``
    epochs: the cell's sensitivity to ε). Chapter: *Empirical conservativeness on MNIST*."""
    ae = {(r.spec.activation, r.spec.weight_length, r.seed): r for r in ae_runs if r.spec.model == "AE"}
    rows, chosen = [], {}
    for r in sorted(eps_runs, key=lambda r: (r.spec.key, r.settings.cae_weight)):
        ref_run = ae.get((r.spec.activation, r.spec.weight_length, r.seed))
        ref = ref_run.at_epoch("rec_err", epochs) if ref_run is not None else None
        if ref is None:
            raise ValueError(f"choose_epsilon needs the AE run of {r.spec.activation}{'+wl' if r.spec.weight_length else ''} "
                             f"seed {r.seed} with its reconstruction error recorded at epoch {epochs}.")
        rec = r.final("rec_err")
        rows.append({"config": r.spec.key, "eps": r.settings.cae_weight, "rec_err": rec, "ae_rec_err": ref,
                     "ratio": rec / ref, "within": bool(rec <= (1 + tolerance) * ref), "sym": r.final(),
                     "degenerate": r.degenerate})
    for key in sorted({row["config"] for row in rows}):
        mine = [row for row in rows if row["config"] == key]
        ok = [row["eps"] for row in mine if row["within"] and not row["degenerate"]]
        chosen[key] = max(ok) if ok else min(row["eps"] for row in mine)
    for row in rows:
        row["chosen"] = row["eps"] == chosen[row["config"]]
    return chosen, rows


# ----------------------------------------------------------------------------- Rifai's penalty under ReLU + wl
def rifai_relu_wl_check(model: AutoEncoder, x: Tensor, lam: float, alpha: float, lr: float = 0.01) -> dict[str, float]:
    """Measure why Rifai's λ‖∂h/∂x‖²_F says nothing about the paper for ReLU units under the
    weight-length constraint ‖w_k‖² = α: there h'_k ∈ {0, 1}, so the penalty is
    λ Σ_k h'_k(x) ‖w_k‖² = λα · (number of active units), its gradient in w_k is 2λ·(share of
    points where unit k is active)·w_k — radial — and the renormalisation that follows a step
    along it returns w_k exactly. Returns the penalty and λα·(mean number of active units) at
    ``x``, their relative difference, the smallest cosine between a unit's penalty gradient and
    w_k, the largest tangential share of a gradient, and the largest change of W after one step
    of size ``lr`` on the penalty alone followed by the renormalisation. The model must be a
    ReLU model on the constraint set. Chapter: *Empirical conservativeness on MNIST*."""
    from .contraction import encoder_contraction
    from .training import renormalize_columns

    if model.activation.name != "relu":
        raise ValueError(f"rifai_relu_wl_check is about ReLU units; got {model.activation.name!r}.")
    m = AutoEncoder.from_weights(model.W.detach().clone().double(), model.R.detach().clone().double(),
                                 model.b.detach().clone().double(), model.c.detach().clone().double(), "relu")
    xd = x.detach().double()
    W = m.W
    length_err = float(((W.detach() ** 2).sum(dim=0) - alpha).abs().max() / alpha)  # distance from the constraint

    def penalty_and_gradient() -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            pen = lam * encoder_contraction(m, xd)
            (grad,) = torch.autograd.grad(pen, W)
        return pen.detach(), grad

    pen, g = penalty_and_gradient()  # on the model as given
    with torch.no_grad():
        active = (m.preactivation(xd) > 0).double().sum(dim=1).mean()
        count = lam * alpha * active
        gn, wn = g.norm(dim=0), W.norm(dim=0)
        used = gn > 0
        cos = ((g * W).sum(dim=0) / (gn * wn).clamp_min(1e-300))[used]
        tangential = (g - (g * W).sum(dim=0) / wn**2 * W).norm(dim=0)[used] / gn[used]
    renormalize_columns(m, alpha)  # exactly on the constraint set in float64, so only the step can move W
    _, g = penalty_and_gradient()
    with torch.no_grad():
        before = W.clone()
        W.sub_(lr * g)
        renormalize_columns(m, alpha)
        change = (W - before).abs().max()
    return {"penalty": float(pen), "lam_alpha_active": float(count), "rel_diff": float(abs(pen - count) / count),
            "length_err": length_err, "min_cos": float(cos.min()) if len(cos) else 1.0,
            "max_tangential": float(tangential.max()) if len(tangential) else 0.0, "step": float(lr * g.abs().max()),
            "change_after_renorm": float(change), "active_units": float(active)}


# ----------------------------------------------------------------------------- readings: optimisers
def curve_shape(run: RunResult, key: str = "jac_sym", tol: float = 0.01) -> dict[str, Any]:
    """The shape of a run's curve: initial, peak (and its epoch), final value; ``rise`` = final −
    initial, ``drop`` = peak − final, ``late_gain`` = gain over the last tenth of training; and
    ``shape``: ``rises and plateaus`` (rise > 5 pp, drop and |late gain| ≤ ``tol``), ``peaks then
    falls`` (drop > ``tol``), ``still rising`` (late gain > ``tol``) or ``flat`` (rise ≤ 5 pp)."""
    ep, v = run.series(key)
    if run.degenerate or not len(v):
        return {"initial": float("nan"), "peak": float("nan"), "peak_epoch": 0, "final": float("nan"),
                "rise": float("nan"), "drop": float("nan"), "late_gain": float("nan"), "shape": "degenerate"}
    late = ep[-1] - max(1, ep[-1] // 10)
    i = int(np.nanargmax(v))
    out = {"initial": float(v[0]), "peak": float(v[i]), "peak_epoch": int(ep[i]), "final": float(v[-1]),
           "rise": float(v[-1] - v[0]), "drop": float(v[i] - v[-1]), "late_gain": float(v[-1] - v[ep <= late][-1])}
    out["shape"] = ("flat" if out["rise"] <= 0.05 else "peaks then falls" if out["drop"] > tol
                    else "still rising" if out["late_gain"] > tol else "rises and plateaus")
    return out


def reading_summary(runs: Sequence[RunResult]) -> dict[str, Any]:
    """How one reading's runs (one seed, the eight cells) compare with the paper: per cell the final
    sym(∂r/∂x) and its curve's shape; the mean absolute gap to Table 1 (fraction) over the cells
    that are not degenerate, and how many curves rise and plateau as Figure 2's do."""
    ref = paper_table1()
    cells = {r.spec.key: {"sym": r.final() if not r.degenerate else float("nan"), **curve_shape(r),
                          "degenerate": r.degenerate, "wall_s": r.wall_s} for r in runs}
    gaps = [abs(c["sym"] - ref[k]) for k, c in cells.items() if math.isfinite(c["sym"])]
    shapes = [c["shape"] for c in cells.values()]
    return {"cells": cells, "mean_abs_gap": float(np.mean(gaps)) if gaps else float("nan"),
            "n_plateau": shapes.count("rises and plateaus"), "n_falls": shapes.count("peaks then falls"),
            "n_rising": shapes.count("still rising"), "n": len(cells)}


def better_supported(summaries: Mapping[str, dict[str, Any]]) -> str:
    """The reading whose curves most often rise and plateau as Figure 2's, ties broken by the
    smaller mean gap to Table 1."""
    return min(summaries, key=lambda k: (-summaries[k]["n_plateau"], summaries[k]["mean_abs_gap"]))


# ----------------------------------------------------------------------------- what the ledger is handed
#: The MyST label of the section that shows the evidence of each claim of the chapter.
SECTIONS: dict[str, str] = {
    "table1": "sec-mnist-table1", "wl-higher": "sec-mnist-table1", "cae-more-symmetric": "sec-mnist-table1",
    "fig2.plateau.AE": "sec-mnist-fig2", "fig2.plateau.CAE": "sec-mnist-fig2", "fig2": "sec-mnist-fig2",
    "fig1": "sec-mnist-fig1", "weights-product": "sec-mnist-weights", "weights-product.sigmoid": "sec-mnist-weights",
    "wl-curvature": "sec-mnist-weights", "rifai": "sec-mnist-rifai", "optimizer": "sec-mnist-optimizer",
}


def _by(runs: Sequence[RunResult]) -> dict[tuple[str, int], RunResult]:
    return {(r.spec.key, r.seed): r for r in runs}


def _not_tested(runs: Iterable[RunResult]) -> str | None:
    return next((r.degenerate for r in runs if r is not None and r.degenerate), None)


def _pairs(runs: Sequence[RunResult], pairs: Sequence[tuple[str, str]], better: Any) -> dict[str, Any]:
    """One boolean per (pair, seed): ``better(run_a, run_b)``; not tested when a run is missing or degenerate."""
    by, seeds = _by(runs), sorted({r.seed for r in runs})
    involved = [by.get((k, sd)) for a, b in pairs for k in (a, b) for sd in seeds]
    if any(r is None for r in involved):
        return {"not_tested": "a configuration of the comparison was not run"}
    bad = _not_tested(involved)
    if bad:
        return {"not_tested": bad}
    return {"values": [bool(better(by[(a, sd)], by[(b, sd)])) for a, b in pairs for sd in seeds], "n_seeds": len(seeds)}


def claim_inputs(runs: Sequence[RunResult], x_eval: Tensor, reading: str | None = None) -> list[dict[str, Any]]:
    """The keyword arguments of :func:`conservae_lib.ledger.judge` for every claim of the chapter that
    ``runs`` (one reading: every Table 1 cell, any number of seeds) can decide, each with the statistic
    its ledger entry documents: per-seed final sym(∂r/∂x) for Table 1's cells and the plateaus,
    booleans per pair and seed for the comparisons, one curve per run for Figure 2's trend, filter
    cosines (control: at initialisation), the rise of sym(RWᵀ), the share of sigmoid pre-activations
    in the high-curvature band (control: without the constraint). A degenerate run gives its claims
    ``not_tested`` with the reason."""
    by, seeds = _by(runs), sorted({r.seed for r in runs})
    keys = {r.spec.key for r in runs}
    out: list[dict[str, Any]] = []

    def add(cid: str, section: str, **kw: Any) -> None:
        out.append({"id": cid, "reading": reading, "section": SECTIONS[section], **kw})

    for spec in GRID:
        if spec.key in keys:
            cell = [by[(spec.key, sd)] for sd in seeds if (spec.key, sd) in by]
            bad = _not_tested(cell)
            add(f"table1.{spec.key}", "table1", **({"not_tested": bad} if bad else {"values": [r.final() for r in cell]}))
    if keys != {s.key for s in GRID}:
        return out  # a partial reading (the CAE rows only) decides its cells and nothing else
    final = lambda r: r.final()  # noqa: E731
    add("wl-higher", "wl-higher", **_pairs(runs, [(f"{m}.{a}_wl", f"{m}.{a}") for m in ("AE", "CAE")
                                                 for a in ("relu", "sigmoid")], lambda a, b: final(a) > final(b)))
    add("cae-more-symmetric", "cae-more-symmetric", **_pairs(
        runs, [(f"CAE.{c}", f"AE.{c}") for c in ("relu", "relu_wl", "sigmoid", "sigmoid_wl")],
        lambda a, b: final(a) > final(b)))
    for model in ("AE", "CAE"):
        cell = [by[(f"{model}.sigmoid", sd)] for sd in seeds]
        bad = _not_tested(cell)
        add(f"fig2.plateau.{model}", "fig2.plateau.AE", **({"not_tested": bad} if bad else {"values": [final(r) for r in cell]}))
    bad = _not_tested(runs)
    if bad:
        add("fig2", "fig2", not_tested=bad)
    else:
        ep = runs[0].series("jac_sym")[0]
        add("fig2", "fig2", values=[list(map(float, r.series("jac_sym")[1])) for r in runs], axis=[float(e) for e in ep],
            n_seeds=len(seeds))
    sig = [by[("AE.sigmoid", sd)] for sd in seeds]
    bad = _not_tested(sig)
    add("fig1", "fig1", **({"not_tested": bad} if bad else {
        "values": [r.final("filter_cos") for r in sig], "control": [r.series("filter_cos")[1][0] for r in sig]}))
    rise = lambda r: r.final("rw_sym") - r.series("rw_sym")[1][0]  # noqa: E731
    wp = _pairs(runs, [(s.key, s.key) for s in GRID], lambda a, b: rise(a) > 0)
    add("weights-product", "weights-product", **wp)
    add("weights-product.sigmoid", "weights-product.sigmoid", **_pairs(
        runs, [(f"{m}.sigmoid{w}", f"{m}.relu{w}") for m in ("AE", "CAE") for w in ("", "_wl")],
        lambda a, b: rise(a) > rise(b)))
    wl, plain = [by[("AE.sigmoid_wl", sd)] for sd in seeds], [by[("AE.sigmoid", sd)] for sd in seeds]
    bad = _not_tested(wl + plain)
    if bad:
        add("wl-curvature", "wl-curvature", not_tested=bad)
        add("wl-curvature.contrast", "wl-curvature", not_tested=bad)
        return out
    share_wl = [hidden_statistics(r.model, x_eval)["in_band"] for r in wl]
    share_plain = [hidden_statistics(r.model, x_eval)["in_band"] for r in plain]
    add("wl-curvature", "wl-curvature", values=share_wl, control=share_plain)
    add("wl-curvature.contrast", "wl-curvature", values=[bool(a > b) for a, b in zip(share_wl, share_plain)],
        n_seeds=len(seeds))
    return out


# ----------------------------------------------------------------------------- tables for the chapter
def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with ``digits`` decimals (no % sign); "—" for None or NaN."""
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}"


def epsilon_frame(rows: Sequence[dict[str, Any]]):
    """The ε runs: per CAE cell and ε, reconstruction error against the AE's and sym(∂r/∂x) (percent)."""
    import pandas as pd

    return pd.DataFrame([{"cell": r["config"], "ε": f"{r['eps']:g}", "rec. error / AE's": f"{r['ratio']:.3f}",
                          "within the bound": "yes" if r["within"] else "no", "sym(∂r/∂x) %": pct(r["sym"]),
                          "chosen": "←" if r["chosen"] else ""} for r in rows]).set_index(["cell", "ε"])


def readings_frame(summaries: Mapping[str, dict[str, Any]], labels: Mapping[str, str] | None = None):
    """One column per reading: each Table 1 cell's final sym(∂r/∂x) (percent, one seed) and its
    curve's shape, beside the paper's value; last rows: mean |gap| and curves that plateau."""
    import pandas as pd

    ref = paper_table1()
    labels = labels or {}
    rows = []
    for spec in GRID:
        row = {"configuration": spec.key}
        for name, sm in summaries.items():
            c = sm["cells"].get(spec.key)
            row[labels.get(name, name)] = "—" if c is None else (
                "degenerate" if c["degenerate"] else f"{pct(c['sym'])} ({c['shape']})")
        row["paper"] = pct(ref[spec.key])
        rows.append(row)
    rows.append({"configuration": "mean |ours − paper| (pp)",
                 **{labels.get(n, n): pct(sm["mean_abs_gap"], 1) for n, sm in summaries.items()}, "paper": ""})
    rows.append({"configuration": "curves that rise and plateau",
                 **{labels.get(n, n): f"{sm['n_plateau']} of {sm['n']}" for n, sm in summaries.items()}, "paper": "8 of 8"})
    return pd.DataFrame(rows).set_index("configuration")


# ----------------------------------------------------------------------------- figures
_COLORS = {"AE": "tab:blue", "CAE": "tab:red"}


def plot_fig2(axes: Sequence[plt.Axes], results: Sequence[RunResult]) -> None:
    """Figure 2 a–d: sym(∂r/∂x) and sym(R Wᵀ) against training epochs, sigmoid (a, b) and ReLU (c, d).

    Lines are the mean over seeds, bands ± one standard deviation; dashed lines are the
    weight-length-constrained runs.
    """
    jac, rw = curves(results, "jac_sym"), curves(results, "rw_sym")
    panels = [("sigmoid", jac, r"(a) sigmoid: sym$(\partial r/\partial x)$"),
              ("sigmoid", rw, r"(b) sigmoid: sym$(RW^\top)$"),
              ("relu", jac, r"(c) ReLU: sym$(\partial r/\partial x)$"),
              ("relu", rw, r"(d) ReLU: sym$(RW^\top)$")]
    for ax, (act, data, title) in zip(axes, panels):
        for spec in GRID:
            if spec.activation != act or spec.key not in data:
                continue
            ep, mean, sd = data[spec.key]
            ls = "--" if spec.weight_length else "-"
            ax.plot(ep, mean, ls, color=_COLORS[spec.model], label=spec.model + (" + wl" if spec.weight_length else ""))
            ax.fill_between(ep, mean - sd, mean + sd, color=_COLORS[spec.model], alpha=0.15, lw=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("symmetricity")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")


def plot_filter_grid(ax: plt.Axes, filters: Tensor | np.ndarray, n: int = 36, title: str | None = None,
                     shape: tuple[int, int] = (28, 28)) -> plt.Axes:
    """The first ``n`` columns of a D × H weight matrix as a square grid of images, each filter
    scaled to its own range (so that shapes, not magnitudes, are compared)."""
    F = np.asarray(filters.detach().cpu() if isinstance(filters, Tensor) else filters)[:, :n]
    side = int(math.ceil(math.sqrt(F.shape[1])))
    h, w = shape
    canvas = np.full((side * (h + 1) + 1, side * (w + 1) + 1), np.nan)
    for k in range(F.shape[1]):
        f = F[:, k].reshape(h, w)
        f = (f - f.min()) / (f.max() - f.min() + 1e-12)
        r, c = divmod(k, side)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = f
    ax.imshow(canvas, cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_fig1(run: RunResult, n: int = 36) -> plt.Figure:
    """Figure 1: encoder filters W (left) beside decoder filters Rᵀ (right) of one trained model."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    plot_filter_grid(axes[0], run.model.W, n, r"encoder filters $W$")
    plot_filter_grid(axes[1], run.model.R, n, r"decoder filters $R^\top$")
    fig.suptitle(f"{run.spec.key}, seed {run.seed}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_hidden_distributions(axes: Sequence[plt.Axes], stats: dict[str, dict[str, Any]],
                              band: tuple[float, float] | None = None, bins: int = 120) -> None:
    """Histograms of the pre-activations u = Wᵀx + b of held-out images, one panel per model,
    with the sigmoid's high-curvature band shaded when given."""
    for ax, (label, s) in zip(axes, stats.items()):
        u = s["u"]
        lo, hi = np.percentile(u, [0.5, 99.5])
        ax.hist(u, bins=bins, range=(min(lo, -6), max(hi, 6)), density=True, color="0.35")
        if band is not None and "sigmoid" in label:
            for sign in (-1, 1):
                ax.axvspan(*(sorted((sign * band[0], sign * band[1]))), color="tab:orange", alpha=0.25, lw=0)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(r"pre-activation $u = W^\top x + b$")
    axes[0].set_ylabel("density")


def plot_epsilon(axes: Sequence[plt.Axes], rows: Sequence[dict[str, Any]], tolerance: float) -> None:
    """The ε rule and the cells' sensitivity to ε: (left) held-out reconstruction error relative
    to the AE's against ε, with the rule's bound; (right) sym(∂r/∂x) against ε; chosen ε circled."""
    for key in sorted({r["config"] for r in rows}):
        mine = sorted((r for r in rows if r["config"] == key), key=lambda r: r["eps"])
        eps = [r["eps"] for r in mine]
        ls = "--" if key.endswith("_wl") else "-"
        color = "tab:orange" if "sigmoid" in key else "tab:purple"
        axes[0].plot(eps, [r["ratio"] for r in mine], ls, marker="o", ms=3, color=color, label=key)
        axes[1].plot(eps, [r["sym"] for r in mine], ls, marker="o", ms=3, color=color, label=key)
        for r in mine:
            if r["chosen"]:
                axes[0].plot([r["eps"]], [r["ratio"]], "o", ms=9, mfc="none", color=color)
                axes[1].plot([r["eps"]], [r["sym"]], "o", ms=9, mfc="none", color=color)
    axes[0].axhline(1 + tolerance, color="0.4", lw=0.8, ls=":")
    axes[0].set_ylabel("reconstruction error / AE's")
    axes[1].set_ylabel(r"sym$(\partial r/\partial x)$")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"$\varepsilon$ of eq. (10)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)


def plot_readings(axes: Sequence[plt.Axes], by_reading: Mapping[str, Sequence[RunResult]], keys: Sequence[str]) -> None:
    """sym(∂r/∂x) against the epoch, one panel per configuration key, one line per reading."""
    styles = ["-", "--", ":", "-."]
    for ax, key in zip(axes, keys):
        for (name, runs), ls in zip(by_reading.items(), styles):
            run = next((r for r in runs if r.spec.key == key), None)
            if run is not None and run.records:
                ep, v = run.series("jac_sym")
                ax.plot(ep, v, ls, label=name)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"sym$(\partial r/\partial x)$")
    axes[0].legend(fontsize=8)


# ----------------------------------------------------------------------------- from a chapter's profile
#: How the book names the optimisers (``training.OPTIMIZERS``).
OPTIMIZER_LABELS: dict[str, str] = {"adam": "Adam", "sgd": "SGD, momentum 0.9", "sgd_plain": "plain SGD",
                                    "lbfgs": "L-BFGS"}


def settings_from(cfg: Any) -> Settings:
    """The reference :class:`Settings` of a chapter configuration (``profiles.configure('mnist_symmetricity', …)``):
    the profile's ``optimizer`` and ``lr`` (the optimiser of the ε rule), eq. (10) as the CAE penalty; ε is
    set per CAE cell by :func:`cell_settings` once :func:`choose_epsilon` has chosen it, the optimiser of
    the primary reading by :func:`better_supported` among :func:`optimizer_settings`."""
    for name in ("eps_epochs", "sens_epochs"):
        if name in cfg and cfg[name] > cfg["epochs"]:
            raise ValueError(f"parameter {name!r} got {cfg[name]!r}, but it must be at most epochs ({cfg['epochs']}), "
                             "since its runs are compared with the main runs at that epoch.")
    return Settings(H=cfg["H"], epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=float(cfg["lr"]),
                    optimizer=cfg["optimizer"], alpha=float(cfg["alpha"]), n_eval=cfg["n_eval"],
                    metrics_every=cfg["metrics_every"], checkpoint_every=cfg["checkpoint_every"], device=cfg["device"],
                    contraction="eq10")


def cell_settings(settings: Settings, spec: RunSpec, eps: Mapping[str, float] | None = None) -> Settings:
    """The settings of one cell: ``settings`` for an AE, with the cell's ε of eq. (10) for a CAE."""
    if spec.model == "AE":
        return settings
    if eps is None or spec.key not in eps:
        raise ValueError(f"cell {spec.key} needs its ε (choose_epsilon) before it can be trained.")
    return replace(settings, contraction="eq10", cae_weight=float(eps[spec.key]))


def grid_jobs(settings: Settings, seeds: Sequence[int], model: str | None = None,
              eps: Mapping[str, float] | None = None) -> list[tuple[RunSpec, Settings, int]]:
    """(configuration, settings, seed) for the Table 1 cells of ``model`` (None: all), seed-major."""
    return [(s, cell_settings(settings, s, eps), seed) for seed in seeds for s in GRID if model in (None, s.model)]


def optimizer_settings(settings: Settings, cfg: Any) -> dict[str, Settings]:
    """The optimiser readings of the chapter: name (the optimiser's) → its settings, from the
    profile's ``optimizers`` and ``lrs``; everything else as in ``settings``."""
    if len(cfg["optimizers"]) != len(cfg["lrs"]):
        raise ValueError(f"parameters 'optimizers' and 'lrs' must have the same length; got {len(cfg['optimizers'])} "
                         f"and {len(cfg['lrs'])}.")
    if len(set(cfg["optimizers"])) != len(cfg["optimizers"]):
        raise ValueError(f"parameter 'optimizers' names an optimiser twice: {cfg['optimizers']!r}.")
    return {o: replace(settings, optimizer=o, lr=float(lr)) for o, lr in zip(cfg["optimizers"], cfg["lrs"])}


def by_optimizer(runs: Iterable[RunResult]) -> dict[str, list[RunResult]]:
    """Runs grouped by their optimiser, in Table 1's order within each group."""
    out: dict[str, list[RunResult]] = {}
    for r in runs:
        out.setdefault(r.settings.optimizer, []).append(r)
    order = [g.key for g in GRID]
    return {k: sorted(v, key=lambda r: (order.index(r.spec.key), r.seed)) for k, v in out.items()}


def rifai_jobs(settings: Settings, weight: float, seed: int) -> list[tuple[RunSpec, Settings, int]]:
    """The CAE cells under the second reading, Rifai's λ‖∂h/∂x‖²_F with λ = ``weight`` (one seed)."""
    rifai = replace(settings, contraction="rifai", cae_weight=float(weight))
    return [(s, rifai, seed) for s in GRID if s.model == "CAE"]


def seeds_from(cfg: Any) -> list[int]:
    """``n_seeds`` consecutive seeds starting at ``seed``."""
    return [cfg["seed"] + i for i in range(cfg["n_seeds"])]


def variations_from(cfg: Any, lr: float) -> list[tuple[str, str, Any]]:
    """The one-at-a-time changes of the sensitivity table: learning rate ``lr`` × each of
    ``sens_lr_factor`` (AE, sigmoid and ReLU), batch size (AE sigmoid) and α (AE sigmoid+wl and
    ReLU+wl); ε has its own table."""
    out: list[tuple[str, str, Any]] = []
    out += [(k, "lr", float(lr * f)) for f in cfg["sens_lr_factor"] for k in ("AE.sigmoid", "AE.relu")]
    out += [("AE.sigmoid", "batch_size", int(v)) for v in cfg["sens_batch_size"]]
    out += [(k, "alpha", float(v)) for v in cfg["sens_alpha"] for k in ("AE.sigmoid_wl", "AE.relu_wl")]
    return out


def sensitivity_jobs(settings: Settings, cfg: Any) -> list[tuple[RunSpec, Settings, int]]:
    """The runs behind :func:`sensitivity` (trained in the same pool as the others)."""
    specs = {s.key: s for s in GRID}
    short = replace(settings, epochs=cfg["sens_epochs"])
    return [(specs[k], replace(short, **{name: v}), cfg["seed"]) for k, name, v in variations_from(cfg, settings.lr)]


def load_data(cfg: Any) -> MNIST:
    """MNIST as the chapter's ``data_source`` / ``data_root`` / ``n_train`` / ``n_test`` ask."""
    from .data import load_mnist

    return load_mnist(cfg["data_source"], cfg["data_root"], seed=cfg["seed"], n_train=cfg["n_train"], n_test=cfg["n_test"])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m conservae_lib.empirical PROFILE [--workers K] [--threads T]``.

    Trains every run of the chapter under a profile into its checkpoint folder, exactly as the
    chapter does (the chapter then reads the finished checkpoints): the AE cells and the ε runs,
    then — with ε chosen by :func:`choose_epsilon` — the CAE cells, the other readings and the
    sensitivity runs, in a pool of K processes (:func:`train_runs`).
    """
    import argparse

    from . import profiles, results

    ap = argparse.ArgumentParser(prog="python -m conservae_lib.empirical")
    ap.add_argument("profile", choices=profiles.PROFILES)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error(f"--workers must be a positive integer; got {args.workers}.")
    if args.threads < 0:
        ap.error(f"--threads must be 0 (torch's default) or a positive integer; got {args.threads}.")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = profiles.configure("mnist_symmetricity", args.profile)
    data = load_data(cfg)
    settings = settings_from(cfg)
    ckpt = results.results_dir("mnist_symmetricity", args.profile) / "checkpoints"
    seeds, by_opt = seeds_from(cfg), optimizer_settings(settings, cfg)
    train = lambda jobs: train_runs(jobs, data, ckpt, progress=True, workers=args.workers)  # noqa: E731
    jobs1 = [j for st in by_opt.values() for j in grid_jobs(st, [cfg["seed"]], "AE")]
    done1 = train(jobs1 + epsilon_jobs(settings, cfg["eps_grid"], cfg["eps_epochs"], cfg["seed"]))
    ref = [r for r in done1[: len(jobs1)] if r.settings.optimizer == settings.optimizer]
    eps, _ = choose_epsilon(ref, done1[len(jobs1):], cfg["eps_epochs"], cfg["eps_tolerance"])
    done2 = train([j for st in by_opt.values() for j in grid_jobs(st, [cfg["seed"]], "CAE", eps)])
    seed0 = by_optimizer(done1[: len(jobs1)] + done2)
    primary = better_supported({o: reading_summary(rs) for o, rs in seed0.items()})
    pst = by_opt[primary]
    done3 = train(grid_jobs(pst, seeds[1:], eps=eps) + rifai_jobs(pst, cfg["rifai_weight"], cfg["seed"])
                  + sensitivity_jobs(pst, cfg))
    for r in done1 + done2 + done3:
        print(f"{r.name}: sym {r.final():.4f}, {r.wall_s:.0f} s{'; degenerate' if r.degenerate else ''}", flush=True)
    print(f"primary optimiser: {primary}", flush=True)


if __name__ == "__main__":
    main()
