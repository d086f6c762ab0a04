"""The performance appendix's figure: per timed chapter a bar for its last execution and one for its first run
where that is known (none for a reload), a figure even when none is timed (the page's {glue:figure} needs one),
readable in the book's column."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conservae_lib.chapters.performance import runs_report as R  # noqa: E402
from conservae_lib.presentation.plotting import legibility_problems  # noqa: E402

TIMED = [{"notebook": "01_a", "profile": "paper", "wall_s": 60.0, "device": "CPU", "train_s": None, "checkpoints": False},
         {"notebook": "04_b", "profile": None, "wall_s": 180.0, "device": None, "train_s": 1234.5, "checkpoints": True},
         {"notebook": "07_c", "profile": None, "wall_s": 30.0, "device": None, "train_s": None, "checkpoints": True}]


def test_the_chapter_figure_is_legible_and_exists_without_timings():
    fig = R.chapter_figure(TIMED)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["07_c", "04_b", "01_a"]  # book order from the top
    widths = [p.get_width() for p in ax.patches]
    assert widths[:3] == [0.5, 3.0, 1.0]  # last executions, in minutes
    assert widths[3:] == [0.0, 1234.5 / 60, 1.0]  # first runs: none for 07_c's reload, 04_b's training
    assert ax.get_xscale() == "log" and legibility_problems(fig) == []
    plt.close(fig)
    fig = R.chapter_figure([])
    assert not fig.axes[0].patches and "no chapter" in fig.axes[0].texts[0].get_text()
    assert legibility_problems(fig) == []
    plt.close(fig)
