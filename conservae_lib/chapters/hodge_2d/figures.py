"""Chapter 06's tables and figures (presentation layer): the learned fields of Figure 4 beside the
Helmholtz–Hodge reference, the learning curves, the ablations and the other test fields, and the
numbers the chapter's prose glues. The experiments that produce them are in
:mod:`conservae_lib.chapters.hodge_2d.experiment`. Chapter: *Extracting the conservative part of a 2-D field*.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .experiment import KINDS, Ablation, Comparison, Extraction, Figure4Evidence, MoreField
from .scoring import Reference, model_curl_on_grid, model_on_grid
from conservae_lib.core.hodge import Array, grid_curl, relative_error
from conservae_lib.presentation import plotting
from conservae_lib.presentation.plotting import compact_colorbar
from conservae_lib.presentation.report import fmt, fmt_small, frame

__all__ = ["format_error_row", "plot_grid_field", "describe_reference", "plot_reference", "format_run_row", "main_models_table", "methods_table", "more_fields_table", "page_values",
           "plot_learning_curves", "plot_figure4", "learning_curves_figure", "plot_ablations", "plot_more_fields"]


def format_error_row(name: str, e: dict[str, float], key: str = "method") -> dict[str, str]:
    """One table row of :func:`~conservae_lib.chapters.hodge_2d.scoring.error_row`'s numbers, formatted for the page."""
    if e.get("collapsed"):
        name = f"{name} [collapsed]"
    return {key: name, "vs stated conservative part": fmt(e["err_stated"], 3), "vs best gradient fit": fmt(e["err_l2fit"], 3),
            "vs input field": fmt(e["err_F"], 3), "non-conservative fraction": fmt_small(e["nonconservative"], floor=1e-6)}


def plot_grid_field(ax: Any, x: Array, y: Array, U: Array, V: Array, title: str | None = None, stride: int | None = None,
                    background: str | Array | None = "curl", scale: float | None = None) -> Any:
    """Arrows of a field given on a grid, over its finite-difference curl (``background="curl"``),
    a given curl map (an array, e.g. :func:`model_curl_on_grid`), its magnitude (``"norm"``) or
    nothing (``None``). ``scale`` fixes the arrow scale across panels.

    Not :func:`conservae_lib.presentation.plotting.plot_field` / :func:`~conservae_lib.presentation.plotting.plot_scalar`:
    those evaluate a callable field on their own grid and draw contours whose symmetric colour
    range is the largest |value|. Here the field is given as arrays on the solver's grid (every
    ``stride``-th arrow drawn), and a curl map's colour range is at least ±1e-3, so a curl that
    is zero up to rounding (the solver's output, a tied model) shows as flat instead of as
    rounding noise blown up to the full scale. Chapter 06_hodge_2d's figures.
    """
    stride = stride or max(1, len(x) // 16)
    if background is not None:
        is_curl = not isinstance(background, str) or background == "curl"
        if isinstance(background, str):
            Z = grid_curl(U, V, x, y) if background == "curl" else np.hypot(U, V)
        else:
            Z = np.asarray(background, dtype=float)
        if is_curl:
            lim = max(float(np.abs(Z).max()), 1e-3)
            im = ax.imshow(Z, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), cmap="RdBu_r", vmin=-lim, vmax=lim)
        else:
            im = ax.imshow(Z, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), cmap="Greys")
        compact_colorbar(plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04), n=2 if is_curl else 4, symmetric=is_curl)
    s = (slice(None, None, stride), slice(None, None, stride))
    X, Y = np.meshgrid(x, y)
    ax.quiver(X[s], Y[s], U[s], V[s], angles="xy", pivot="mid", width=0.005, scale=scale)
    ax.set(xlim=(x[0], x[-1]), ylim=(y[0], y[-1]), aspect="equal")
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    if title:
        ax.set_title(title)
    return ax




def describe_reference(reference: Reference) -> str:
    """Three lines: the best gradient fit against the stated part, and each of them against F."""
    grid = reference.grid
    pairs = [("best gradient fit vs stated conservative part:", reference.gap),
             ("stated conservative part vs F:", relative_error(grid["conservative"], grid["F"])),
             ("best gradient fit vs F:", relative_error(reference.best_fit, grid["F"]))]
    return "\n".join(f"{label:<45} {fmt(value, 3)}" for label, value in pairs)


@plotting.book_figure
def plot_reference(reference: Reference) -> plt.Figure:
    """F, its best gradient fit and the harmonic gradient by which that differs from (−x, −y), two
    panels a row."""
    grid = reference.grid
    fig, axes = plotting.panel_grid(3, ncols=2, panel_height=3.2)
    plot_grid_field(axes[0], grid["x"], grid["y"], *grid["F"], title="F = (−x + y, −x − y)")
    plot_grid_field(axes[1], grid["x"], grid["y"], *reference.best_fit, title="best gradient fit ∇φ")
    plot_grid_field(axes[2], grid["x"], grid["y"], *reference.harmonic, title="∇φ − (−x, −y): harmonic gradient",
                    background="norm")
    _left_labels_only(axes)
    fig.tight_layout(w_pad=1.5)
    return fig

def format_run_row(kind: str, seed: int, e: dict[str, Any]) -> dict[str, str]:
    """One row of chapter 06's Figure 4 table: a main model, its training and its errors."""
    small = e["err_F"] < 1e-2  # False for NaN
    return {"model": kind, "seed": str(seed), "iterations": str(e["iterations"]), "final loss": fmt(e["final_loss"], 3),
            "vs stated conservative part": fmt(e["err_stated"], 3), "vs best gradient fit": fmt(e["err_l2fit"], 3),
            "vs input field": fmt_small(e["err_F"], floor=1e-6) if small else fmt(e["err_F"], 3),
            "scored": "no: collapsed" if e["collapsed"] else "yes"}


def main_models_table(main_scores: dict[str, list[dict[str, Any]]], seeds: Sequence[int]) -> pd.DataFrame:
    """The Figure 4 table: one row per main model (:func:`format_run_row`)."""
    return frame([format_run_row(kind, s, score) for kind, scores in main_scores.items() for s, score in zip(seeds, scores)])


def methods_table(comparison: Comparison) -> pd.DataFrame:
    """The methods on the paper's F, one row each (:func:`format_error_row`)."""
    return frame([format_error_row(comparison.labels[key], row) for key, row in comparison.errors.items()], index="method")


def _method_labels(contraction: float) -> dict[str, str]:
    return {"solver": "classical solver", "tied": "tied AE", "contractive": f"untied AE, λ = {contraction}"}


def more_fields_table(more_fields: dict[str, MoreField], contraction: float) -> pd.DataFrame:
    """The extra fields: for each, the solver and the two auto-encoders of
    :func:`~conservae_lib.chapters.hodge_2d.experiment.fit_more_fields`."""
    labels = _method_labels(contraction)
    return frame([{"field": name, **format_error_row(labels[method], row)}
                  for name, more in more_fields.items() for method, row in more.errors.items()])


def page_values(evidence: Figure4Evidence, comparison: Comparison, more_fields: dict[str, MoreField],
                runs: dict[str, list[Extraction]], contractions: Sequence[float], claims: list[dict[str, Any]]
                ) -> dict[str, str]:
    """The numbers chapter 06's text quotes, formatted, by glue name (means over seeds; the verdicts
    and reasons are those of ``claims``, in the chapter's order: tied, untied, …, the authors')."""
    mean = {key: {kind: float(np.mean(v)) for kind, v in values.items()}
            for key, values in (("stated", evidence.stated), ("l2", evidence.l2fit), ("F", evidence.against_F))}
    contractive = {lam: comparison.errors[f"contraction {lam}"]["err_stated"] for lam in contractions}
    best_lam = min(contractive, key=contractive.get)
    extra = {name: {m: row["err_stated"] for m, row in more.errors.items()} for name, more in more_fields.items()}
    numbers = {
        "tied_stated": mean["stated"]["tied"], "tied_l2": mean["l2"]["tied"], "tied_F": mean["F"]["tied"],
        "untied_stated": mean["stated"]["untied"], "untied_F": mean["F"]["untied"], "contr_best_stated": contractive[best_lam],
        "contr_bv_stated": extra["bump_vortex"]["contractive"], "authors_stated": evidence.released["err_stated"],
        "authors_on_rotation": evidence.released_on_rotation, "tied_bv": extra["bump_vortex"]["tied"],
        "tied_sc": extra["sine_cell"]["tied"], "classical_sc": extra["sine_cell"]["solver"],
    }
    values = {key: fmt(value, 2) for key, value in numbers.items()}
    values.update(untied_F_small=fmt_small(mean["F"]["untied"], floor=1e-6),
                  iterations_used=", ".join(str(run.n_iterations) for group in runs.values() for run in group),
                  best_lam=str(best_lam), n_seeds=str(len(runs["tied"])),
                  v_tied=claims[0]["verdict"], v_untied=claims[1]["verdict"], v_released=claims[4]["verdict"],
                  released_reason=(evidence.released["collapsed"] or claims[4]["reason"]).rstrip("."),
                  v_tied_reason=claims[0]["reason"], v_untied_reason=claims[1]["reason"])
    return values


def plot_learning_curves(ax: plt.Axes, runs: dict[str, Sequence[Extraction]], colors: dict[str, str] | None = None) -> plt.Axes:
    """Training loss against L-BFGS iterations, one line per run (label = kind, one colour per kind)."""
    colors = colors or {"tied": "tab:blue", "untied": "tab:red"}
    for kind, group in runs.items():
        for i, run in enumerate(group):
            ax.semilogy(run.iterations, run.losses, "-o", ms=2, color=colors.get(kind), alpha=0.8,
                        label=kind if i == 0 else None)
    ax.set(xlabel="L-BFGS iterations", ylabel="training loss (mean squared error)")
    ax.legend()
    return ax


@plotting.book_figure
def plot_figure4(reference: Reference, runs: dict[str, list[Extraction]], seed: int) -> plt.Figure:
    """Figure 4, two panels a row: F and the stated conservative part (top), the first tied and
    untied models' fields over their exact curl (bottom). The learning curves are
    :func:`learning_curves_figure`."""
    grid = reference.grid
    fig, axes = plotting.panel_grid(4, ncols=2, panel_height=3.2)
    plot_grid_field(axes[0], grid["x"], grid["y"], *grid["F"], title="F (input)")
    plot_grid_field(axes[1], grid["x"], grid["y"], *grid["conservative"], title="stated conservative part (−x, −y)")
    for ax, kind in zip(axes[2:], KINDS):
        model = runs[kind][0].model
        plot_grid_field(ax, grid["x"], grid["y"], *model_on_grid(model, grid), title=f"{kind} AE, seed {seed}",
                        background=model_curl_on_grid(model, grid))
    _left_labels_only(axes)
    fig.tight_layout(w_pad=1.5)
    return fig


@plotting.book_figure
def learning_curves_figure(runs: dict[str, list[Extraction]]) -> plt.Figure:
    """The training loss of every main model against the L-BFGS iterations (:func:`plot_learning_curves`)."""
    fig, axes = plotting.column_figure(height=3.2)
    plot_learning_curves(axes[0, 0], runs)
    fig.tight_layout()
    return fig


@plotting.book_figure
def plot_ablations(reference: Reference, ablations: dict[str, Ablation]) -> plt.Figure:
    """Each extra model's field on the evaluation grid, over its exact curl, two panels a row."""
    grid = reference.grid
    fig, axes = plotting.panel_grid(len(ablations), ncols=2, panel_height=3.2)
    for ax, job in zip(axes, ablations.values()):
        plot_grid_field(ax, grid["x"], grid["y"], *model_on_grid(job.model, grid), title=_short(job.label),
                        background=model_curl_on_grid(job.model, grid))
    _left_labels_only(axes)
    fig.tight_layout(w_pad=1.5)
    return fig


def _left_labels_only(axes: Sequence[plt.Axes], ncols: int = 2) -> None:
    """Panels of one box side by side: y tick labels on the first of each row only, so that a colour
    bar's labels never run into the next panel's."""
    for i, ax in enumerate(axes):
        if i % ncols:
            ax.tick_params(labelleft=False)


def _short(label: str, width: int = 40) -> str:
    """``label`` broken into lines of at most ``width`` characters (a panel's title)."""
    import textwrap

    return "\n".join(textwrap.wrap(label, width))


@plotting.book_figure
def plot_more_fields(more_fields: dict[str, MoreField], contraction: float) -> plt.Figure:
    """Two rows of panels per extra field: F, its stated conservative part and the classical solver's
    answer, then what the tied and the contractive untied auto-encoder found (centred)."""
    labels = _method_labels(contraction)
    n = len(more_fields)
    fig = plt.figure(figsize=(plotting.COLUMN_WIDTH, 2.2 * 2 * n), dpi=plotting.DPI)
    grid = fig.add_gridspec(2 * n, 6)
    for k, (name, more) in enumerate(more_fields.items()):
        x, y = more.grid["x"], more.grid["y"]
        stride = max(1, len(x) // 12)
        slots = [grid[2 * k, 0:2], grid[2 * k, 2:4], grid[2 * k, 4:6], grid[2 * k + 1, 1:3], grid[2 * k + 1, 3:5]]
        axes = [fig.add_subplot(slot) for slot in slots]
        plot_grid_field(axes[0], x, y, *more.grid["F"], title=f"{name}: F", stride=stride)
        plot_grid_field(axes[1], x, y, *more.grid["conservative"], title="stated conservative\npart", stride=stride)
        for ax, (method, field) in zip(axes[2:], more.fields.items()):
            plot_grid_field(ax, x, y, *field, title=labels[method], background=more.curls[method], stride=stride)
        for ax in axes:  # small panels: three ticks an axis
            ax.xaxis.set_major_locator(MaxNLocator(2))
            ax.yaxis.set_major_locator(MaxNLocator(2))
    fig.tight_layout()
    return fig
