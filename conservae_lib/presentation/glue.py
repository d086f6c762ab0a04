"""Values a chapter hands to its prose: MyST-NB's ``glue``, without MyST-NB.

A chapter writes ``glue("n_cells", 8)`` in a code cell and ``{glue:text}`` `n_cells` in its
text; Jupyter Book (MyST-NB) finds the value in the cell's outputs when it builds the page.
MyST-NB is a book-building dependency, not one of the library's: a reader who opens a chapter in
Colab has ``conservae_lib`` and its runtime dependencies only. :func:`glue` writes exactly the
output MyST-NB's own ``myst_nb.glue`` writes (the value's display bundle, tagged with scrapbook
metadata), so the executed notebook is the same whichever of the two produced it, and the chapter
runs where MyST-NB is not installed. Layer: book tooling. Used by every chapter that glues.

Figures: :func:`glue_figure` glues a matplotlib figure for a ``{glue:figure}`` directive, which
numbers and captions it on the page. The chapter's cell carries the tag ``remove-output``, so
the book shows the figure once, under its caption; a reader of the notebook (Colab, Jupyter)
still sees it in the cell's output.
"""
from __future__ import annotations

from typing import Any

__all__ = ["GLUE_PREFIX", "glue", "glue_figure"]

#: The MIME prefix MyST-NB gives a glued value that is recorded but not displayed.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Record ``variable`` under ``name`` for the page's ``{glue}`` roles and directives (and show
    it in the notebook when ``display``), in the format of ``myst_nb.glue``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue needs a non-empty name, got {name!r}.")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    mimebundle, metadata = format_display_data(variable)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=prefix)
    ipy_display({prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)


def glue_figure(name: str, fig: Any) -> None:
    """Glue a matplotlib figure under ``name`` for a ``{glue:figure}`` directive, and close it.

    The figure is displayed (``display=True``): in the book the cell is tagged ``remove-output``
    and the directive shows the figure with its number and caption; in Colab or Jupyter, where
    MyST directives do not render, the cell's output is the figure. Closing it keeps the inline
    backend from showing it a second time at the end of the cell. A displayed image is not
    compared by nbval (only its text, ``<Figure size … with N Axes>``), so re-executions that
    differ in the last bit of a pixel still check.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"glue_figure needs a matplotlib Figure, got {type(fig).__name__}.")
    import matplotlib.pyplot as plt

    glue(name, fig, display=True)
    plt.close(fig)
