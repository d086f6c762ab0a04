"""The readings chapter 04 must choose where the paper is silent: ε of eq. (10), Rifai's penalty, the optimiser.

* ε by a rule fixed before Table 1 is looked at (:func:`epsilon_jobs`, :func:`choose_epsilon`): the
  largest ε whose reconstruction error stays within a bound of the AE's;
* the second CAE reading, Rifai's λ‖∂h/∂x‖²_F: with ReLU units and the weight-length constraint it is
  λα·(number of active units), its gradient radial in each w_k, so the renormalisation removes it
  (:func:`rifai_relu_wl_check` measures this);
* the optimiser — Adam, SGD with momentum 0.9, plain SGD: :func:`curve_shape` and
  :func:`reading_summary` describe each reading's curves; :func:`primary_readings` picks the primary
  one(s) by the shape of the curves alone (co-primary when it cannot separate them), :func:`lead_reading`
  the one that trains the single-reading extras; no choice reads the paper's numbers.

Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from .empirical import GRID, RunResult, RunSpec, Settings, paper_table1
from conservae_lib.core.models import AutoEncoder
from conservae_lib.presentation import report

Tensor = torch.Tensor

__all__ = ["epsilon_jobs", "choose_epsilon", "rifai_relu_wl_check", "curve_shape", "reading_summary",
           "primary_readings", "lead_reading", "reconstruction_ratios", "PLATEAU", "rifai_check_frame"]

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
    from conservae_lib.core.contraction import encoder_contraction
    from conservae_lib.training.trainer import renormalize_columns

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
#: The shape of Figure 2's curves (:func:`curve_shape`).
PLATEAU = "rises and plateaus"


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
                    else "still rising" if out["late_gain"] > tol else PLATEAU)
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
            "n_plateau": shapes.count(PLATEAU), "n_falls": shapes.count("peaks then falls"),
            "n_rising": shapes.count("still rising"), "n": len(cells)}


def primary_readings(summaries: Mapping[str, dict[str, Any]]) -> list[str]:
    """The primary reading(s), by a rule that reads no number of the paper: the readings whose curves most
    often rise and plateau (``n_plateau`` of :func:`reading_summary`, the shape Figure 2 shows). When several
    share the largest count the rule cannot separate them, and all of them are co-primary (in the order of
    ``summaries``): each is trained with every seed and judged, and a claim's primary verdict is the least
    favourable of theirs (:func:`conservae_lib.claims.ledger.least_favourable`)."""
    if not summaries:
        raise ValueError("primary_readings needs at least one reading.")
    best = max(sm["n_plateau"] for sm in summaries.values())
    return [k for k, sm in summaries.items() if sm["n_plateau"] == best]


def lead_reading(seed0: Mapping[str, Sequence[RunResult]], candidates: Sequence[str]) -> str:
    """Among co-primary ``candidates``, the one that trains the single-reading extras (Rifai's penalty, the
    sensitivity runs, the data-set check, Figure 1): the optimiser whose first-seed models reconstruct the
    held-out images best — the lowest mean final held-out reconstruction error over the cells that are not
    degenerate (the objective every reading minimises; no number of the paper). Ties: the first candidate."""
    def mean_error(name: str) -> float:
        errs = [r.final("rec_err") for r in seed0[name] if not r.degenerate]
        return float(np.mean(errs)) if errs else math.inf

    return min(candidates, key=lambda k: (mean_error(k), list(candidates).index(k)))


def reconstruction_ratios(runs: Sequence[RunResult], eps_epochs: int) -> dict[str, dict[str, float]]:
    """Per CAE cell of one reading's first-seed ``runs``: the CAE/AE ratio of held-out reconstruction
    errors at ``eps_epochs`` (where the ε rule bounds it) and after the last epoch (where Table 1 is
    measured), so the rule can be checked at the length that produces Table 1."""
    by = {(r.spec.key, r.seed): r for r in runs}
    out = {}
    for r in runs:
        ae = by.get((r.spec.key.replace("CAE", "AE"), r.seed))
        if r.spec.model != "CAE" or ae is None:
            continue
        at = [x.at_epoch("rec_err", eps_epochs) for x in (r, ae)]
        out[r.spec.key] = {"eps": r.settings.cae_weight, "seed": r.seed,
                           "at_rule": at[0] / at[1] if None not in at else math.nan,
                           "final": r.final("rec_err") / ae.final("rec_err")}
    return out


def rifai_check_frame(check: Mapping[str, float]) -> pd.DataFrame:
    """:func:`rifai_relu_wl_check` as a table."""
    return report.frame([
        {"quantity": "λ‖∂h/∂x‖²_F (mean over points)", "value": report.fmt(check["penalty"], 6)},
        {"quantity": "λα · mean number of active units", "value": report.fmt(check["lam_alpha_active"], 6)},
        {"quantity": "relative difference", "value": report.fmt_small(check["rel_diff"], 1e-9)},
        {"quantity": "smallest cosine(gradient of the penalty in w_k, w_k)", "value": report.fmt(check["min_cos"], 6)},
        {"quantity": "largest tangential share of a gradient", "value": report.fmt_small(check["max_tangential"], 1e-9)},
        {"quantity": "largest |ΔW| of one penalty step of size 0.01 …", "value": report.fmt(check["step"], 3)},
        {"quantity": "… after the renormalisation", "value": report.fmt_small(check["change_after_renorm"], 1e-9)},
    ], index="quantity")
