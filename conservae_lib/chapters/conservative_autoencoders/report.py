"""Chapter 01's table: the measurements of :func:`conservae_lib.chapters.conservative_autoencoders.propositions.survey`, one row per model.

Chapter: *Conservative auto-encoders* (01).
"""
from __future__ import annotations

from conservae_lib.presentation.report import fmt, fmt_small, frame


def survey_table(rows: list[dict[str, object]]):
    """The survey as a formatted table (strings, stable across re-runs)."""
    return frame([
        {
            "model": r["model"],
            "conservative in theory": "yes" if r["theory"] else "no",
            "mean sym(∂r/∂x)": fmt(r["sym_mean"], 6),
            "max 1 − sym": fmt_small(r["asym_max"], missing="—"),
            "mean rel. circulation": fmt_small(r["circulation_mean"], missing="—"),
            "max path dependence": fmt_small(r["path_dependence_max"], missing="—"),
            "‖∇F − (r − x)‖ rel.": fmt_small(r["energy_grad_error"], missing="—"),
        }
        for r in rows
    ], index="model")
