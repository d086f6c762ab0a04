"""Figures shared by the chapters: 2-D vector fields, potentials and curl maps.

Every figure of the book is drawn by a function here from data the chapter computed, so a
chapter holds no plotting logic of its own. Functions take a matplotlib ``Axes`` and return it
(or the artist), so chapters can lay panels out as the paper does.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from conservae_lib.core.fields import FieldLike, curl_2d, dtype_of, field_on_grid, grid_2d

Tensor = torch.Tensor
Box = Sequence[float]

__all__ = ["plot_field", "plot_scalar", "plot_model_2d", "panels"]


def plot_field(
    ax: plt.Axes, field: FieldLike, box: Box = (-1, 1, -1, 1), n: int = 21,
    title: str | None = None, color: str = "k", data: np.ndarray | None = None, stream: bool = False,
) -> plt.Axes:
    """Arrows (or stream lines) of a 2-D field over ``box``; optional data points beneath."""
    x, y, U, V = field_on_grid(field, box, n)
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=3, c="tab:orange", alpha=0.5, lw=0, zorder=0)
    if stream:
        ax.streamplot(x, y, U, V, color=color, density=1.0, linewidth=0.7, arrowsize=0.8)
    else:
        ax.quiver(x, y, U, V, color=color, angles="xy", pivot="mid", width=0.004)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def plot_scalar(
    ax: plt.Axes, x: np.ndarray, y: np.ndarray, Z: np.ndarray, title: str | None = None,
    cmap: str = "viridis", levels: int = 20, colorbar: bool = True, symmetric: bool = False,
):
    """Filled contours of a scalar on a grid (a potential, a curl map, an error map)."""
    Z = np.asarray(Z)
    kw = {}
    if symmetric:
        lim = float(np.nanmax(np.abs(Z))) or 1.0
        kw = dict(vmin=-lim, vmax=lim)
        levels = np.linspace(-lim, lim, levels)
    cs = ax.contourf(x, y, Z, levels=levels, cmap=cmap, **kw)
    if colorbar:
        plt.colorbar(cs, ax=ax, fraction=0.046, pad=0.04)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return cs


def panels(n: int, width: float = 4.0, height: float = 3.8, **kw) -> tuple[plt.Figure, np.ndarray]:
    """A row of ``n`` panels of equal size."""
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), **kw)
    return fig, np.atleast_1d(axes)


def plot_model_2d(ax: plt.Axes, model: torch.nn.Module, box: Box = (-2, 2, -2, 2), n: int = 80, title: str | None = None) -> plt.Axes:
    """A 2-D auto-encoder's field as stream lines over its energy, or over its curl.

    Background: the closed-form energy (:func:`conservae_lib.core.energy.potential`) when the model
    has one, otherwise the exact curl map (zero for a conservative field).
    """
    from conservae_lib.core.energy import decoder_scales, potential
    from conservae_lib.core.models import AutoEncoder

    x, y, pts = grid_2d(box, n, dtype_of(model))
    if isinstance(model, AutoEncoder) and decoder_scales(model) is not None:
        with torch.no_grad():
            Z = potential(model, pts).cpu().numpy().reshape(n, n)
        plot_scalar(ax, x, y, Z, cmap="viridis", colorbar=True)
        label = "energy F"
    else:
        c = curl_2d(model, pts).detach().cpu().numpy().reshape(n, n)
        plot_scalar(ax, x, y, c, cmap="RdBu_r", symmetric=True)
        label = "curl"
    plot_field(ax, model, box, n=25, stream=True, color="k")
    ax.set_title(f"{title}\n(background: {label})" if title else f"background: {label}")
    return ax
