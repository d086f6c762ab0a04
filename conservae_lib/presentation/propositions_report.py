"""Chapter 01's table: the measurements of :func:`conservae_lib.experiments.propositions.survey`, one row per model.

Chapter: *Conservative auto-encoders* (01).
"""
from __future__ import annotations

from .report import fmt, fmt_small, frame


def survey_table(rows: list[dict[str, object]]):
    """The survey as a formatted table (strings, stable across re-runs)."""
    def small(v):
        return "—" if v is None else fmt_small(v, floor=1e-12)

    return frame([
        {
            "model": r["model"],
            "conservative in theory": "yes" if r["theory"] else "no",
            "mean sym(∂r/∂x)": fmt(r["sym_mean"], 6),
            "max 1 − sym": small(r["asym_max"]),
            "mean rel. circulation": small(r["circulation_mean"]),
            "max path dependence": small(r["path_dependence_max"]),
            "‖∇F − (r − x)‖ rel.": small(r["energy_grad_error"]),
        }
        for r in rows
    ], index="model")
