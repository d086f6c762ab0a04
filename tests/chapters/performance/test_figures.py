"""The performance appendix's figure: one bar per timed chapter, and a figure even when none is timed
(the page's {glue:figure} needs one), readable in the book's column."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.performance import report as P  # noqa: E402
from conservae_lib.presentation.plotting import legibility_problems  # noqa: E402

TIMED = [{"notebook": "01_a", "profile": "paper", "wall_s": 60.0, "device": "CPU", "train_s": None},
         {"notebook": "04_b", "profile": None, "wall_s": 180.0, "device": None, "train_s": 1234.5}]


def test_the_chapter_figure_is_legible_and_exists_without_timings():
    fig = P.chapter_figure(TIMED)
    assert len(fig.axes[0].patches) == 2 and legibility_problems(fig) == []
    plt.close(fig)
    fig = P.chapter_figure([])
    assert not fig.axes[0].patches and "no chapter" in fig.axes[0].texts[0].get_text()
    assert legibility_problems(fig) == []
    plt.close(fig)
