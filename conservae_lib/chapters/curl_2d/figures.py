"""Chapter 05's figures and tables: the curl of r(x) − x during training (Figure 3).

The numbers come from :mod:`conservae_lib.chapters.curl_2d.curl_training`; here they become the page's table
(:func:`curl_rows`), the values its prose glues (:func:`glue_texts`) and its figures (``plot_*``:
the data sets, Figure 3 — the field over its curl map and the curl over training — and the curl
against time for the three models). Chapter: *Untied auto-encoders become curl-free near the data*
(05_curl_2d).
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .curl_training import CurlProbe, Runs, ratio_final_initial
from conservae_lib.data.toy_data import curve
from conservae_lib.presentation import plotting

Tensor = torch.Tensor


def glue_texts(numbers: dict[str, Any], claims: Sequence[dict[str, Any]]) -> dict[str, str]:
    """What chapter 05's prose glues, by glue name: the numbers of
    :func:`~conservae_lib.chapters.curl_2d.curl_training.summary` (``near_best``, ``near_worst``,
    ``box_best``, ``box_worst``, ``n_near_below_box``, ``n_rel_near_below_box``, ``tied_max``) and
    the verdicts of its first two ``fig3`` records in the order of
    :data:`~conservae_lib.chapters.curl_2d.curl_training.FIG3_READINGS` (``verdict05``: the paper's
    reading, ``verdict05_box``: the whole box)."""
    from conservae_lib.presentation.report import fmt, fmt_small

    near, box, rel_near, rel_box = (numbers[k] for k in ("near_ratio", "box_ratio", "rel_near_final", "rel_box_final"))
    return {
        "near_best": fmt(min(near.values()), 2), "near_worst": fmt(max(near.values()), 2),
        "box_best": fmt(min(box.values()), 2), "box_worst": fmt(max(box.values()), 2),
        "n_near_below_box": f"{sum(near[n] < box[n] for n in near)} of {len(near)}",
        "n_rel_near_below_box": f"{sum(rel_near[n] < rel_box[n] for n in near)} of {len(near)}",
        "tied_max": fmt_small(numbers["tied_max_abs"]),
        "verdict05": claims[0]["verdict"], "verdict05_box": claims[1]["verdict"],
    }


def curl_rows(runs: dict[str, dict[str, Sequence[dict[str, Any]]]]) -> list[dict[str, str]]:
    """Chapter 05's table: per model and data set, the mean |curl| near the data and over the whole
    box, initial → final and their ratio, side by side, and the final relative curls.

    ``runs`` maps a model label to {data set: list of runs of
    :func:`~conservae_lib.chapters.curl_2d.curl_training.train_and_track`}; means over the runs
    (seeds), with the ratio averaged seed by seed. A model with a collapsed run is marked.
    """
    from conservae_lib.presentation.report import fmt

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
    from conservae_lib.presentation.plotting import plot_field

    c = probe.curl_map(model)
    lim = vmax if vmax is not None else (float(np.abs(c).max()) or 1.0)
    im = ax.imshow(c, origin="lower", extent=tuple(probe.box), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="bilinear")
    plotting.compact_colorbar(plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04), n=2, symmetric=True)
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


@plotting.book_figure
def plot_datasets(data: dict[str, Tensor], probes: dict[str, CurlProbe]) -> plt.Figure:
    """One panel per data set: its points, the noise-free curve and, shaded, the grid points near it."""
    fig, axes = plotting.panels(len(data), height=2.9)
    for ax, name in zip(axes, data):
        p = probes[name]
        ax.contourf(p.x, p.y, p.near.numpy().reshape(p.n, p.n), levels=[0.5, 1.5], colors=["0.85"])
        ax.scatter(*data[name].T, s=3, c="tab:orange")
        ax.plot(*curve(name).T, "k", lw=0.8)
        ax.set(xlim=p.box[:2], ylim=p.box[2:], aspect="equal", title=name)
    fig.tight_layout()
    return fig


@plotting.book_figure
def plot_figure3(plain: Runs, denoising: Runs, probes: dict[str, CurlProbe], data: dict[str, Tensor],
                 epochs: int) -> plt.Figure:
    """Figure 3: the first seed's field over its curl, one column per data set (named on top); rows,
    named on the left: the untrained model, the plain untied auto-encoder after ``epochs`` epochs, the
    denoising extra. Tick labels on the outer panels only."""
    from matplotlib.ticker import MaxNLocator

    names = list(plain)
    fig, axes = plotting.column_figure(3, len(names), height=2.1 * 3 + 0.2)
    rows = (("initial", "untrained"), ("model", f"plain AE,\n{epochs} epochs"), ("model", "denoising AE\n(extra)"))
    for j, name in enumerate(names):
        for i, ((key, what), runs) in enumerate(zip(rows, (plain, plain, denoising))):
            ax = axes[i, j]
            plot_field_over_curl(ax, runs[name][0][key], probes[name], data[name], n_arrows=13,
                                 title=name if i == 0 else None)
            ax.xaxis.set_major_locator(MaxNLocator(3, steps=[1, 5, 10]))
            ax.yaxis.set_major_locator(MaxNLocator(3, steps=[1, 5, 10]))
            if j == 0:
                ax.set_ylabel(what)
            else:
                ax.tick_params(labelleft=False)
            if i < 2:
                ax.tick_params(labelbottom=False)
    fig.tight_layout(h_pad=0.6, w_pad=1.2)
    return fig


@plotting.book_figure
def plot_curl_against_time(plain: Runs, denoising: Runs, tied: Runs) -> plt.Figure:
    """Mean |curl| (top) and relative curl (bottom) against the epoch, per data set: plain (red) and
    denoising (blue) near the data (solid) and over the box (dashed), the tied control dotted; the
    legend under the panels."""
    height = 5.6
    fig, axes = plotting.column_figure(2, len(plain), height=height, sharex=True)
    for j, name in enumerate(plain):
        for row, kind in enumerate(("abs", "rel")):
            ax = axes[row, j]
            for runs, label, color in ((plain[name], "plain", "tab:red"), (denoising[name], "denoising", "tab:blue")):
                plot_curl_curves(ax, runs, f"curl_{kind}_near", f"{label}, near the data", color)
                plot_curl_curves(ax, runs, f"curl_{kind}_box", f"{label}, whole box", color, "--")
            plot_curl_curves(ax, tied[name], f"curl_{kind}_near", "tied (control)", "k", ":")
            ax.set(title=name if row == 0 else None, xlabel="epoch" if row == 1 else None)
    axes[0, 0].set_ylabel("mean |curl|")
    axes[1, 0].set_ylabel("relative curl")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.5 / height, 1, 1))
    return fig
