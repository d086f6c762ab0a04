"""The book's figure rules (``conservae_lib.presentation.plotting``): figures as wide as the content
column, fonts of at least 9 pt, panels laid out in rows; and the check that finds a figure breaking them."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from conservae_lib.presentation import plotting  # noqa: E402


def test_a_book_figure_uses_the_books_fonts_and_leaves_the_global_settings_alone():
    before = dict(plt.rcParams)

    @plotting.book_figure
    def make():
        fig, axes = plotting.column_figure(1, 2)
        axes[0, 0].plot([0, 1], label="a")
        axes[0, 0].legend()
        axes[0, 0].set_title("t")
        return fig

    fig = make()
    assert tuple(fig.get_size_inches()) == (plotting.COLUMN_WIDTH, 3.4) and fig.dpi == plotting.DPI
    assert plotting.legibility_problems(fig) == []
    assert fig.axes[0].get_legend().get_texts()[0].get_fontsize() == plotting.MIN_FONT_PT
    assert dict(plt.rcParams) == before
    plt.close(fig)


def test_the_check_finds_a_wide_figure_and_small_text():
    fig, ax = plt.subplots(figsize=(14, 3))
    ax.plot([0, 1], label="a line")
    ax.legend(fontsize=6)
    problems = plotting.legibility_problems(fig)
    assert len(problems) == 2
    assert problems[0].startswith("14.00 in wide") and "'a line' at 6.0 pt" in problems[1]
    ax.tick_params(labelsize=7)
    assert "'0.0' at 7.0 pt" in plotting.legibility_problems(fig)[1]  # tick labels count too
    plt.close(fig)


@pytest.mark.parametrize("n, ncols, rows", [(1, 2, [1]), (3, 2, [2, 1]), (4, 2, [2, 2]), (5, 3, [3, 2])])
def test_panel_grid_fills_rows_and_centres_a_short_last_row(n, ncols, rows):
    fig, axes = plotting.panel_grid(n, ncols=ncols)
    assert len(axes) == len(fig.axes) == n
    assert fig.get_size_inches()[0] == plotting.COLUMN_WIDTH
    spans = [ax.get_subplotspec() for ax in axes]
    assert [sum(s.rowspan.start == r for s in spans) for r in range(len(rows))] == rows
    last = [s for s in spans if s.rowspan.start == len(rows) - 1]
    width = 2 * min(ncols, n)  # the grid's columns: two per panel
    assert last[0].colspan.start == width - last[-1].colspan.stop  # as much room left as right
    plt.close(fig)
    with pytest.raises(ValueError, match="n ≥ 1"):
        plotting.panel_grid(0)


def test_compact_colour_bars_have_few_short_labels():
    fig, ax = plt.subplots()
    image = ax.imshow([[-1e-3, 1e-3]], cmap="RdBu_r", vmin=-1e-3, vmax=1e-3)
    bar = plotting.compact_colorbar(plt.colorbar(image, ax=ax), n=2, symmetric=True)
    fig.draw_without_rendering()
    labels = [t.get_text() for t in bar.ax.get_yticklabels()]
    assert labels == ["−0.001", "0", "0.001"]
    assert not bar.ax.yaxis.get_offset_text().get_text()  # no "×10⁻³" above the bar
    plt.close(fig)
