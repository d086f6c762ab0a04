"""Empirical conservativeness of untied auto-encoders on MNIST: Table 1, Figures 1–2.

The experiment of the paper's section *Empirical conservativeness*: train untied one-layer
auto-encoders (eq. 1) with H hidden units on MNIST — plain squared-error auto-encoders (AE) and
contractive ones (CAE, the encoder penalty ‖∂h/∂x‖²_F of Rifai et al. 2011), sigmoid and ReLU,
with and without the weight-length constraint ‖W_{·k}‖² = α (footnote 4) — and follow during
training

* sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²_F / ‖J‖²_F with J = R D_h'(x) Wᵀ (Proposition 2), averaged over
  held-out points (Table 1, Figures 2a/2c), and
* sym(R Wᵀ), the symmetricity of the weight product (Figures 2b/2d, section *Symmetricity of
  weights product*).

Both come from the same three H × H Gram matrices (:func:`symmetricity_metrics`), so no D × D
Jacobian is formed. This module runs the grid of configurations × seeds with per-run
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
from typing import Any, Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .data import MNIST
from .models import AutoEncoder
from .training import OPTIMIZERS, fit

Tensor = torch.Tensor

__all__ = [
    "RunSpec", "Settings", "RunResult", "GRID", "PAPER_TABLE1", "TOLERANCE_PP", "symmetricity_metrics",
    "train_run", "train_runs", "run_grid", "table1", "table1_frame", "curves", "verdict", "filter_cosines",
    "random_baseline", "tied_baseline", "hidden_statistics", "high_curvature_band", "sensitivity",
    "plot_fig2", "plot_filter_grid", "plot_fig1", "plot_hidden_distributions",
]

#: The paper's Table 1 (fraction, not percent), by configuration key.
PAPER_TABLE1: dict[str, float] = {
    "AE.relu": 0.959, "AE.relu_wl": 0.987, "AE.sigmoid": 0.951, "AE.sigmoid_wl": 0.991,
    "CAE.relu": 0.952, "CAE.relu_wl": 0.986, "CAE.sigmoid": 0.974, "CAE.sigmoid_wl": 0.991,
}

#: A Table 1 cell counts as *reproduced* when our seed mean is within the first tolerance of the
#: paper's value (percentage points), *partly* within the second, else *not reproduced*.
TOLERANCE_PP: tuple[float, float] = (1.0, 3.0)


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

    ``cae_weight`` is λ of the CAE penalty λ‖∂h/∂x‖²_F (used only by CAE runs), ``alpha`` the
    squared filter length of the weight-length constraint (used only by ``+wl`` runs), ``n_eval``
    the number of held-out images at which sym(∂r/∂x) is averaged.
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

    def __post_init__(self) -> None:
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

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a metric over the records that carry it."""
        rows = [r for r in self.records if key in r]
        return np.array([r["epoch"] for r in rows]), np.array([r[key] for r in rows], dtype=float)

    def final(self, key: str = "jac_sym") -> float:
        return float(self.series(key)[1][-1])

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
    Also returns the spread of sym(J) over the points (``jac_sym_sd``).
    """
    W, R = model.W, model.R
    x = x.to(W.device, W.dtype)
    M = W.T @ R
    Q = (R.T @ R) * (W.T @ W)
    P = M * M.T
    d = model.hidden_derivative(x)
    norm2 = ((d @ Q) * d).sum(dim=1)
    trace = ((d @ P) * d).sum(dim=1)
    safe = torch.where(norm2 > 0, norm2, torch.ones_like(norm2))
    jac = torch.where(norm2 > 0, 0.5 + 0.5 * trace / safe, torch.ones_like(norm2))
    rw = 0.5 + 0.5 * P.sum() / Q.sum()
    return {"jac_sym": float(jac.mean()), "jac_sym_sd": float(jac.std()) if len(jac) > 1 else 0.0, "rw_sym": float(rw)}


# ----------------------------------------------------------------------------- training
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def train_run(
    spec: RunSpec, settings: Settings, data: MNIST, seed: int, checkpoint_dir: str | Path | None = None,
    progress: bool = True,
) -> RunResult:
    """Train one configuration with one seed (initialisation and batch order both from ``seed``).

    Metrics (:func:`symmetricity_metrics` on the first ``n_eval`` test images) are recorded at
    epoch 0, every ``metrics_every`` epochs and at the end, besides the loss and the training
    wall time that :func:`~conservae_lib.training.fit` records. With ``checkpoint_dir`` the run
    is checkpointed under a name that encodes the configuration, settings, seed and data, so a
    re-run resumes (or, when finished, just reloads) and gives the same numbers.
    """
    model = AutoEncoder(data.x_train.shape[1], settings.H, spec.activation, tied=False, seed=seed)
    if spec.weight_length:
        from .training import renormalize_columns

        renormalize_columns(model, settings.alpha)  # start on the constraint set
    x_eval = data.x_test[: settings.n_eval]
    ckpt = None
    if checkpoint_dir is not None:
        tag = _digest({"spec": asdict(spec), "settings": {k: v for k, v in asdict(settings).items() if k != "device"},
                       "seed": seed, "data": data.description, "source": data.source})
        ckpt = Path(checkpoint_dir) / f"{spec.key}_seed{seed}_{tag}.pt"
    history = fit(
        model, data.x_train, epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
        optimizer=settings.optimizer,
        encoder_contraction_weight=settings.cae_weight if spec.model == "CAE" else 0.0,
        weight_length=settings.alpha if spec.weight_length else None,
        metrics=lambda m: {**symmetricity_metrics(m, x_eval), "filter_cos": float(filter_cosines(m).mean())},
        metrics_every=settings.metrics_every,
        seed=seed, device=settings.device, progress=progress, desc=f"{spec.key} seed {seed}",
        checkpoint=ckpt, checkpoint_every=settings.checkpoint_every,
    )
    model.to("cpu")
    return RunResult(spec, seed, settings, history.records, model, history.resumed_from)


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


def table1(results: Sequence[RunResult], key: str = "jac_sym") -> dict[str, dict[str, float]]:
    """Per configuration: mean, sample standard deviation (ddof = 1; 0 for one seed), min, max
    and number of seeds of the final value of ``key``, plus its value at epoch 0."""
    out = {}
    for k, runs in _group(results).items():
        v = np.array([r.final(key) for r in runs])
        v0 = np.array([r.series(key)[1][0] for r in runs])
        out[k] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  "min": float(v.min()), "max": float(v.max()), "n": len(v), "initial": float(v0.mean())}
    return out


def verdict(ours_pp: float, paper_pp: float, tolerance: tuple[float, float] = TOLERANCE_PP) -> str:
    """``reproduced`` / ``partly`` / ``not reproduced`` from the distance in percentage points."""
    gap = abs(ours_pp - paper_pp)
    return "reproduced" if gap <= tolerance[0] else "partly" if gap <= tolerance[1] else "not reproduced"


def table1_frame(stats: dict[str, dict[str, float]], digits: int = 1):
    """Table 1 as the paper lays it out (rows AE, CAE), each cell "ours ± sd (paper)" in percent."""
    import pandas as pd

    rows = {}
    for spec in GRID:
        if spec.key not in stats:
            continue
        s = stats[spec.key]
        spread = f" ± {100 * s['sd']:.{digits}f}" if s["n"] > 1 else ""
        cell = f"{100 * s['mean']:.{digits}f}{spread} ({100 * PAPER_TABLE1[spec.key]:.1f})"
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


# ----------------------------------------------------------------------------- from a chapter's profile
def settings_from(cfg: Any) -> Settings:
    """The :class:`Settings` of a chapter configuration (``profiles.configure('mnist_symmetricity', …)``)."""
    return Settings(H=cfg["H"], epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=float(cfg["lr"]),
                    optimizer=cfg["optimizer"], cae_weight=float(cfg["cae_weight"]), alpha=float(cfg["alpha"]),
                    n_eval=cfg["n_eval"], metrics_every=cfg["metrics_every"],
                    checkpoint_every=cfg["checkpoint_every"], device=cfg["device"])


def seeds_from(cfg: Any) -> list[int]:
    """``n_seeds`` consecutive seeds starting at ``seed``."""
    return [cfg["seed"] + i for i in range(cfg["n_seeds"])]


def variations_from(cfg: Any) -> list[tuple[str, str, Any]]:
    """The one-at-a-time changes of the sensitivity table: learning rate (AE, sigmoid and ReLU),
    batch size (AE sigmoid), CAE strength λ (CAE sigmoid) and α (AE sigmoid+wl and ReLU+wl)."""
    out: list[tuple[str, str, Any]] = []
    out += [(k, "lr", float(v)) for v in cfg["sens_lr"] for k in ("AE.sigmoid", "AE.relu")]
    out += [("AE.sigmoid", "batch_size", int(v)) for v in cfg["sens_batch_size"]]
    out += [("CAE.sigmoid", "cae_weight", float(v)) for v in cfg["sens_cae_weight"]]
    out += [(k, "alpha", float(v)) for v in cfg["sens_alpha"] for k in ("AE.sigmoid_wl", "AE.relu_wl")]
    return out


def load_data(cfg: Any) -> MNIST:
    """MNIST as the chapter's ``data_source`` / ``data_root`` / ``n_train`` / ``n_test`` ask."""
    from .data import load_mnist

    return load_mnist(cfg["data_source"], cfg["data_root"], seed=cfg["seed"], n_train=cfg["n_train"], n_test=cfg["n_test"])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m conservae_lib.empirical PROFILE [--workers K] [--threads T]``.

    Trains a profile's grid and sensitivity runs into the chapter's checkpoint folder, exactly
    as the chapter would (the chapter then reads the finished checkpoints), in a pool of K
    processes (:func:`train_runs`).
    """
    import argparse

    from . import profiles, results

    ap = argparse.ArgumentParser(prog="python -m conservae_lib.empirical")
    ap.add_argument("profile", choices=profiles.PROFILES)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--part", choices=("all", "grid", "sensitivity"), default="all")
    ap.add_argument("--seeds", type=int, default=0, help="train this many seeds (0: the profile's n_seeds)")
    ap.add_argument("--only", default="", help="comma-separated KEY:SEED grid runs to train, in this order")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = profiles.configure("mnist_symmetricity", args.profile)
    data = load_data(cfg)
    settings = settings_from(cfg)
    ckpt = results.results_dir("mnist_symmetricity", args.profile) / "checkpoints"
    jobs: list[tuple[RunSpec, Settings, int]] = []
    seeds = [cfg["seed"] + i for i in range(args.seeds)] if args.seeds else seeds_from(cfg)
    if args.only:
        by_key = {s.key: s for s in GRID}
        jobs += [(by_key[k], settings, int(sd)) for k, sd in (item.split(":") for item in args.only.split(","))]
    elif args.part in ("all", "grid"):
        jobs += [(s, settings, seed) for seed in seeds for s in GRID]
    short = replace(settings, epochs=cfg["sens_epochs"])
    specs = {s.key: s for s in GRID}
    if args.part in ("all", "sensitivity") and not args.only:
        jobs += [(specs[k], replace(short, **{name: v}), cfg["seed"]) for k, name, v in variations_from(cfg)]
    for (spec, st, seed), r in zip(jobs, train_runs(jobs, data, ckpt, progress=True, workers=args.workers)):
        print(f"{spec.key} seed {seed} {st.epochs} ep: sym {r.final():.4f} rw {r.final('rw_sym'):.4f}", flush=True)


if __name__ == "__main__":
    main()
