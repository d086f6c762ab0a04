"""The reproducibility chapter's tables and sentences, made from the runs of
:mod:`conservae_lib.chapters.reproducibility.reproducibility` (presentation only; one row per comparison is
:func:`comparison_row`).

Chapter: *Reproducibility* (``notebooks/92_reproducibility.md``).
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from conservae_lib.presentation.report import fmt
from .reproducibility import Outcome

__all__ = ["settings_table", "reference_line", "format_difference", "comparison_row", "comparison_labels",
           "comparison_table", "findings"]

Comparison = dict[str, float | bool | int]


def settings_table(settings: dict[str, Any]) -> pd.DataFrame:
    """The determinism settings in force (:func:`conservae_lib.training.runtime.determinism_settings`), one
    row each, values as text."""
    return pd.DataFrame({"value": {k: str(v) for k, v in settings.items()}})


def reference_line(ref: Outcome, n_train: int, H: int, epochs: int, threads: int) -> str:
    """The reference run's setting and its two reported numbers, to 7 significant digits."""
    return (f"reference run ({n_train} images, H = {H}, {epochs} epochs, {threads} thread(s)): "
            f"final loss {fmt(ref.loss, 7)}, mean symmetricity {fmt(ref.symmetricity, 7)}")


def format_difference(x: float) -> str:
    """A difference for a table: ``0`` when exactly zero, else two significant digits."""
    return "0" if x == 0 else f"{x:.1e}"


def comparison_row(c: dict[str, float | bool | int]) -> dict[str, str]:
    """One table row (formatted strings) describing a
    :func:`~conservae_lib.chapters.reproducibility.reproducibility.compare` result."""
    def digits(n: int) -> str:
        return "all" if c["identical"] else str(n)

    return {
        "bit-identical": "yes" if c["identical"] else "no",
        "max |Δ param|": format_difference(c["max_param_diff"]),
        "max |Δ param| / max |param|": format_difference(c["rel_param_diff"]),
        "rel. Δ loss": format_difference(c["loss_rel_diff"]),
        "rel. Δ symmetricity": format_difference(c["sym_rel_diff"]),
        "loss digits shared": digits(c["loss_digits"]),
        "symmetricity digits shared": digits(c["sym_digits"]),
    }


def comparison_labels(threads: Sequence[int], gpu: str = "") -> dict[str, str]:
    """The table's row label of each key of :data:`conservae_lib.chapters.reproducibility.reproducibility.COMPARISONS`;
    ``gpu`` names the GPU (:func:`conservae_lib.training.runtime.device_label`)."""
    first, last = threads[0], threads[-1]
    return {
        "repeat": f"same settings, run twice ({last} thread(s))",
        "threads": f"{first} vs {last} CPU threads (float32)",
        "precision": "float32 vs float64",
        "ulp": "initial weights moved by one ulp",
        "gpu": f"GPU ({gpu}) vs CPU",
    }


def comparison_table(comparisons: dict[str, Comparison], threads: Sequence[int], gpu: str = "") -> pd.DataFrame:
    """One row (:func:`comparison_row`) per comparison of
    :func:`~conservae_lib.chapters.reproducibility.reproducibility.compare_variants`, labelled by :func:`comparison_labels`."""
    labels = comparison_labels(threads, gpu)
    return pd.DataFrame({labels[key]: comparison_row(c) for key, c in comparisons.items()}).T


def findings(comparisons: dict[str, Comparison], kernels: dict[str, bool], threads: Sequence[int], n_sum: int,
             size: int) -> str:
    """What the comparisons and the kernel check
    (:func:`~conservae_lib.chapters.reproducibility.reproducibility.kernel_bitwise_equal` of a sum of ``n_sum`` numbers and
    a ``size`` × ``size`` product) found, in sentences."""
    first, last = threads[0], threads[-1]
    same, c_threads = comparisons["repeat"]["identical"], comparisons["threads"]
    c_ulp, c_64 = comparisons["ulp"], comparisons["precision"]

    def bits(equal: bool) -> str:
        return "gave the same bits" if equal else "gave different bits"

    lines = [
        f"Re-running with the same settings {'repeated every bit' if same else 'did NOT repeat every bit'}.",
        f"With {first} and {last} threads, a float32 sum of {n_sum:,} numbers {bits(kernels['sum'])}, a {size} × "
        f"{size} float32 matrix product {bits(kernels['matmul'])}, and the training run "
        f"{'was bit-identical' if c_threads['identical'] else 'was not bit-identical'}.",
        f"A one-ulp change of the initial weights changed the final loss by a relative "
        f"{format_difference(c_ulp['loss_rel_diff'])} ({c_ulp['loss_digits']} digits shared) and the mean "
        f"symmetricity by {format_difference(c_ulp['sym_rel_diff'])} ({c_ulp['sym_digits']} digits shared); "
        f"float64 instead of float32 changed them by {format_difference(c_64['loss_rel_diff'])} and "
        f"{format_difference(c_64['sym_rel_diff'])}.",
    ]
    if "gpu" not in comparisons:
        lines.append("No GPU was present when this page was executed, so GPU-versus-CPU differences were not "
                     "measured here.")
    return "\n".join(lines)
