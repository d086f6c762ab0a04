"""Chapter 04's figures draw (``conservae_lib.chapters.mnist_symmetricity.figures``)."""
from __future__ import annotations

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conservae_lib.chapters.mnist_symmetricity import empirical as E# noqa: E402
from conservae_lib.chapters.mnist_symmetricity import figures as F# noqa: E402
from conservae_lib.chapters.mnist_symmetricity import table1 as T1# noqa: E402
from tests.mnist_fakes import fake_run  # noqa: E402


def test_figures_draw():
    runs = [fake_run(s.key, 0, 0.5, 0.9) for s in E.GRID]
    fig, axes = matplotlib.pyplot.subplots(2, 2)
    F.plot_fig2(axes.ravel(), runs)
    fig1 = F.plot_fig1(runs[2], n=4)
    assert len(fig1.axes) == 2
    fig, axes = matplotlib.pyplot.subplots(1, 1, squeeze=False)
    F.plot_hidden_distributions(axes[0], {"AE.sigmoid": {"u": np.random.default_rng(0).normal(size=100)}},
                                T1.high_curvature_band())
    matplotlib.pyplot.close("all")
