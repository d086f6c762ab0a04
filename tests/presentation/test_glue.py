"""conservae_lib.presentation.glue writes what myst_nb.glue writes, so a chapter runs without MyST-NB (Colab)
and its executed notebook is the same as when MyST-NB is installed."""
from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from conservae_lib.presentation.glue import GLUE_PREFIX, glue


def _outputs(fn, *args, **kw):
    InteractiveShell.instance()
    with capture_output() as cap:
        fn(*args, **kw)
    return [(o.data, o.metadata) for o in cap.outputs]


@pytest.mark.parametrize("value", [3, 0.5, "paper", pd.DataFrame({"a": ["1", "2"]})])
@pytest.mark.parametrize("display", [True, False])
def test_glue_output_is_byte_for_byte_myst_nbs(value, display):
    myst_glue = pytest.importorskip("myst_nb").glue
    ours = _outputs(glue, "x", value, display=display)
    theirs = _outputs(myst_glue, "x", value, display=display)
    assert ours == theirs
    data, meta = ours[0]
    assert meta["scrapbook"] == {"name": "x", "mime_prefix": "" if display else GLUE_PREFIX}
    assert all(k.startswith(GLUE_PREFIX) != display for k in data)


def test_glue_refuses_an_empty_name():
    with pytest.raises(ValueError, match="non-empty name"):
        glue("", 1)


def test_the_library_does_not_need_myst_nb():
    """No module of conservae_lib imports myst_nb (Colab does not have it)."""
    from pathlib import Path

    lib = Path(__file__).resolve().parents[2] / "conservae_lib"
    modules = list(lib.rglob("*.py"))
    assert len(modules) > 60
    assert not [p.name for p in modules if "import myst_nb" in p.read_text() or "from myst_nb" in p.read_text()]


def test_no_chapter_imports_myst_nb():
    """Chapters glue through conservae_lib.presentation.glue, so they run where MyST-NB is not installed."""
    from pathlib import Path

    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    assert not [p.name for p in notebooks.glob("*.md") if "myst_nb" in p.read_text()]


def test_glue_figure_displays_the_figure_once_and_closes_it():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from conservae_lib.presentation.glue import glue_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    outputs = _outputs(glue_figure, "fig-x", fig)
    assert len(outputs) == 1
    data, meta = outputs[0]
    assert meta["scrapbook"] == {"name": "fig-x", "mime_prefix": ""}  # displayed: the notebook shows it
    assert "text/plain" in data and not any(k.startswith(GLUE_PREFIX) for k in data)
    assert not plt.fignum_exists(fig.number)  # closed: the inline backend does not show it again
    with pytest.raises(TypeError, match="matplotlib Figure"):
        glue_figure("fig-y", "not a figure")
