"""Formatting numbers for the book so that re-executions print identical text.

nbval compares printed outputs exactly, so numbers shown in a chapter go through these
helpers: a fixed number of significant digits, and quantities that are zero up to rounding
shown as an upper bound ("< 1e-12") instead of a noise-dominated mantissa.
"""
from __future__ import annotations

import math

import pandas as pd

__all__ = ["fmt", "fmt_small", "fmt_pct", "fmt_mean_sd", "fmt_pm", "frame"]

# Every table the book shows is shown whole: no row, column or cell cut to "…" (a chapter's tables are
# at most a few hundred short rows), and the plain-text form is not wrapped at 80 characters.
pd.set_option("display.max_rows", None, "display.max_columns", None, "display.max_colwidth", None,
              "display.width", None)


def fmt(x: float | None, digits: int = 4, missing: str = "n/a") -> str:
    """``x`` with ``digits`` significant digits (general format); ``missing`` for None or NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return missing
    return f"{float(x):.{digits}g}"


def fmt_small(x: float | None, floor: float = 1e-12, digits: int = 2, missing: str = "n/a") -> str:
    """A quantity expected to be tiny: ``< floor`` when |x| is below it, else scientific notation;
    ``missing`` for None (as :func:`fmt_pm` for no summary), "n/a" for NaN."""
    if x is None:
        return missing
    x = float(x)
    if math.isnan(x):
        return "n/a"
    if abs(x) < floor:
        return f"< {floor:.0e}"
    return f"{x:.{digits - 1}e}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """A fraction in [0, 1] as a percentage."""
    return f"{100 * float(x):.{digits}f} %"


def fmt_mean_sd(mean: float | None, sd: float | None = None, digits: int = 4, sd_digits: int | None = None, *,
                decimals: bool = False, scale: float = 1, missing: str = "n/a") -> str:
    """A mean and its standard deviation as "m ± s", the one form of every mean ± sd the book prints.

    Each number is multiplied by ``scale`` (100: a fraction in percent) and shown with ``digits``
    significant digits (:func:`fmt`), or ``digits`` decimals with ``decimals``; the sd with ``sd_digits``
    (default ``digits``). ``sd=None`` shows the mean alone (e.g. a single seed); a missing or NaN number
    shows as ``missing``."""
    def one(x: float | None, d: int) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return missing
        x = x * scale if scale != 1 else x
        return f"{x:.{d}f}" if decimals else fmt(x, d)

    return one(mean, digits) + ("" if sd is None else " ± " + one(sd, digits if sd_digits is None else sd_digits))


def fmt_pm(stat: dict | None, digits: int = 4, show_sd: bool = True, missing: str = "—") -> str:
    """A summary ``{"mean": m, "std": s}`` as "m ± s" (:func:`fmt_mean_sd`; the spread to 1 significant digit),
    or "m" alone when ``show_sd`` is false (e.g. a single seed); ``missing`` when there is no summary."""
    if stat is None:
        return missing
    return fmt_mean_sd(stat["mean"], stat["std"] if show_sd else None, digits, 1)


def no_full_results(chapter: str, profile: str, adds: str) -> None:
    """Print why a chapter shows no full-MNIST results beside its own: the run is itself under the
    ``full`` profile, or that profile has not run (``adds``: what running it would add)."""
    if profile == "full":
        print("this run is the full profile: the tables above are full MNIST's")
    else:
        print(f"no full-MNIST results yet (results/full/{chapter}/summary.json): "
              f"run the chapter with --profile full to add {adds}")


def frame(rows: list[dict], index: str | None = None) -> pd.DataFrame:
    """A DataFrame of already formatted rows (strings), for display in a chapter."""
    df = pd.DataFrame(rows)
    return df.set_index(index) if index else df
