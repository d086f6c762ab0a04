"""Chapter 02's figures draw the perturbation sweeps and the frozen-point profile, readable in the book's
column: one legend of the families under both sweep panels, the reference slopes in each panel."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.sufficient_condition import report, survey  # noqa: E402
from conservae_lib.presentation.plotting import legibility_problems  # noqa: E402


def test_the_perturbation_and_distance_figures_are_legible():
    examples = survey.family_examples(4, 3, seed=0, n_points=16)
    sweeps = survey.perturbation_sweeps(examples, 3, n_loops=4, seed=0)
    fig = report.perturbation_figure(sweeps)
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(sweeps)
    assert [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes] == [["slope 2"], ["slope 1"]]
    assert legibility_problems(fig) == []
    plt.close(fig)
    fig = report.distance_figure(survey.frozen_point_profile(examples, seed=0))
    assert legibility_problems(fig) == []
    plt.close(fig)
