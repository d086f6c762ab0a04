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
records these numbers every ``record_every`` epochs. Chapter: *Untied auto-encoders become
curl-free near the data* (05_curl_2d).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from .fields import curl_2d, jacobian
from .models import AutoEncoder
from .plotting import grid_2d
from .toy_data import distance_to_curve
from .training import DivergenceError, fit

Tensor = torch.Tensor

__all__ = ["CurlProbe", "collapse_reason", "train_and_track", "collapsed_runs", "ratio_final_initial",
           "curl_rows", "plot_field_over_curl", "plot_curl_curves"]

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
    import matplotlib.pyplot as plt

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
