"""Figures shared by the chapters: the book's figure size and fonts, panel layouts, 2-D vector
fields, potentials and curl maps.

Every figure of the book is drawn by a chapter's ``figures.py`` (or ``report.py``) from data the
chapter computed, with the helpers here. Drawing functions take a matplotlib ``Axes`` and return it
(or the artist), so chapters can lay panels out as the paper does.

**Readable at the size shown.** The book's content column is about 760 CSS px wide and a figure is
saved at :data:`DPI` dots per inch, so a figure :data:`COLUMN_WIDTH` inches wide is shown at its own
size, and a font of :data:`MIN_FONT_PT` points is 12.5 px on the page. Every figure function of a
chapter is decorated with :func:`book_figure` (the book's fonts, :data:`BOOK_RC`) and makes its figure
with :func:`column_figure` or :func:`panel_grid` (the column's width); wide rows of panels are split
into rows. :func:`legibility_problems` says what breaks these rules (the chapters' tests call it).
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence, TypeVar

import matplotlib.pyplot as plt
import numpy as np
import torch

from conservae_lib.core.fields import FieldLike, curl_2d, dtype_of, field_on_grid, grid_2d

Tensor = torch.Tensor
Box = Sequence[float]
F = TypeVar("F", bound=Callable)

__all__ = ["COLUMN_WIDTH", "DPI", "MIN_FONT_PT", "BOOK_RC", "book_figure", "column_figure", "panel_grid",
           "compact_colorbar", "legibility_problems", "plot_field", "plot_scalar", "plot_model_2d", "panels"]

#: Width in inches of a figure that fills the book's content column (about 760 CSS px at :data:`DPI`).
COLUMN_WIDTH = 7.6
#: Resolution of the book's figures: the notebook shows a figure at ``width × DPI`` pixels.
DPI = 100
#: The smallest font of any figure, in points (tick labels, legends, colour bars): 12.5 px at :data:`DPI`.
MIN_FONT_PT = 9
#: The book's matplotlib settings (:func:`book_figure` applies them while a figure is drawn).
BOOK_RC = {
    "figure.dpi": DPI, "savefig.dpi": "figure", "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
    "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT, "figure.titlesize": 11, "figure.labelsize": 10,
}


def book_figure(fn: F) -> F:
    """Decorator of a function that makes a figure: it draws under :data:`BOOK_RC` (fonts are fixed
    when a text is created, so the figure keeps them when it is saved later)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context(BOOK_RC):
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def column_figure(nrows: int = 1, ncols: int = 1, height: float = 3.4, **kw) -> tuple[plt.Figure, np.ndarray]:
    """``plt.subplots`` at the column's width (:data:`COLUMN_WIDTH`) and ``height`` inches; axes always 2-D."""
    kw.setdefault("squeeze", False)
    return plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, height), dpi=DPI, **kw)


def panel_grid(n: int, ncols: int = 2, panel_height: float = 3.3, **gridspec) -> tuple[plt.Figure, list[plt.Axes]]:
    """``n`` equal panels at the column's width, ``ncols`` to a row; a last row with fewer panels is
    centred (no empty boxes). Returns the figure and the ``n`` axes in reading order."""
    if n < 1 or ncols < 1:
        raise ValueError(f"panel_grid needs n ≥ 1 and ncols ≥ 1, got {n}, {ncols}.")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(COLUMN_WIDTH, panel_height * nrows), dpi=DPI)
    grid = fig.add_gridspec(nrows, 2 * ncols, **gridspec)
    axes = []
    for i in range(n):
        row, col = divmod(i, ncols)
        in_row = min(ncols, n - row * ncols)
        start = 2 * col + (ncols - in_row)  # centres a short last row
        axes.append(fig.add_subplot(grid[row, start:start + 2]))
    return fig, axes


def compact_colorbar(bar, n: int = 4, symmetric: bool = False):
    """At most ``n`` + 1 round ticks on a colour bar, written with two significant digits (``0.001``,
    ``−1.5``), so its labels stay short beside a neighbouring panel and need no offset text above the
    bar (which would run into the panel's title)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    bar.locator = MaxNLocator(n, symmetric=symmetric)
    bar.formatter = FuncFormatter(lambda v, _: f"{v:.2g}".replace("-", "−"))
    bar.update_ticks()
    return bar


def legibility_problems(fig: plt.Figure, width: float = COLUMN_WIDTH, min_pt: float = MIN_FONT_PT) -> list[str]:
    """What would make ``fig`` hard to read in the book's column: wider than ``width`` inches (it
    would be shrunk, and its text with it), or a visible text (title, label, tick label, legend,
    colour bar) smaller than ``min_pt`` points. Empty when the figure is fine."""
    from matplotlib.text import Text

    problems = []
    w, _ = fig.get_size_inches()
    if w > width + 1e-6:
        problems.append(f"{w:.2f} in wide (the column is {width} in)")
    fig.draw_without_rendering()  # makes the tick labels
    small = sorted({f"{t.get_text()!r} at {t.get_fontsize():.1f} pt" for t in fig.findobj(Text)
                    if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_pt - 1e-6})
    if small:
        problems.append(f"text smaller than {min_pt} pt: {', '.join(small[:8])}" + (" …" if len(small) > 8 else ""))
    return problems


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
    if colorbar:  # a few round ticks, not one per contour level
        compact_colorbar(plt.colorbar(cs, ax=ax, fraction=0.046, pad=0.04), symmetric=symmetric)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return cs


def panels(n: int, height: float = 3.4, **kw) -> tuple[plt.Figure, np.ndarray]:
    """A row of ``n`` panels of equal size, together as wide as the column (:func:`column_figure`)."""
    fig, axes = column_figure(1, n, height=height, **kw)
    return fig, axes[0]


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
