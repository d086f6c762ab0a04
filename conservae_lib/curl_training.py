"""Curl of an auto-encoder's field r(x) − x during training, on a grid (Figure 3).

In two dimensions a field F is conservative on a simply connected region exactly when its
scalar curl ∂F_y/∂x − ∂F_x/∂y vanishes there (Proposition 1 with D = 2); for an auto-encoder
the curl of r(x) − x is the curl of r, i.e. J₁₀ − J₀₁ of the Jacobian J = R D_h' Wᵀ
(Proposition 2). :class:`CurlProbe` measures it exactly (no finite differences) on a regular grid
over a box, over the whole box and over the grid points *near the data* (within ``near_radius``
of the noise-free curve), as

* ``curl_abs_*`` — mean |curl|, in the field's own units (1/length · length = dimensionless);
* ``curl_rel_*`` — mean |curl| / mean(√2 ‖J‖_F): the size of the antisymmetric part of the
  Jacobian against the whole Jacobian, pointwise equal to √(1 − sym(J)) with the paper's
  symmetricity measure. It is 0 for a conservative model and does not fall merely because the
  model's Jacobian shrinks.

:func:`train_and_track` trains one auto-encoder with :func:`conservae_lib.training.fit` and
records these numbers every ``record_every`` epochs; :func:`train_models` runs the chapter's three
models (plain, denoising, tied) on every data set and seed, :func:`fig3_ratios` gives the ledger's
statistic for claim ``fig3``, and the ``plot_*`` functions draw the chapter's figures. Chapter:
*Untied auto-encoders become curl-free near the data* (05_curl_2d).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm import tqdm

from .fields import curl_2d, jacobian
from .models import AutoEncoder
from .plotting import grid_2d
from .toy_data import curve, distance_to_curve, make_dataset
from .training import DivergenceError, fit

Tensor = torch.Tensor

__all__ = ["CurlProbe", "collapse_reason", "train_and_track", "collapsed_runs", "ratio_final_initial",
           "one_thread_on_cpu", "make_problems", "train_models", "FIG3_READINGS", "fig3_ratios", "data_note",
           "summary", "glue_texts", "curl_rows", "plot_field_over_curl", "plot_curl_curves", "plot_datasets", "plot_figure3",
           "plot_curl_against_time"]

Runs = dict[str, list[dict[str, Any]]]  # data set → the runs of :func:`train_and_track`, one per seed

#: A model whose largest ‖∂r/∂x‖_F over the grid is below this has a constant reconstruction there.
JACOBIAN_FLOOR = 1e-6


def collapse_reason(model: torch.nn.Module, points: Tensor, losses: Sequence[float] = (),
                    degenerate: str | None = None, jacobian_floor: float = JACOBIAN_FLOOR) -> str | None:
    """Why a trained model cannot be scored for conservativeness, or ``None`` when it can.

    A collapsed network has a conservative field for a trivial reason: if r is constant on the
    grid, its curl J₁₀ − J₀₁ (Proposition 2) is zero everywhere and its field c − x is a
    gradient. Such a run says nothing about whether training makes auto-encoders conservative,
    so chapters 05 and 06 hand the ledger ``not_tested=<reason>`` instead of a number. In order:
    ``degenerate`` (the trainer's own verdict, ``History.degenerate`` of
    :func:`conservae_lib.training.fit`: diverged, or the loss never fell); a non-finite value in
    ``losses``; non-finite weights; (auto-encoders) no hidden unit with h'(Wᵀx + b) > 0 at any of
    ``points`` (a dead network); the largest ‖∂r/∂x‖_F over ``points`` below ``jacobian_floor``
    (constant on the whole grid — unlike :func:`conservae_lib.training.collapse_reason`, which
    looks at the median for MNIST, a 2-D field that is flat on part of the box is not collapsed).
    """
    if degenerate:
        return str(degenerate)
    if any(not math.isfinite(float(v)) for v in losses):
        return "training diverged: the loss became non-finite."
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        return "the network's parameters are not finite (training diverged)."
    p = next(model.parameters())
    pts = torch.as_tensor(points).to(p.device, p.dtype)
    with torch.no_grad():
        if isinstance(model, AutoEncoder) and not bool((model.hidden_derivative(pts) > 0).any()):
            return "the network is dead: no hidden unit is active anywhere on the grid, so r is constant."
        largest = float(jacobian(model, pts).pow(2).sum(dim=(1, 2)).sqrt().max())
    if not largest >= jacobian_floor:
        return f"the reconstruction is constant on the grid (‖∂r/∂x‖ < {jacobian_floor:g} everywhere)."
    return None


def collapsed_runs(runs: dict[str, Sequence[dict[str, Any]]]) -> str | None:
    """One sentence naming every collapsed run among ``runs`` (data set → list of runs), or ``None``."""
    bad = [f"{name}, seed {run['seed']}: {run['collapsed']}" for name, rs in runs.items() for run in rs if run["collapsed"]]
    return ("collapsed run(s) — " + "; ".join(bad)) if bad else None


@dataclass
class CurlProbe:
    """Grid over ``box`` with ``n`` × ``n`` points and the mask of those near data set ``name``."""

    name: str
    box: Sequence[float] = (-1.2, 1.2, -1.2, 1.2)
    n: int = 41
    near_radius: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 3:
            raise ValueError(f"n must be an integer ≥ 3; got {self.n!r}.")
        if not self.near_radius > 0:
            raise ValueError(f"near_radius must be positive; got {self.near_radius!r}.")
        self.x, self.y, self.points = grid_2d(self.box, self.n, torch.float64)
        self.near = distance_to_curve(self.name, self.points) < self.near_radius
        if not bool(self.near.any()):
            raise ValueError("no grid point lies within near_radius of the curve; use a finer grid or a larger radius.")

    def curl_map(self, model: torch.nn.Module) -> np.ndarray:
        """Exact curl of the model's field on the grid, shape (n, n) (rows are y)."""
        p = next(model.parameters())
        pts = self.points.to(p.device, p.dtype)
        with torch.no_grad():
            return curl_2d(model, pts).detach().cpu().numpy().reshape(self.n, self.n)

    def measure(self, model: torch.nn.Module) -> dict[str, float]:
        """Mean |curl| and relative curl near the data and over the whole box."""
        p = next(model.parameters())  # during training the model may sit on a GPU
        pts = self.points.to(p.device, p.dtype)
        with torch.no_grad():
            J = jacobian(model, pts)
            curl = (J[:, 1, 0] - J[:, 0, 1]).abs().double().cpu()
            scale = (J.double().pow(2).sum(dim=(1, 2)).sqrt() * math.sqrt(2)).cpu()
        out: dict[str, float] = {}
        for key, mask in (("near", self.near), ("box", torch.ones_like(self.near))):
            c, s = curl[mask].mean(), scale[mask].mean()
            out[f"curl_abs_{key}"] = float(c)
            out[f"curl_rel_{key}"] = float(c / s) if s > 0 else 0.0
        return out


def train_and_track(
    data: Tensor,
    probe: CurlProbe,
    *,
    hidden: int = 100,
    activation: str = "relu",
    tied: bool = False,
    noise: float = 0.1,
    epochs: int = 300,
    batch_size: int = 50,
    lr: float = 3e-3,
    record_every: int = 10,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train an auto-encoder on ``data`` (N × 2) and record its curl during training.

    The model is :class:`~conservae_lib.models.AutoEncoder` (eq. 1) in float64 with
    ``hidden`` units, seeded by ``seed`` (initialisation and the noise/batch stream). ``noise=0``
    is the plain auto-encoder the paper trains for Figure 3; ``noise > 0`` a denoising one
    (Gaussian corruption of that standard deviation). Returns a dict with ``history`` (a list of
    per-record dicts: ``epoch``, ``loss``, and the keys of :meth:`CurlProbe.measure`),
    ``initial`` (a copy of the untrained model), ``model``, ``seed`` and ``collapsed``: ``None``,
    or the reason (:func:`collapse_reason`) why the run must not be scored — a run whose loss
    became non-finite ends there, with only its epoch-0 record. ``epochs=0`` gives the untrained
    control.
    """
    data = torch.as_tensor(data, dtype=torch.float64)
    if data.ndim != 2 or data.shape[1] != 2:
        raise ValueError(f"data must be an N × 2 array of 2-D points; got shape {tuple(data.shape)}.")
    model = AutoEncoder(2, hidden, activation=activation, tied=tied, seed=seed, dtype=torch.float64)
    initial = copy.deepcopy(model)
    try:
        hist = fit(model, data, epochs=epochs, batch_size=batch_size, lr=lr, noise=noise,
                   metrics=probe.measure, metrics_every=record_every, seed=seed, device=device,
                   progress=progress, desc=f"{'tied' if tied else 'untied'} AE, seed {seed}")
        records = [{k: v for k, v in r.items() if k != "train_time_s"} for r in hist.records]
        degenerate = getattr(hist, "degenerate", None)
    except DivergenceError as err:
        records = [dict(epoch=0, loss=float("nan"), **probe.measure(initial))]
        degenerate = str(err)
    model.cpu()
    return {"history": records, "initial": initial, "model": model, "seed": seed,
            "collapsed": collapse_reason(model, probe.points, [r["loss"] for r in records], degenerate)}


def ratio_final_initial(run: dict[str, Any], key: str) -> float:
    """``key`` at the last record over ``key`` at the first (epoch 0) of one run: below 1 when it fell."""
    first, last = run["history"][0][key], run["history"][-1][key]
    return float(last / first) if first > 0 else float("nan")


def one_thread_on_cpu(device: torch.device) -> None:
    """Let torch use one thread when ``device`` is a CPU: for chapter 05's tiny models one thread beats
    several (no synchronisation overhead). Call it before anything is computed, as chapter 05 does."""
    if device.type == "cpu":
        torch.set_num_threads(1)


def make_problems(names: Sequence[str], n_samples: int, noise: float, *, seed: int, half_width: float,
                  grid_n: int, near_radius: float) -> tuple[dict[str, Tensor], dict[str, CurlProbe]]:
    """Chapter 05's data sets (:func:`conservae_lib.toy_data.make_dataset`, all from ``seed``) and one
    :class:`CurlProbe` per set on the box [−half_width, half_width]², as two dicts keyed by name."""
    box = (-half_width, half_width, -half_width, half_width)
    data = {name: make_dataset(name, n_samples, noise, seed=seed) for name in names}
    probes = {name: CurlProbe(name, box=box, n=grid_n, near_radius=near_radius) for name in names}
    return data, probes


def train_models(data: dict[str, Tensor], probes: dict[str, CurlProbe], seeds: Sequence[int], *, dae_noise: float,
                 **train: Any) -> tuple[Runs, Runs, Runs]:
    """Chapter 05's runs of :func:`train_and_track`: ``(plain, denoising, tied)``, each data set → runs.

    Per data set, in this order: the plain untied auto-encoder of eq. (1) (the paper's Figure 3
    model, no corruption) for every seed, the denoising extra (corruption ``dae_noise``) for every
    seed, and the tied control (zero curl by Corollary 1) for the first seed. ``train`` goes to
    :func:`train_and_track` (hidden, activation, epochs, batch_size, lr, record_every, device).
    """
    plain: Runs = {}
    denoising: Runs = {}
    tied: Runs = {}
    train = {"progress": False, **train}
    for name in data:
        def track(seed: int, **kw: Any) -> dict[str, Any]:
            return train_and_track(data[name], probes[name], seed=seed, **kw, **train)

        plain[name] = [track(s, tied=False, noise=0.0) for s in tqdm(seeds, desc=f"{name}: plain untied")]
        denoising[name] = [track(s, tied=False, noise=dae_noise) for s in tqdm(seeds, desc=f"{name}: denoising untied")]
        tied[name] = [track(s, tied=True, noise=0.0) for s in seeds[:1]]
    return plain, denoising, tied


#: The readings of claim ``fig3`` (``None``: the paper's) and the record key of the ratio each one judges.
FIG3_READINGS: dict[str | None, str] = {None: "curl_abs_near", "over the whole box": "curl_abs_box",
                                        "relative curl near the data": "curl_rel_near"}


def fig3_ratios(runs: Runs, key: str) -> list[float]:
    """The statistic of claim ``fig3``: :func:`ratio_final_initial` of ``key``, one per data set and seed."""
    return [ratio_final_initial(run, key) for group in runs.values() for run in group]


def data_note(n_samples: int, noise: float, hidden: int, activation: str, epochs: int) -> str:
    """The ``data=`` text of chapter 05's ledger records: the data and the model behind them."""
    return (f"{n_samples} noisy points per curve (noise {noise}); plain untied AE, {hidden} "
            f"{activation} units, {epochs} epochs of Adam")


def summary(plain: Runs, denoising: Runs, tied: Runs) -> dict[str, Any]:
    """Chapter 05's summary entries (besides its claims), also the numbers its prose cites.

    ``tied_max_abs``: the largest mean |curl| of the tied control at any record (Corollary 1:
    rounding error); per data set, the mean over seeds of the ratio final / initial of |curl| near
    the data (``near_ratio``) and over the box (``box_ratio``) and of the final relative curl
    there (``rel_near_final``, ``rel_box_final``); ``histories``: model → data set → the records
    of each seed's run, for the plain and the denoising auto-encoders.
    """
    def per_set(value) -> dict[str, float]:
        return {name: float(np.mean([value(r) for r in group])) for name, group in plain.items()}

    return {
        "tied_max_abs": max(max(r["curl_abs_near"], r["curl_abs_box"]) for g in tied.values() for run in g
                            for r in run["history"]),
        "near_ratio": per_set(lambda r: ratio_final_initial(r, "curl_abs_near")),
        "box_ratio": per_set(lambda r: ratio_final_initial(r, "curl_abs_box")),
        "rel_near_final": per_set(lambda r: r["history"][-1]["curl_rel_near"]),
        "rel_box_final": per_set(lambda r: r["history"][-1]["curl_rel_box"]),
        "histories": {label: {name: [r["history"] for r in group] for name, group in by_data.items()}
                      for label, by_data in (("plain", plain), ("denoising", denoising))},
    }


def glue_texts(numbers: dict[str, Any], claims: Sequence[dict[str, Any]]) -> dict[str, str]:
    """What chapter 05's prose glues, by glue name: the numbers of :func:`summary` (``near_best``,
    ``near_worst``, ``box_best``, ``box_worst``, ``n_near_below_box``, ``n_rel_near_below_box``,
    ``tied_max``) and the verdicts of its first two ``fig3`` records in the order of
    :data:`FIG3_READINGS` (``verdict05``: the paper's reading, ``verdict05_box``: the whole box)."""
    from .report import fmt, fmt_small

    near, box, rel_near, rel_box = (numbers[k] for k in ("near_ratio", "box_ratio", "rel_near_final", "rel_box_final"))
    return {
        "near_best": fmt(min(near.values()), 2), "near_worst": fmt(max(near.values()), 2),
        "box_best": fmt(min(box.values()), 2), "box_worst": fmt(max(box.values()), 2),
        "n_near_below_box": f"{sum(near[n] < box[n] for n in near)} of {len(near)}",
        "n_rel_near_below_box": f"{sum(rel_near[n] < rel_box[n] for n in near)} of {len(near)}",
        "tied_max": fmt_small(numbers["tied_max_abs"]),
        "verdict05": claims[0]["verdict"], "verdict05_box": claims[1]["verdict"],
    }


def curl_rows(runs: dict[str, dict[str, Sequence[dict[str, Any]]]]) -> list[dict[str, str]]:
    """Chapter 05's table: per model and data set, the mean |curl| near the data and over the whole
    box, initial → final and their ratio, side by side, and the final relative curls.

    ``runs`` maps a model label to {data set: list of runs of :func:`train_and_track`}; means over
    the runs (seeds), with the ratio averaged seed by seed. A model with a collapsed run is marked.
    """
    from .report import fmt

    rows = []
    for label, by_data in runs.items():
        for name, group in by_data.items():
            def mean(key: str, at: int) -> float:
                return float(np.mean([r["history"][at][key] for r in group]))

            def ratio(key: str) -> float:
                return float(np.mean([ratio_final_initial(r, key) for r in group]))

            rows.append({
                "model": label + (" [collapsed]" if any(r["collapsed"] for r in group) else ""), "data set": name,
                "|curl| near: initial → final": f"{fmt(mean('curl_abs_near', 0), 2)} → {fmt(mean('curl_abs_near', -1), 2)}",
                "ratio near": fmt(ratio("curl_abs_near"), 2),
                "|curl| box: initial → final": f"{fmt(mean('curl_abs_box', 0), 2)} → {fmt(mean('curl_abs_box', -1), 2)}",
                "ratio box": fmt(ratio("curl_abs_box"), 2),
                "rel. curl near / box, final": f"{fmt(mean('curl_rel_near', -1), 2)} / {fmt(mean('curl_rel_box', -1), 2)}",
            })
    return rows


# ----------------------------------------------------------------------------- figures
def plot_field_over_curl(ax, model: torch.nn.Module, probe: CurlProbe, data: Tensor | None = None,
                         title: str | None = None, n_arrows: int = 17, vmax: float | None = None):
    """The model's field r(x) − x as arrows over its exact curl map (red/blue heat map)."""
    from .plotting import plot_field

    c = probe.curl_map(model)
    lim = vmax if vmax is not None else (float(np.abs(c).max()) or 1.0)
    im = ax.imshow(c, origin="lower", extent=tuple(probe.box), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="bilinear")
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    plot_field(ax, model, box=probe.box, n=n_arrows, color="k",
               data=None if data is None else np.asarray(data))
    if title:
        ax.set_title(title)
    return ax


def plot_curl_curves(ax, runs: Sequence[dict[str, Any]], key: str, label: str, color: str, style: str = "-"):
    """Mean over runs of ``key`` against the epoch, with a ±1 standard-deviation band."""
    epochs = np.array([r["epoch"] for r in runs[0]["history"]])
    vals = np.array([[r[key] for r in run["history"]] for run in runs])
    mean, std = vals.mean(axis=0), vals.std(axis=0)
    ax.plot(epochs, mean, style, color=color, label=label)
    if len(runs) > 1:
        ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2, lw=0)
    return ax


def plot_datasets(data: dict[str, Tensor], probes: dict[str, CurlProbe]) -> plt.Figure:
    """One panel per data set: its points, the noise-free curve and, shaded, the grid points near it."""
    fig, axes = plt.subplots(1, len(data), figsize=(3.6 * len(data), 3.6), squeeze=False)
    for ax, name in zip(axes[0], data):
        p = probes[name]
        ax.contourf(p.x, p.y, p.near.numpy().reshape(p.n, p.n), levels=[0.5, 1.5], colors=["0.85"])
        ax.scatter(*data[name].T, s=3, c="tab:orange")
        ax.plot(*curve(name).T, "k", lw=0.8)
        ax.set(xlim=p.box[:2], ylim=p.box[2:], aspect="equal", title=name)
    fig.tight_layout()
    return fig


def plot_figure3(plain: Runs, denoising: Runs, probes: dict[str, CurlProbe], data: dict[str, Tensor],
                 epochs: int) -> plt.Figure:
    """Figure 3: the first seed's field over its curl, per data set (columns); rows: the untrained
    model, the plain untied auto-encoder after ``epochs`` epochs, the denoising extra."""
    fig, axes = plt.subplots(3, len(plain), figsize=(4.2 * len(plain), 11.4), squeeze=False)
    for j, name in enumerate(plain):
        panels = ((plain[name][0]["initial"], "initial"), (plain[name][0]["model"], f"plain AE, {epochs} epochs"),
                  (denoising[name][0]["model"], "denoising AE (extra)"))
        for i, (model, what) in enumerate(panels):
            plot_field_over_curl(axes[i, j], model, probes[name], data[name], title=f"{name}: {what}")
    fig.tight_layout()
    return fig


def plot_curl_against_time(plain: Runs, denoising: Runs, tied: Runs) -> plt.Figure:
    """Mean |curl| (top) and relative curl (bottom) against the epoch, per data set: plain (red) and
    denoising (blue) near the data (solid) and over the box (dashed), the tied control dotted."""
    fig, axes = plt.subplots(2, len(plain), figsize=(4.2 * len(plain), 6.8), squeeze=False, sharex=True)
    for j, name in enumerate(plain):
        for row, kind in enumerate(("abs", "rel")):
            ax = axes[row, j]
            for runs, label, color in ((plain[name], "plain", "tab:red"), (denoising[name], "denoising", "tab:blue")):
                plot_curl_curves(ax, runs, f"curl_{kind}_near", f"{label}, near data", color)
                plot_curl_curves(ax, runs, f"curl_{kind}_box", f"{label}, whole box", color, "--")
            plot_curl_curves(ax, tied[name], f"curl_{kind}_near", "tied (control)", "k", ":")
            ax.set(title=name if row == 0 else None, xlabel="epoch" if row == 1 else None)
    axes[0, 0].set_ylabel("mean |curl|")
    axes[1, 0].set_ylabel("relative curl")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig
