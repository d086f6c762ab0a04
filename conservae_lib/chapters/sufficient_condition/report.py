"""Chapter 02's tables and figures (presentation layer): the families of the sufficient condition
measured inside and outside their domain, the dimension of the space of conservative decoders, the
perturbation sweeps, the loss of symmetry away from a frozen point, and the recovery of C and E.

Every table is a DataFrame of formatted strings (stable across re-runs); the numbers come from
:mod:`conservae_lib.chapters.sufficient_condition.survey`. Chapter: *When is an untied auto-encoder conservative?*
(``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from conservae_lib.core.decoder_space import generic_solution_dimension
from conservae_lib.presentation import plotting
from conservae_lib.presentation.report import fmt, fmt_small, frame

__all__ = ["family_table", "dimension_table", "perturbation_table", "recovery_table", "generic_dimensions_text",
           "plot_perturbation", "perturbation_figure", "distance_figure"]

Rows = Sequence[Mapping[str, Any]]


#: The measured columns of :func:`family_table`: heading, key of a :func:`~conservae_lib.chapters.sufficient_condition.survey.family_survey` row.
_FAMILY_COLUMNS = (
    ("max 1 − sym (domain)", "asym_inside_max"), ("max rel. circulation", "circulation_max"),
    ("max path dependence", "path_dependence_max"), ("‖∇F − (r − x)‖ rel.", "energy_error"),
    ("‖[C, W D E D Wᵀ]‖ rel.", "commutator"), ("mean 1 − sym (elsewhere)", "asym_outside_mean"),
)


def family_table(rows: Rows) -> pd.DataFrame:
    """:func:`~conservae_lib.chapters.sufficient_condition.survey.family_survey` as a table, one row per family."""
    return frame([{"family": r["family"], "conservative where": r["valid"],
                   **{heading: fmt_small(r[key], missing="—") for heading, key in _FAMILY_COLUMNS}}
                  for r in rows], index="family")


def dimension_table(rows: Rows) -> pd.DataFrame:
    """:func:`~conservae_lib.chapters.sufficient_condition.survey.dimension_survey` as a table: measured beside derived
    dimension, with the smallest kept and largest dropped singular value (relative)."""
    return frame([{
        "D × H": f"{r['D']} × {r['H']}", "h": r["activation"], "domain": r["domain"],
        "measured dimension": r["measured"], "derived dimension": r["expected"],
        "smallest kept σ": fmt(r["smallest_kept"], 2), "largest dropped σ": fmt_small(r["largest_dropped"], 1e-12),
    } for r in rows])


def perturbation_table(sweeps: Mapping[str, Rows]) -> pd.DataFrame:
    """Mean 1 − sym(∂r/∂x) of each family at the smallest, middle and largest perturbation size δ
    of :func:`~conservae_lib.chapters.sufficient_condition.survey.perturbation_sweeps`."""
    def picked(rows: Rows) -> tuple[float, ...]:
        deltas = [r["delta"] for r in rows]
        return deltas[0], deltas[len(deltas) // 2], deltas[-1]

    return frame([{
        "family": name, **{f"δ = {fmt(r['delta'], 1)}": fmt_small(r["asym_mean"], 1e-30)
                           for r in rows if r["delta"] in picked(rows)},
    } for name, rows in sweeps.items()], index="family")


def recovery_table(rows: Rows) -> pd.DataFrame:
    """:func:`~conservae_lib.chapters.sufficient_condition.survey.recovery_survey` as a table, one row per case."""
    return frame([{
        "case": r["case"], "conservative": "yes" if r["conservative"] else "no", "draws": r["n"], "recovered": r["n_ok"],
        "solution-set dimension": ", ".join(str(d) for d in r["null_dims"]),
        "max ‖R − CWDE‖/‖R‖": fmt_small(r["residual_max"], missing="—"),
        "known (C, E) off the set by": fmt_small(r["known_max"], missing="—"),
        "commutator (min – max)": "—" if r["commutator_max"] is None else
        f"{fmt_small(r['commutator_min'], missing='—')} – {fmt_small(r['commutator_max'], missing='—')}",
    } for r in rows], index="case")


def generic_dimensions_text(D: int, H: int) -> str:
    """One line per shape (D, H), (H, D), (D, D) (each once) with the generic dimension of the
    solution set of the recovery of C and E (:func:`~conservae_lib.core.decoder_space.generic_solution_dimension`)."""
    shapes = dict.fromkeys([(D, H), (H, D), (D, D)])
    return "\n".join(f"D = {d}, H = {h}: derived generic solution-set dimension {generic_solution_dimension(d, h)}"
                     for d, h in shapes)


def plot_perturbation(ax: plt.Axes, rows_by_model: Mapping[str, Rows], key: str = "asym_mean", slope: int = 2,
                      legend: bool = True) -> plt.Axes:
    """Log–log plot of ``key`` against δ for each model, with a reference line of the given slope
    (labelled in the panel); the models' legend too when ``legend``."""
    for name, rows in rows_by_model.items():
        dl = np.array([r["delta"] for r in rows])
        vals = np.array([r[key] for r in rows], dtype=float)
        ax.loglog(dl, np.where(vals > 0, vals, np.nan), "o-", ms=3, label=name)
    first = next(iter(rows_by_model.values()))
    dl = np.array([r["delta"] for r in first])
    ref = np.median([r[key] for r in first]) * (dl / np.median(dl)) ** slope
    (line,) = ax.loglog(dl, ref, "k:", lw=1, label=f"slope {slope}")
    ax.set_xlabel("relative size δ of the perturbation of R")
    if legend:
        ax.legend()
    else:
        ax.legend(handles=[line], loc="upper left")
    return ax


@plotting.book_figure
def perturbation_figure(sweeps: Mapping[str, Rows]) -> plt.Figure:
    """Two panels against δ: mean 1 − sym(∂r/∂x) with a slope-2 line, mean relative circulation
    with a slope-1 line (:func:`plot_perturbation`); the families' legend below both."""
    fig, axes = plotting.panels(2, height=4.4)
    plot_perturbation(axes[0], sweeps, "asym_mean", slope=2, legend=False)
    axes[0].set_ylabel("mean 1 − sym(∂r/∂x)")
    plot_perturbation(axes[1], sweeps, "circulation_mean", slope=1, legend=False)
    axes[1].set_ylabel("mean relative circulation")
    for ax in axes:
        ax.set_xlabel("relative size δ of the\nperturbation of R")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[:-1], labels[:-1], loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.015 + 0.04 * -(-(len(labels) - 1) // 2), 1, 1))  # room for the legend's rows
    return fig


@plotting.book_figure
def distance_figure(rows: Rows, ref_at: int = 3) -> plt.Figure:
    """Mean 1 − sym(∂r/∂x) of the frozen-point family against the distance from x₀
    (:func:`~conservae_lib.chapters.sufficient_condition.survey.frozen_point_profile`), with a slope-2 line through
    the point ``ref_at``."""
    distances = np.array([r["distance"] for r in rows])
    asym = [r["asym_mean"] for r in rows]
    fig, axes = plotting.column_figure(height=3.6)
    ax = axes[0, 0]
    ax.loglog(distances, asym, "o-", ms=3, label="D_h' frozen at x₀ (sigmoid)")
    ax.loglog(distances, asym[ref_at] * (distances / distances[ref_at]) ** 2, "k:", lw=1, label="slope 2")
    ax.set_xlabel("distance from x₀")
    ax.set_ylabel("mean 1 − sym(∂r/∂x)")
    ax.legend()
    fig.tight_layout()
    return fig
