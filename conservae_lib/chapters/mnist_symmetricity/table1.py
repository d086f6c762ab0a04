"""Table 1 and the paper's statements around it, from finished runs: statistics over seeds, curves,
baselines, hidden-unit statistics, sensitivity, and the statistics the claim ledger judges.

Each Table 1 cell is the held-out mean of sym(∂r/∂x) = ‖(J + Jᵀ)/2‖²_F / ‖J‖²_F, J = R D_h'(x) Wᵀ
(Proposition 2), after the last epoch (:func:`table1`); Figure 2's curves (:func:`curves`); the
untrained untied and the tied (Corollary 1) baselines; the sigmoid's high-curvature band and the
spread of h' across units behind eq. (15) (:func:`~conservae_lib.chapters.mnist_symmetricity.symmetry_metrics.hidden_statistics`); one-at-a-time changes of the
unstated hyper-parameters (:func:`sensitivity`); and :func:`claim_inputs`, the keyword arguments of
``ledger.judge`` for every claim of the chapter; the data-set check (:func:`data_check_gaps`,
:func:`data_check_claims`). Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch

from conservae_lib.data.mnist import MNIST
from .empirical import GRID, RunResult, Settings, paper_table1, train_runs
from conservae_lib.core.models import AutoEncoder
from .readings import PLATEAU, curve_shape
from .run_files import run_statistics
from .symmetry_metrics import symmetricity_metrics

Tensor = torch.Tensor

__all__ = ["table1", "curves", "random_baseline", "sensitivity", "SECTIONS", "claim_inputs", "baselines", "hidden_by_model", "judge_claims", "summary_record",
           "data_check_gaps", "data_check_reading", "data_check_claims", "data_check_record"]

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


def curves(results: Sequence[RunResult], key: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per configuration: epochs, mean over seeds and sd over seeds of a metric's trajectory."""
    out = {}
    for k, runs in _group(results).items():
        ep = runs[0].series(key)[0]
        vals = np.stack([r.series(key)[1] for r in runs])
        out[k] = (ep, vals.mean(axis=0), vals.std(axis=0, ddof=1) if len(runs) > 1 else np.zeros(len(ep)))
    return out


@torch.no_grad()
def random_baseline(activation: str, D: int, H: int, x: Tensor, seeds: Sequence[int],
                    alpha: float | None = None) -> np.ndarray:
    """sym(∂r/∂x) (mean over x) of untrained untied models (Glorot, independent W and R), one per seed."""
    out = []
    for s in seeds:
        m = AutoEncoder(D, H, activation, tied=False, seed=s)
        if alpha is not None:
            from conservae_lib.training.trainer import renormalize_columns

            renormalize_columns(m, alpha)
        out.append(symmetricity_metrics(m, x)["jac_sym"])
    return np.array(out)


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


# ----------------------------------------------------------------------------- what the ledger is handed
#: The MyST label of the section that shows the evidence of each claim of the chapter.
SECTIONS: dict[str, str] = {
    "table1": "sec-mnist-table1", "data-check": "sec-mnist-data-check", "wl-higher": "sec-mnist-table1", "cae-more-symmetric": "sec-mnist-table1",
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
    """The keyword arguments of :func:`conservae_lib.claims.ledger.judge` for every claim of the chapter that
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
    add("cae-more-symmetric", "cae-more-symmetric", **_pairs(runs, [("CAE.sigmoid", "AE.sigmoid")],
                                                             lambda a, b: final(a) > final(b)))
    for model in ("AE", "CAE"):
        cell = [by[(f"{model}.sigmoid", sd)] for sd in seeds]
        bad = _not_tested(cell)
        add(f"fig2.plateau.{model}", "fig2.plateau.AE", **({"not_tested": bad} if bad else {"values": [final(r) for r in cell]}))
    bad = _not_tested(runs)
    add("fig2", "fig2", **({"not_tested": bad} if bad else {
        "values": [curve_shape(r)["shape"] == PLATEAU for r in runs], "n_seeds": len(seeds)}))
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
    share_wl = [run_statistics(r, x_eval)["hidden"]["in_band"] for r in wl]
    share_plain = [run_statistics(r, x_eval)["hidden"]["in_band"] for r in plain]
    add("wl-curvature", "wl-curvature", values=share_wl, control=share_plain)
    add("wl-curvature.contrast", "wl-curvature", values=[bool(a > b) for a, b in zip(share_wl, share_plain)],
        n_seeds=len(seeds))
    return out


def baselines(D: int, settings: Settings, x: Tensor, seeds: Sequence[int], primary0: dict[str, RunResult],
              ) -> tuple[dict[tuple[str, float | None], np.ndarray], list[float]]:
    """What 50 % and 100 % mean: sym(∂r/∂x) of untrained untied models, sigmoid and ReLU, without and
    with the weight-length constraint (one value per seed), and of the tied models (R := W) of the
    trained sigmoid and ReLU AEs' encoders, exactly 1 by Corollary 1 (a degenerate run's encoder is left out:
    a diverged or collapsed model has no Jacobian to speak of)."""
    random = {(act, a): random_baseline(act, D, settings.H, x, seeds, alpha=a)
              for act in ("sigmoid", "relu") for a in (None, settings.alpha)}
    return random, [run_statistics(primary0[k], x)["tied_sym"] for k in ("AE.sigmoid", "AE.relu")
                    if not primary0[k].degenerate]


def hidden_by_model(primary0: dict[str, RunResult], x: Tensor) -> dict[str, dict[str, Any]]:
    """:func:`~conservae_lib.chapters.mnist_symmetricity.symmetry_metrics.hidden_statistics` of the four AEs
    (sigmoid, ReLU; with and without the constraint), from their models or their result files."""
    return {key: run_statistics(primary0[key], x)["hidden"] for key in ("AE.sigmoid", "AE.sigmoid_wl", "AE.relu", "AE.relu_wl")}


def judge_claims(runs: Mapping[str, Sequence[RunResult]], readings: Mapping[str, Sequence[RunResult]], x_eval: Tensor,
                 data_label: str) -> list[dict[str, Any]]:
    """The ledger's records of the chapter. ``runs``: the primary reading(s), name → every seed. With one
    primary reading its records are the primary ones (``reading`` None); with several co-primary readings each
    is judged under ``reading="<name>, co-primary"`` and each claim's primary record is the least favourable of
    them (:func:`conservae_lib.claims.ledger.least_favourable`). Then each other reading of ``readings`` (one
    seed, ``reading=`` its name). Every record comes from :func:`claim_inputs` judged by ``ledger.judge``."""
    from conservae_lib.claims import ledger

    if len(runs) == 1:
        claims = [ledger.judge(**c, data=data_label) for c in claim_inputs(next(iter(runs.values())), x_eval)]
    else:
        by_reading = {name: [ledger.judge(**c, data=data_label) for c in claim_inputs(rs, x_eval, f"{name}, co-primary")]
                      for name, rs in runs.items()}
        ids = [rec["id"] for rec in next(iter(by_reading.values()))]
        claims = [ledger.least_favourable({n: next(r for r in recs if r["id"] == cid) for n, recs in by_reading.items()})
                  for cid in ids]
        claims += [rec for recs in by_reading.values() for rec in recs]
    for name, rs in readings.items():
        claims += [ledger.judge(**c, data=data_label) for c in claim_inputs(rs, x_eval, reading=name)]
    return claims


def data_check_gaps(runs: Sequence[RunResult], check_runs: Sequence[RunResult]) -> dict[str, dict[str, float]]:
    """Per checked cell, on the same seed: the paper's value, ours on the chapter's data and on the
    check's data (fractions), and the share of the gap to the paper that the other data closes
    ((other − ours) / (paper − ours); NaN when a run is degenerate or ours equals the paper's)."""
    ref, first = paper_table1(), {(r.spec.key, r.seed): r for r in runs}
    out = {}
    for c in check_runs:
        base = first.get((c.spec.key, c.seed))
        ours = base.final() if base is not None and not base.degenerate else math.nan
        other = c.final() if not c.degenerate else math.nan
        gap = ref[c.spec.key] - ours
        out[c.spec.key] = {"paper": ref[c.spec.key], "ours": ours, "other": other,
                           "closed": (other - ours) / gap if abs(gap) > 1e-12 else math.nan}
    return out


def data_check_reading(data: MNIST, seed: int) -> str:
    """The reading label of the data-set check's records: which data, how many training images, which seed."""
    return f"{data.source}, {len(data.x_train):,} training images, seed {seed}"


def data_check_claims(check_runs: Sequence[RunResult], data: MNIST, seed: int) -> list[dict[str, Any]]:
    """The data-set check's records: each checked Table 1 cell judged by the ledger on the other data
    (one seed, so at most "partly"; ``reading=`` :func:`data_check_reading`), "not tested" with the
    reason when its run is degenerate."""
    from conservae_lib.claims import ledger

    reading, label = data_check_reading(data, seed), f"{data.source}: {data.description}"
    return [ledger.judge(f"table1.{r.spec.key}", reading=reading, data=label, section=SECTIONS["data-check"],
                         **({"not_tested": r.degenerate} if r.degenerate else {"values": [r.final()]}))
            for r in check_runs]


def data_check_record(check_runs: Sequence[RunResult], data: MNIST | None) -> dict[str, Any] | None:
    """What the summary keeps of the data-set check: the data, and per cell its final sym(∂r/∂x), its
    degeneracy and its training wall time (None when there was no check)."""
    if data is None:
        return None
    return {"data": {"source": data.source, "description": data.description, "n_train": len(data.x_train),
                     "n_test": len(data.x_test)},
            "cells": {r.spec.key: {"sym": r.final() if not r.degenerate else None, "degenerate": r.degenerate,
                                   "wall_s": r.wall_s} for r in check_runs}}


def summary_record(claims: list[dict[str, Any]], data: MNIST, tr: Any, labels: Mapping[str, str], seeds: Sequence[int],
                   stats: Mapping[str, dict], rw_stats: Mapping[str, dict], cos_stats: Mapping[str, dict],
                   sens: list[dict[str, Any]], base_rows: list[dict[str, str]], check: dict[str, float],
                   ratios: Mapping[str, Any], study: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What the chapter saves in its ``summary.json`` (``results.save_summary``): the claims, the data, the
    primary reading(s) with their settings and the lead, ε per optimiser, Table 1 and its companions per
    primary reading (reading → cell → statistics), the CAE/AE reconstruction ratios, the readings' curve
    shapes, the data-set check (:func:`data_check_record`), the rows of the weight-decay study (``study``,
    :func:`~conservae_lib.chapters.mnist_symmetricity.ingredients.study_rows`) and every run's wall time. ``tr`` is the
    chapter's :class:`~conservae_lib.chapters.mnist_symmetricity.table1_jobs.Table1Runs`."""
    data_check = data_check_record(tr.check_runs, tr.check_data)
    rifai = {r.spec.key: r.final() for r in tr.rifai}
    return {"claims": claims, "data": {"source": data.source, "description": data.description,
                                       "n_train": len(data.x_train), "n_test": len(data.x_test)},
            "primary_optimizers": list(tr.coprimary), "lead_optimizer": tr.lead, "optimizer_labels": dict(labels),
            "settings": {o: vars(tr.runs[o][0].settings) for o in tr.coprimary}, "seeds": list(seeds),
            "epsilon": tr.eps, "epsilon_runs": tr.eps_rows, "reconstruction_ratios": ratios,
            "table1": dict(stats), "rw_sym": dict(rw_stats), "filter_cos": dict(cos_stats), "sensitivity": sens,
            "baselines": base_rows,
            "readings": {o: {"mean_abs_gap": sm["mean_abs_gap"], "n_plateau": sm["n_plateau"],
                             "cells": {k: {"sym": c["sym"], "shape": c["shape"], "wall_s": c["wall_s"]}
                                       for k, c in sm["cells"].items()}} for o, sm in tr.summaries.items()},
            "rifai": rifai, "rifai_relu_wl_check": check, "data_check": data_check, "weight_decay_study": list(study),
            "wall_s": {**{r.name: r.wall_s for r in tr.every},
                       **{f"{k} ({data_check['data']['source']}, data-set check)": c["wall_s"]
                          for k, c in (data_check or {}).get("cells", {}).items()}}}
