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
from .training import fit

Tensor = torch.Tensor

__all__ = ["CurlProbe", "train_and_track", "curl_table"]


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
    """Train a denoising auto-encoder on ``data`` (N × 2) and record its curl during training.

    The model is :class:`~conservae_lib.models.AutoEncoder` (eq. 1) in float64 with
    ``hidden`` units, seeded by ``seed`` (initialisation and the noise/batch stream). Returns a
    dict with ``history`` (a list of per-record dicts: ``epoch``, ``loss``, and the keys of
    :meth:`CurlProbe.measure`), ``initial`` (a copy of the untrained model) and ``model``.
    ``epochs=0`` gives the untrained control.
    """
    data = torch.as_tensor(data, dtype=torch.float64)
    if data.ndim != 2 or data.shape[1] != 2:
        raise ValueError(f"data must be an N × 2 array of 2-D points; got shape {tuple(data.shape)}.")
    model = AutoEncoder(2, hidden, activation=activation, tied=tied, seed=seed, dtype=torch.float64)
    initial = copy.deepcopy(model)
    hist = fit(model, data, epochs=epochs, batch_size=batch_size, lr=lr, noise=noise,
               metrics=probe.measure, metrics_every=record_every, seed=seed, device=device,
               progress=progress, desc=f"{'tied' if tied else 'untied'} AE, seed {seed}")
    model.cpu()
    records = [{k: v for k, v in r.items() if k != "train_time_s"} for r in hist.records]
    return {"history": records, "initial": initial, "model": model}


def curl_table(runs: Sequence[dict[str, Any]], key: str) -> dict[str, float]:
    """Mean and standard deviation over runs of ``key`` at the first and the last record."""
    first = np.array([r["history"][0][key] for r in runs])
    last = np.array([r["history"][-1][key] for r in runs])
    return {"initial_mean": float(first.mean()), "initial_std": float(first.std()),
            "final_mean": float(last.mean()), "final_std": float(last.std())}


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
