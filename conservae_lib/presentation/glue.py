"""Values a chapter hands to its prose: MyST-NB's ``glue``, without MyST-NB.

A chapter writes ``glue("n_cells", 8)`` in a code cell and ``{glue:text}`` `n_cells` in its
text; Jupyter Book (MyST-NB) finds the value in the cell's outputs when it builds the page.
MyST-NB is a book-building dependency, not one of the library's: a reader who opens a chapter in
Colab has ``conservae_lib`` and its runtime dependencies only. :func:`glue` writes exactly the
output MyST-NB's own ``myst_nb.glue`` writes (the value's display bundle, tagged with scrapbook
metadata), so the executed notebook is the same whichever of the two produced it, and the chapter
runs where MyST-NB is not installed. Layer: book tooling. Used by every chapter that glues.
"""
from __future__ import annotations

from typing import Any

__all__ = ["GLUE_PREFIX", "glue"]

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
