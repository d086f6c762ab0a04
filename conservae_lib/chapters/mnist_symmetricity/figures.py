"""Chapter 04's figures: Figure 1 (encoder beside decoder filters), Figure 2 (symmetricity during
training), pre-activations against the sigmoid's high-curvature band, the ε rule, the optimiser readings.

Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .empirical import GRID, RunResult
from .run_files import run_filters
from .table1 import curves
from conservae_lib.presentation import plotting

Tensor = torch.Tensor

__all__ = ["full_fig2_figure", "plot_fig2", "plot_filter_grid", "plot_fig1", "plot_hidden_distributions", "plot_epsilon", "plot_readings",
           "epsilon_figure", "readings_figure", "fig2_figure", "hidden_figure"]

_COLORS = {"AE": "tab:blue", "CAE": "tab:red"}


def plot_fig2(axes: Sequence[plt.Axes], results: Sequence[RunResult]) -> None:
    """Figure 2 a–d: sym(∂r/∂x) and sym(R Wᵀ) against training epochs, sigmoid (a, b) and ReLU (c, d).

    Lines are the mean over seeds, bands ± one standard deviation; dashed lines are the
    weight-length-constrained runs.
    """
    jac, rw = curves(results, "jac_sym"), curves(results, "rw_sym")
    panels = [("sigmoid", jac, r"(a) sigmoid: sym$(\partial r/\partial x)$"),
              ("sigmoid", rw, r"(b) sigmoid: sym$(RW^\top)$"),
              ("relu", jac, r"(c) ReLU: sym$(\partial r/\partial x)$"),
              ("relu", rw, r"(d) ReLU: sym$(RW^\top)$")]
    for ax, (act, data, title) in zip(axes, panels):
        for spec in GRID:
            if spec.activation != act or spec.key not in data:
                continue
            ep, mean, sd = data[spec.key]
            ls = "--" if spec.weight_length else "-"
            ax.plot(ep, mean, ls, color=_COLORS[spec.model], label=spec.model + (" + wl" if spec.weight_length else ""))
            ax.fill_between(ep, mean - sd, mean + sd, color=_COLORS[spec.model], alpha=0.15, lw=0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("symmetricity")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")


def plot_filter_grid(ax: plt.Axes, filters: Tensor | np.ndarray, n: int = 36, title: str | None = None,
                     shape: tuple[int, int] = (28, 28)) -> plt.Axes:
    """The first ``n`` columns of a D × H weight matrix as a square grid of images, each filter
    scaled to its own range (so that shapes, not magnitudes, are compared)."""
    F = np.asarray(filters.detach().cpu() if isinstance(filters, Tensor) else filters)[:, :n]
    side = int(math.ceil(math.sqrt(F.shape[1])))
    h, w = shape
    canvas = np.full((side * (h + 1) + 1, side * (w + 1) + 1), np.nan)
    for k in range(F.shape[1]):
        f = F[:, k].reshape(h, w)
        f = (f - f.min()) / (f.max() - f.min() + 1e-12)
        r, c = divmod(k, side)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = f
    ax.imshow(canvas, cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


@plotting.book_figure
def plot_fig1(run: RunResult, n: int = 36) -> plt.Figure:
    """Figure 1: encoder filters W (left) beside decoder filters Rᵀ (right) of one trained model."""
    fig, axes = plotting.column_figure(1, 2, height=4.2)
    W, R = run_filters(run)
    plot_filter_grid(axes[0, 0], W, n, r"encoder filters $W$")
    plot_filter_grid(axes[0, 1], R, n, r"decoder filters $R^\top$")
    fig.suptitle(f"{run.spec.key}, seed {run.seed}")
    fig.tight_layout()
    return fig


def plot_hidden_distributions(axes: Sequence[plt.Axes], stats: dict[str, dict[str, Any]],
                              band: tuple[float, float] | None = None) -> None:
    """Histograms of the pre-activations u = Wᵀx + b of held-out images (``u_hist`` of
    :func:`~conservae_lib.chapters.mnist_symmetricity.symmetry_metrics.hidden_statistics`), one panel per model,
    with the sigmoid's high-curvature band shaded when given."""
    for ax, (label, s) in zip(axes, stats.items()):
        edges = np.asarray(s["u_hist"]["edges"])
        ax.hist(edges[:-1], bins=edges, weights=s["u_hist"]["density"], color="0.35")
        if band is not None and "sigmoid" in label:
            for sign in (-1, 1):
                ax.axvspan(*(sorted((sign * band[0], sign * band[1]))), color="tab:orange", alpha=0.25, lw=0)
        ax.set_title(label)
        ax.set_xlabel(r"pre-activation $u = W^\top x + b$")
        ax.set_ylabel("density")


def plot_epsilon(axes: Sequence[plt.Axes], rows: Sequence[dict[str, Any]], tolerance: float) -> None:
    """The ε rule and the cells' sensitivity to ε: (left) held-out reconstruction error relative
    to the AE's against ε, with the rule's bound; (right) sym(∂r/∂x) against ε; chosen ε circled."""
    for key in sorted({r["config"] for r in rows}):
        mine = sorted((r for r in rows if r["config"] == key), key=lambda r: r["eps"])
        eps = [r["eps"] for r in mine]
        ls = "--" if key.endswith("_wl") else "-"
        color = "tab:orange" if "sigmoid" in key else "tab:purple"
        axes[0].plot(eps, [r["ratio"] for r in mine], ls, marker="o", ms=3, color=color, label=key)
        axes[1].plot(eps, [r["sym"] for r in mine], ls, marker="o", ms=3, color=color, label=key)
        for r in mine:
            if r["chosen"]:
                axes[0].plot([r["eps"]], [r["ratio"]], "o", ms=9, mfc="none", color=color)
                axes[1].plot([r["eps"]], [r["sym"]], "o", ms=9, mfc="none", color=color)
    axes[0].axhline(1 + tolerance, color="0.4", lw=0.8, ls=":")
    axes[0].set_ylabel("reconstruction error / AE's")
    axes[1].set_ylabel(r"sym$(\partial r/\partial x)$")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"$\varepsilon$ of eq. (10)")
        ax.grid(alpha=0.3)


def plot_readings(axes: Sequence[plt.Axes], by_reading: Mapping[str, Sequence[RunResult]], keys: Sequence[str]) -> None:
    """sym(∂r/∂x) against the epoch, one panel per configuration key, one line per reading."""
    styles = ["-", "--", ":", "-."]
    for ax, key in zip(axes, keys):
        for (name, runs), ls in zip(by_reading.items(), styles):
            run = next((r for r in runs if r.spec.key == key), None)
            if run is not None and run.records:
                ep, v = run.series("jac_sym")
                ax.plot(ep, v, ls, label=name)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(r"sym$(\partial r/\partial x)$")
        ax.grid(alpha=0.3)


def _legend_below(fig: plt.Figure, ax: plt.Axes, ncol: int = 2, rows: int = 1, height: float = 1.0) -> None:
    """The legend of ``ax``'s lines under the figure's panels, ``ncol`` entries a row (``rows`` rows),
    leaving room for it in a figure ``height`` inches tall."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False)
    fig.tight_layout(rect=(0, (0.1 + 0.22 * rows) / height, 1, 1))


@plotting.book_figure
def epsilon_figure(rows: Sequence[dict[str, Any]], tolerance: float, labels: Mapping[str, str]) -> plt.Figure:
    """:func:`plot_epsilon` on a figure of its own (section *Choosing ε*), one row of panels per optimiser,
    the cells' legend under them."""
    optimizers = list(dict.fromkeys(r["optimizer"] for r in rows))
    height = 2.9 * len(optimizers) + 0.6
    fig, axes = plotting.column_figure(len(optimizers), 2, height=height)
    for o, pair in zip(optimizers, axes):
        plot_epsilon(pair, [r for r in rows if r["optimizer"] == o], tolerance)
        for ax in pair:
            ax.set_title(labels.get(o, o))
    _legend_below(fig, axes[0, 0], ncol=4, height=height)
    return fig


@plotting.book_figure
def readings_figure(by_reading: Mapping[str, Sequence[RunResult]],
                    keys: Sequence[str] = ("AE.sigmoid", "AE.relu", "CAE.sigmoid", "CAE.relu")) -> plt.Figure:
    """:func:`plot_readings` on a figure of its own, two panels a row, one per configuration of ``keys``;
    the readings' legend under them."""
    nrows = -(-len(keys) // 2)
    height = 2.9 * nrows + 0.6
    fig, axes = plotting.column_figure(nrows, 2, height=height, sharey=True)
    plot_readings(axes.ravel(), by_reading, list(keys))
    for ax in axes[:, 1]:
        ax.set_ylabel("")  # the rows share their y axis
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    _legend_below(fig, axes[0, 0], ncol=len(by_reading), height=height)
    return fig


@plotting.book_figure
def fig2_figure(by_reading: Mapping[str, Sequence[RunResult]]) -> plt.Figure:
    """Figure 2 a–d (:func:`plot_fig2`), a 2 × 2 block of panels per reading of ``by_reading`` (label →
    its runs), one block under the other, each under its reading's name; the models' legend under all."""
    n = len(by_reading)
    fig = plt.figure(figsize=(plotting.COLUMN_WIDTH, 5.6 * n + 0.4), dpi=plotting.DPI, layout="constrained")
    first = None
    for block, (label, runs) in zip(fig.subfigures(n, 1, squeeze=False).ravel(), by_reading.items()):
        axes = block.subplots(2, 2, sharex=True)
        plot_fig2(axes.ravel(), runs)
        axes[0, 0].get_legend().remove()
        for ax in axes[0]:
            ax.set_xlabel("")  # the columns share their x axis
        block.suptitle(label)
        first = axes[0, 0] if first is None else first
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False)
    return fig


@plotting.book_figure
def full_fig2_figure(runs: Sequence[RunResult]) -> plt.Figure:
    """:func:`fig2_figure` of the ``full`` profile's finished runs (full MNIST), or a note that none has finished."""
    if runs:
        return fig2_figure({f"full MNIST, {len(runs)} finished run(s)": runs})
    fig, ax = plotting.column_figure(1, 1, height=1.2)
    ax[0, 0].axis("off")
    ax[0, 0].text(0.5, 0.5, "no full-MNIST run has finished yet", ha="center", va="center")
    return fig


@plotting.book_figure
def hidden_figure(stats: dict[str, dict[str, Any]], band: tuple[float, float] | None = None) -> plt.Figure:
    """:func:`plot_hidden_distributions` of four models on a figure of its own, two panels a row."""
    nrows = -(-len(stats) // 2)
    fig, axes = plotting.column_figure(nrows, 2, height=2.8 * nrows)
    plot_hidden_distributions(axes.ravel(), stats, band)
    for ax in axes.ravel()[len(stats):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
