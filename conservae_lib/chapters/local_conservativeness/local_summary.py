"""Chapter 03's sweep reduced: per ε and over seeds, what the chapter tabulates, states and judges.

From the rows of :func:`conservae_lib.chapters.local_conservativeness.local.contraction_sweep` (one per ε and seed):

* :func:`summarize_sweep`, :func:`fixed_point_summary` — means and spreads per ε, at the data and at
  the fixed points;
* :func:`findings` — the numbers the chapter's prose states about the sweep;
* :func:`claim_statistics` — what the ledger gets for claims ``prop3``, ``prop3.real-eigenvalues``
  and ``prop3.sink``, one entry per seed;
* :func:`run_records` — the runs as the summary file keeps them.
Chapter: *Proposition 3 — local conservativeness* (03).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


def fixed_point_summary(rows: list[dict[str, Any]], min_radius: float) -> list[dict[str, Any]]:
    """Per contraction strength, pooled over seeds: what the fixed points are.

    Fixed points farther than ``min_radius`` from the origin count as "on the ring" (the data
    manifold of :class:`~conservae_lib.data.densities.NoisyCircle`), the others as "inside". Returns
    counts of sinks/saddles/sources, the fraction with complex eigenvalues, and on the ring the
    fraction whose curvature across the manifold nᵀ(∂r/∂x − I)n is negative, the median ratio of
    that curvature (divided by ε) to the true nᵀ∇² log p n, and the fraction with positive
    tangential curvature.
    """
    out = []
    for eps in sorted({r["eps"] for r in rows}, reverse=True):
        group = [r for r in rows if r["eps"] == eps]
        kinds, radii, ncurv, tcurv, ntrue = [], [], [], [], []
        complex_n = 0
        for r in group:
            k = r.get("fixed_kinds", [])
            kinds += k
            radii += r.get("fixed_radius", [])
            complex_n += round(r.get("fixed_complex_fraction", 0.0) * len(k))
            if eps > 0:
                ncurv += r.get("fixed_normal_curv", [])
                tcurv += r.get("fixed_tangent_curv", [])
                ntrue += r.get("fixed_true_normal_curv", [])
        radii_a = np.array(radii)
        ring = radii_a > min_radius
        kinds_a = np.array(kinds)
        rec: dict[str, Any] = {"eps": eps, "n_seeds": len(group), "n_fixed": len(kinds),
                               "sinks": int((kinds_a == "sink").sum()), "saddles": int((kinds_a == "saddle").sum()),
                               "sources": int((kinds_a == "source").sum()),
                               "complex_fraction": complex_n / max(len(kinds), 1),
                               "n_ring": int(ring.sum()), "ring_sinks": int(((kinds_a == "sink") & ring).sum()),
                               "inside_kinds": sorted(set(kinds_a[~ring].tolist()))}
        if eps > 0 and len(ncurv):
            nc, tc, nt = np.array(ncurv)[ring], np.array(tcurv)[ring], np.array(ntrue)[ring]
            rec["ring_normal_negative"] = float((nc < 0).mean()) if len(nc) else None
            rec["ring_normal_ratio"] = float(np.median(nc / nt)) if len(nc) else None
            rec["ring_tangent_positive"] = float((tc > 0).mean()) if len(tc) else None
        out.append(rec)
    return out


#: The per-run measurements that :func:`summarize_sweep` summarises by default (the sweep's table).
SWEEP_KEYS = ("data_field_asym", "fixed_field_asym", "data_sym_J", "data_score_rel_error", "data_score_cosine",
              "data_score_scale", "data_hessian_error", "final_loss")


def summarize_sweep(rows: list[dict[str, Any]], keys: Sequence[str] = SWEEP_KEYS) -> list[dict[str, Any]]:
    """Mean, standard deviation, min and max over seeds of each key, per contraction strength
    (largest ε first)."""
    out = []
    for eps in sorted({r["eps"] for r in rows}, reverse=True):
        group = [r for r in rows if r["eps"] == eps]
        rec: dict[str, Any] = {"eps": eps, "n_seeds": len(group)}
        for k in keys:
            vals = np.array([r[k] for r in group if r.get(k) is not None], dtype=float)
            if len(vals):
                rec[k] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                          "min": float(vals.min()), "max": float(vals.max())}
        out.append(rec)
    return out


def findings(summary: list[dict[str, Any]], fp_summary: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers the chapter states about the sweep, over the contraction weights ε > 0.

    From :func:`summarize_sweep` (largest ε first) and :func:`fixed_point_summary`: the mean
    asymmetry of the field's Jacobian at the largest and smallest ε and without contraction, the
    exponent of a power law fitted through the means (descriptive: step 3 of the argument predicts
    no rate), where the score's relative error is lowest (step 1), the cosine, scale and Hessian
    error at the smallest ε (step 2), and at the fixed points (step 4) the largest fraction with
    complex eigenvalues, the smallest fraction on the ring contracting across it, and the numbers
    of saddles and sources.
    """
    pos = [s for s in summary if s["eps"] > 0]
    largest, smallest = pos[0], pos[-1]
    score_err = [s["data_score_rel_error"]["mean"] for s in pos]
    best_i = int(np.argmin(score_err))
    fp_pos = [s for s in fp_summary if s["eps"] > 0]
    return {
        "asym_large": largest["data_field_asym"]["mean"], "asym_small": smallest["data_field_asym"]["mean"],
        "asym_base": next((s["data_field_asym"]["mean"] for s in summary if s["eps"] == 0), None),
        "asym_slope": float(np.polyfit(np.log([s["eps"] for s in pos]), np.log([s["data_field_asym"]["mean"] for s in pos]), 1)[0]),
        "eps_large": largest["eps"], "eps_small": smallest["eps"],
        "score_best_eps": pos[best_i]["eps"], "score_best": score_err[best_i], "score_smallest_eps": score_err[-1],
        "cos_small": smallest["data_score_cosine"]["mean"], "scale_small": smallest["data_score_scale"]["mean"],
        "hess_small": smallest["data_hessian_error"]["mean"],
        "complex_max": max(s["complex_fraction"] for s in fp_pos),
        "ring_neg_min": min((s["ring_normal_negative"] for s in fp_pos if s.get("ring_normal_negative") is not None),
                            default=None),  # None: no fixed point found on the ring at any ε > 0
        "saddles": sum(s["saddles"] for s in fp_pos), "sources": sum(s["sources"] for s in fp_pos),
        "sym_J_min": min(s["data_sym_J"]["mean"] for s in pos),
        "hess_worse": all(s["data_hessian_error"]["mean"] > s["data_score_rel_error"]["mean"] for s in pos),
        "score_improves_to_end": best_i == len(pos) - 1,
    }


@dataclass
class ClaimStatistics:
    """What :func:`conservae_lib.claims.ledger.judge` gets for the chapter's claims, one entry per seed.

    ``eps_axis``: the contraction weights ε > 0, ascending; ``asymmetry``: per seed, the curve of
    1 − sym(∂r/∂x − I) at the data over ``eps_axis`` (Proposition 3, step 3); ``paper_asymmetry``:
    the same with the paper's 1 − sym(∂r/∂x); ``complex_fraction``, ``sink_fraction``: per seed,
    the fraction of fixed points (all ε > 0 pooled) with complex eigenvalues, and that are sinks
    (step 4); ``ring_contracting``: per seed, the fraction of fixed points on the ring whose
    curvature across it nᵀ(∂r/∂x − I)n is negative; ``too_few``: why a trend cannot be tested
    (fewer than 3 weights), or None.
    """

    eps_axis: list[float]
    asymmetry: list[list[float]]
    paper_asymmetry: list[list[float]]
    complex_fraction: list[float]
    sink_fraction: list[float]
    ring_contracting: list[float]
    too_few: str | None


def claim_statistics(rows: list[dict[str, Any]], seeds: Sequence[int], min_radius: float) -> ClaimStatistics:
    """Per-seed statistics of :func:`contraction_sweep`'s runs with ε > 0 for the ledger.

    Fixed points farther than ``min_radius`` from the origin count as on the ring, as in
    :func:`fixed_point_summary`. A seed without fixed points gets NaN fractions.
    """
    runs = [r for r in rows if r["eps"] > 0]
    eps_axis = sorted({r["eps"] for r in runs})

    def curve(key: str, seed: int) -> list[float]:
        by_eps = {r["eps"]: r[key] for r in runs if r["seed"] == seed}
        return [by_eps[e] for e in eps_axis]

    def fraction(seed: int, count) -> float:
        group = [r for r in runs if r["seed"] == seed and r["n_fixed"]]
        n = sum(r["n_fixed"] for r in group)
        return sum(count(r) for r in group) / n if n else float("nan")

    def ring_contracting(seed: int) -> float:
        neg = total = 0
        for r in runs:
            if r["seed"] == seed:
                ring = [c for c, rad in zip(r.get("fixed_normal_curv", []), r.get("fixed_radius", [])) if rad > min_radius]
                neg, total = neg + sum(c < 0 for c in ring), total + len(ring)
        return neg / max(total, 1)

    return ClaimStatistics(
        eps_axis=eps_axis,
        asymmetry=[curve("data_field_asym", s) for s in seeds],
        paper_asymmetry=[[1 - v for v in curve("data_sym_J", s)] for s in seeds],
        complex_fraction=[fraction(s, lambda r: round(r["fixed_complex_fraction"] * r["n_fixed"])) for s in seeds],
        sink_fraction=[fraction(s, lambda r: r["fixed_sinks"]) for s in seeds],
        ring_contracting=[ring_contracting(s) for s in seeds],
        too_few=f"only {len(eps_axis)} contraction weights: a trend needs at least 3" if len(eps_axis) < 3 else None,
    )


def run_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs without their per-fixed-point lists, for the summary file; runs with ε > 0 also
    carry ``data_asym_J`` = 1 − sym(∂r/∂x) and ``one_minus_cos`` = 1 − cosine, as plotted."""
    out = []
    for r in rows:
        rec = {k: v for k, v in r.items() if not isinstance(v, list)}
        if r["eps"] > 0:
            rec["data_asym_J"] = 1 - r["data_sym_J"]
            rec["one_minus_cos"] = 1 - r["data_score_cosine"]
        out.append(rec)
    return out
