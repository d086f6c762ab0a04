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

:func:`train_and_track` trains one auto-encoder with :func:`conservae_lib.training.trainer.fit` and
records these numbers every ``record_every`` epochs; :func:`train_models` runs the chapter's three
models (plain, denoising, tied) on every data set and seed, :func:`fig3_ratios` gives the ledger's
statistic for claim ``fig3`` (:mod:`conservae_lib.chapters.curl_2d.figures` draws and tabulates them). Chapter:
*Untied auto-encoders become curl-free near the data* (05_curl_2d).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from tqdm import tqdm

from conservae_lib.core.fields import curl_2d, grid_2d, jacobian
from conservae_lib.core.models import AutoEncoder
from conservae_lib.data.toy_data import distance_to_curve, make_dataset
from conservae_lib.training.collapse import collapse_reason
from conservae_lib.training.trainer import DivergenceError, fit

Tensor = torch.Tensor

__all__ = ["CurlProbe", "train_and_track", "collapsed_runs", "ratio_final_initial",
           "one_thread_on_cpu", "make_problems", "train_models", "FIG3_READINGS", "fig3_ratios", "data_note",
           "summary", "PARAMETERS"]

Runs = dict[str, list[dict[str, Any]]]  # data set → the runs of :func:`train_and_track`, one per seed

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

    The model is :class:`~conservae_lib.core.models.AutoEncoder` (eq. 1) in float64 with
    ``hidden`` units, seeded by ``seed`` (initialisation and the noise/batch stream). ``noise=0``
    is the plain auto-encoder the paper trains for Figure 3; ``noise > 0`` a denoising one
    (Gaussian corruption of that standard deviation). Returns a dict with ``history`` (a list of
    per-record dicts: ``epoch``, ``loss``, and the keys of :meth:`CurlProbe.measure`),
    ``initial`` (a copy of the untrained model), ``model``, ``seed`` and ``collapsed``: ``None``,
    or the reason (:func:`conservae_lib.training.collapse.collapse_reason`, its ``"everywhere"``
    test on the probe's grid) why the run must not be scored — a run whose loss
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
            "collapsed": collapse_reason(model, probe.points, [r["loss"] for r in records], degenerate=degenerate,
                                         jacobian_test="everywhere")}


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
    """Chapter 05's data sets (:func:`conservae_lib.data.toy_data.make_dataset`, all from ``seed``) and one
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


# ------------------------------------------------------------------------- chapter 05's parameters
