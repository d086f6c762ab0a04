"""Figures, tables and summary lines of chapter 03 (Proposition 3 — local conservativeness).

Everything here draws or formats numbers that :mod:`conservae_lib.chapters.local_conservativeness.local` computed; nothing is
computed anew. The panels show the noisy-circle density and its exact score, the contraction
sweep of eq. (10) against ε, the fixed points of the learned fields, and the field
(r(x) − x)/ε beside the score ∇ log p it should approach (Alain & Bengio; eq. 11–14).
Chapter: *Proposition 3 — local conservativeness*.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from conservae_lib.presentation import plotting, report
from conservae_lib.core.fields import grid_2d
from conservae_lib.data.densities import NoisyCircle
from conservae_lib.core.models import AutoEncoder

Box = Sequence[float]
Row = dict[str, Any]

__all__ = [
    "view_box", "density_figure", "sweep_table", "sweep_figure", "fixed_point_table", "fields_figure",
    "plot_sweep", "findings_lines", "MARKERS",
]

#: Marker and colour of each kind of fixed point in :func:`fields_figure`.
MARKERS = {"sink": ("o", "tab:blue"), "saddle": ("s", "tab:orange"), "source": ("^", "tab:red")}


def view_box(circle: NoisyCircle, scale: float = 1.8) -> tuple[float, float, float, float]:
    """The square ±``scale``·ρ around the circle that every panel of the chapter shows."""
    h = scale * circle.radius
    return (-h, h, -h, h)


def _ridge(axes: Sequence[plt.Axes], r_star: float) -> None:
    """The ridge circle of p (radius r*) as a dashed line on each panel."""
    t = np.linspace(0, 2 * np.pi, 200)
    for ax in axes:
        ax.plot(r_star * np.cos(t), r_star * np.sin(t), "g--", lw=0.8)


@plotting.book_figure
def density_figure(circle: NoisyCircle, sample: torch.Tensor, box: Box | None = None, n: int = 80) -> plt.Figure:
    """log p of the noisy circle with a training sample, beside its exact score ∇ log p, over
    ``box`` (default :func:`view_box`)."""
    box = view_box(circle) if box is None else box
    x_g, y_g, pts = grid_2d(box, n)
    logp = circle.log_prob(pts).numpy().reshape(n, n)
    sample = np.asarray(sample)
    fig, axes = plotting.panels(2, height=3.6)
    plotting.plot_scalar(axes[0], x_g, y_g, np.maximum(logp, logp.max() - 12), title="log p, a training sample")
    axes[0].scatter(sample[:, 0], sample[:, 1], s=2, c="w", alpha=0.5, lw=0)
    plotting.plot_field(axes[1], circle.score, box, n=21, title="score ∇log p (exact)", stream=True)
    fig.tight_layout()
    return fig


def sweep_table(summary: list[Row]) -> pd.DataFrame:
    """The contraction sweep per ε (rows of :func:`conservae_lib.chapters.local_conservativeness.local_summary.summarize_sweep`): mean ±
    sd over seeds of the asymmetries, sym(J), and the score and Hessian errors."""
    def pm(s: Row, key: str, digits: int = 2) -> str:
        return report.fmt_pm(s.get(key), digits, s["n_seeds"] > 1)

    return report.frame([{
        "ε": report.fmt(s["eps"], 2) + (" (no contraction)" if s["eps"] == 0 else ""), "seeds": s["n_seeds"],
        "1 − sym(J − I), data": pm(s, "data_field_asym"), "1 − sym(J − I), fixed pts": pm(s, "fixed_field_asym"),
        "sym(J), data": pm(s, "data_sym_J", 5), "score rel. error": pm(s, "data_score_rel_error"),
        "score cosine": pm(s, "data_score_cosine"), "score scale": pm(s, "data_score_scale"),
        "Hessian rel. error": pm(s, "data_hessian_error"),
    } for s in summary], index="ε")


def plot_sweep(ax: plt.Axes, rows: list[Row], key: str, label: str | None = None, logy: bool = True,
               color: str | None = None, reference: float | None = None):
    """One dot per seed and the mean over seeds of ``key`` against ε (log x axis)."""
    eps = np.array([r["eps"] for r in rows if r.get(key) is not None], dtype=float)
    vals = np.array([r[key] for r in rows if r.get(key) is not None], dtype=float)
    line = None
    if len(vals):
        ax.scatter(eps, vals, s=12, alpha=0.6, color=color)
        xs = np.array(sorted(set(eps)))
        means = np.array([vals[eps == e].mean() for e in xs])
        (line,) = ax.plot(xs, means, "-", color=color, label=label)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if reference is not None:
        ax.axhline(reference, color="k", ls=":", lw=1)
    ax.set_xlabel("contraction weight ε")
    return line


@plotting.book_figure
def sweep_figure(rows: list[Row]) -> plt.Figure:
    """The sweep, one dot per seed, one panel above the other with its legend on the right:
    (a) asymmetry of J − I and the paper's 1 − sym(J); (b) how (r − x)/ε and (J − I)/ε match the
    score and Hessian; (b') the score's scale (1 is right)."""
    with_eps = [dict(r, data_asym_J=1 - r["data_sym_J"], one_minus_cos=1 - r["data_score_cosine"])
                for r in rows if r["eps"] > 0]
    base = [r for r in rows if r["eps"] == 0]
    fig, axes = plotting.column_figure(3, 1, height=8.4, sharex=True)
    axes = axes[:, 0]
    ax = axes[0]
    plot_sweep(ax, with_eps, "data_field_asym", label="1 − sym(J − I),\nat the data", color="tab:blue")
    plot_sweep(ax, with_eps, "fixed_field_asym", label="1 − sym(J − I),\nat fixed points", color="tab:orange")
    plot_sweep(ax, with_eps, "data_asym_J", label="1 − sym(J) at the\ndata (paper's)", color="tab:gray")
    if base:
        ax.axhline(np.mean([r["data_field_asym"] for r in base]), color="tab:blue", ls="--", lw=1,
                   label="no contraction,\nat the data")
    ax.set_title("(a) asymmetry")
    ax = axes[1]
    plot_sweep(ax, with_eps, "data_score_rel_error", label="score rel. error", color="tab:green")
    plot_sweep(ax, with_eps, "data_hessian_error", label="Hessian rel. error", color="tab:red")
    plot_sweep(ax, with_eps, "one_minus_cos", label="1 − cosine of\nr − x and score", color="tab:purple")
    ax.set_title("(b) (r − x)/ε against the score")
    ax = axes[2]
    plot_sweep(ax, with_eps, "data_score_scale", label="scale of (r − x)/ε\nagainst the score", color="tab:brown",
               logy=False, reference=1.0)
    ax.set_title("(b') magnitude")
    for ax in axes:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.tight_layout()
    return fig


def fixed_point_table(fp_summary: list[Row]) -> pd.DataFrame:
    """Fixed points per ε (rows of :func:`conservae_lib.chapters.local_conservativeness.local_summary.fixed_point_summary`): their kinds,
    complex eigenvalues, and on the ring the curvature across the manifold (step 4)."""
    def pct(s: Row, key: str) -> str:
        return "—" if s.get(key) is None else report.fmt_pct(s[key])

    return report.frame([{
        "ε": report.fmt(s["eps"], 2), "fixed points (all seeds)": s["n_fixed"], "sinks": s["sinks"],
        "saddles": s["saddles"], "sources": s["sources"], "with complex eigenvalues": report.fmt_pct(s["complex_fraction"]),
        "on the ring": s["n_ring"], "ring: nᵀ(J − I)n < 0": pct(s, "ring_normal_negative"),
        "ring: learned / true normal curvature (median)": report.fmt(s.get("ring_normal_ratio"), 2, missing="—"),
        "ring: tangential curvature > 0": pct(s, "ring_tangent_positive"),
        "inside the ring": ", ".join(s["inside_kinds"]) or "—",
    } for s in fp_summary], index="ε")


@plotting.book_figure
def fields_figure(trained: dict[tuple[float, int], AutoEncoder], rows: list[Row], circle: NoisyCircle,
                  strengths: Sequence[float], seed: int, r_star: float, box: Box | None = None) -> plt.Figure:
    """(r(x) − x)/ε of the model trained with each of ``strengths`` (and ``seed``), its fixed points
    marked by kind (:data:`MARKERS`), beside the exact score; the ridge of p (radius ``r_star``)
    dashed; over ``box`` (default :func:`view_box`). A legend of the markers under the panels."""
    from matplotlib.lines import Line2D

    box = view_box(circle) if box is None else box
    fig, axes = plotting.panel_grid(len(strengths) + 1, ncols=2, panel_height=3.5)
    for ax, eps in zip(axes[:-1], strengths):
        model = trained[(float(eps), seed)]
        plotting.plot_field(ax, lambda x, m=model, e=eps: (m(x) - x) / e, box, n=21, stream=True,
                            title=f"(r(x) − x)/ε, ε = {report.fmt(eps, 2)}")
        row = next(r for r in rows if r["eps"] == eps and r["seed"] == seed)
        for p_, k in zip(row.get("fixed_points", []), row.get("fixed_kinds", [])):
            mk, col = MARKERS[k]
            ax.scatter([p_[0]], [p_[1]], marker=mk, c=col, s=30, zorder=5)
    plotting.plot_field(axes[-1], circle.score, box, n=21, stream=True, title="score ∇log p (exact)")
    _ridge(axes, r_star)
    handles = [Line2D([], [], ls="", marker=mk, color=col, label=kind) for kind, (mk, col) in MARKERS.items()]
    handles.append(Line2D([], [], ls="--", color="g", lw=0.8, label="ridge of p"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def findings_lines(f: Row) -> str:
    """The chapter's summary of :func:`conservae_lib.chapters.local_conservativeness.local_summary.findings`, one line per link of the
    argument (asymmetry, sym(J), score and Hessian, eigenvalues), numbers by :mod:`report`."""
    lines = [
        f"Asymmetry of the field's Jacobian at the data: {report.fmt(f['asym_large'], 2)} at ε = {report.fmt(f['eps_large'], 2)}, "
        f"{report.fmt(f['asym_small'], 2)} at ε = {report.fmt(f['eps_small'], 2)}"
        + (f"; without contraction {report.fmt(f['asym_base'], 2)}" if f["asym_base"] is not None else "")
        + f"; a power law through the means has exponent {report.fmt(f['asym_slope'], 2)}.",
        f"The paper's sym(J) at the data is at least {report.fmt(f['sym_J_min'], 4)} for every ε > 0.",
        f"Score: relative error lowest ({report.fmt(f['score_best'], 2)}) at ε = {report.fmt(f['score_best_eps'], 2)}"
        + (" (the smallest ε)" if f["score_improves_to_end"] else " (not the smallest ε)")
        + f", {report.fmt(f['score_smallest_eps'], 2)} at the smallest ε; there the mean cosine is {report.fmt(f['cos_small'], 2)} "
        f"and the scale {report.fmt(f['scale_small'], 2)}; the Hessian's relative error is {report.fmt(f['hess_small'], 2)}"
        + (", above the score's at every ε." if f["hess_worse"] else ", not above the score's at every ε."),
        f"Fixed points with complex eigenvalues (ε > 0): at most {report.fmt_pct(f['complex_max'])}; "
        + ("no fixed point lies on the ring" if f["ring_neg_min"] is None else
           f"on the ring, at least {report.fmt_pct(f['ring_neg_min'])} contract across the manifold")
        + f"; saddles found: {f['saddles']}, sources: {f['sources']}.",
    ]
    return "\n".join(lines)
