"""Chapter 01's figure draws the three 2-D models, one panel each, readable in the book's column."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.conservative_autoencoders import figures  # noqa: E402
from conservae_lib.core import conditions  # noqa: E402
from conservae_lib.presentation.plotting import legibility_problems  # noqa: E402


def test_the_fields_figure_has_a_panel_and_a_colour_bar_per_model_and_is_legible():
    examples = conditions.proposition_examples(2, 8, seed=0)
    fig = figures.fields_figure(examples)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t.split("\n")[0] for t in titles] == list(figures.FIELD_MODELS)
    assert len(fig.axes) == 2 * len(figures.FIELD_MODELS)  # each panel has its colour bar
    assert legibility_problems(fig) == []
    plt.close(fig)
