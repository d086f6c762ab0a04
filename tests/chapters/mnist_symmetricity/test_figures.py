"""Chapter 04's figures draw (``conservae_lib.chapters.mnist_symmetricity.figures``)."""
from __future__ import annotations

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conservae_lib.chapters.mnist_symmetricity import empirical as E# noqa: E402
from conservae_lib.chapters.mnist_symmetricity import figures as F# noqa: E402
from conservae_lib.chapters.mnist_symmetricity import symmetry_metrics as SM  # noqa: E402
from conservae_lib.presentation.plotting import legibility_problems  # noqa: E402
from tests.mnist_fakes import fake_run  # noqa: E402


def _hist(n: int) -> dict:
    density, edges = np.histogram(np.random.default_rng(0).normal(size=n), bins=SM.HISTOGRAM_BINS, range=(-6, 6),
                                  density=True)
    return {"u_hist": {"edges": edges.tolist(), "density": density.tolist()}}


def test_figures_draw():
    runs = [fake_run(s.key, 0, 0.5, 0.9) for s in E.GRID]
    fig, axes = matplotlib.pyplot.subplots(2, 2)
    F.plot_fig2(axes.ravel(), runs)
    fig1 = F.plot_fig1(runs[2], n=4)
    assert len(fig1.axes) == 2
    fig, axes = matplotlib.pyplot.subplots(1, 1, squeeze=False)
    F.plot_hidden_distributions(axes[0], {"AE.sigmoid": _hist(100)},
                                SM.high_curvature_band())
    matplotlib.pyplot.close("all")


def test_the_chapter_figures_fit_the_column_and_are_legible():
    runs = [fake_run(s.key, sd, 0.5, 0.9) for s in E.GRID for sd in (0, 1)]
    readings = {"SGD (0.01)": runs, "Adam (0.001)": runs}
    eps_rows = [dict(optimizer=o, config=c, eps=e, ratio=1 + e, sym=0.9, chosen=e == 0.1)
                for o in ("sgd", "adam") for c in ("CAE.relu", "CAE.sigmoid_wl") for e in (0.01, 0.1)]
    hidden = {k: _hist(200) for k in ("AE.sigmoid", "AE.relu", "AE.sigmoid_wl")}
    figures = {
        "fig2, one reading": (F.fig2_figure({"Adam (0.001)": runs}), 4),
        "fig2, two readings": (F.fig2_figure(readings), 8),
        "fig1": (F.plot_fig1(runs[0], n=4), 2),
        "readings": (F.readings_figure(readings), 4),
        "epsilon": (F.epsilon_figure(eps_rows, 0.1, {"sgd": "SGD (0.01)"}), 4),
        "hidden": (F.hidden_figure(hidden, SM.high_curvature_band()), 3),
    }
    for name, (fig, n_panels) in figures.items():
        assert sum(ax.get_visible() for ax in fig.axes) == n_panels, name
        assert legibility_problems(fig) == [], name
    fig2 = figures["fig2, two readings"][0]
    assert [sf.get_suptitle() for sf in fig2.subfigs] == list(readings)
    assert [t.get_text() for t in fig2.legends[0].get_texts()] == ["AE", "AE + wl", "CAE", "CAE + wl"]
    matplotlib.pyplot.close("all")
