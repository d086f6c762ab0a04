"""Measuring what changes a chapter's numbers: thread count, floating-point precision, rounding.

The book promises identical printed numbers when a chapter is re-executed with the same profile
and seed on the same machine. This module measures how far that promise reaches: it trains the
same small auto-encoder under different settings (number of CPU threads, float32 or float64, a
one-ulp perturbation of the initial weights standing in for the rounding differences of other
hardware, and a GPU when one is present) and compares the results bit for bit.
The variants of one training run (:func:`train_variants`) and their comparisons
(:func:`compare_variants`) are numbers only; the chapter's table and sentences are in
:mod:`conservae_lib.chapters.reproducibility.report`.
Chapter: *Reproducibility* (``notebooks/92_reproducibility.md``).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch

from conservae_lib.core.fields import jacobian_symmetricity
from conservae_lib.core.models import AutoEncoder
from conservae_lib.training.trainer import fit

Tensor = torch.Tensor

__all__ = ["Outcome", "num_threads", "train_outcome", "train_variants", "compare", "COMPARISONS", "compare_variants",
           "agreeing_digits", "kernel_bitwise_equal"]


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run the enclosed code with ``torch.set_num_threads(n)``, then restore the previous count."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"the number of threads must be a positive integer; got {n!r}.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Outcome:
    """The numbers a chapter would report about one trained model."""

    loss: float  # final training loss
    symmetricity: float  # mean Jacobian symmetricity on held-out points
    params: dict[str, Tensor]  # final parameters, copied to the CPU in float64


def train_outcome(
    x_train: Tensor,
    x_eval: Tensor,
    *,
    H: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    threads: int = 1,
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
    perturb_ulps: int = 0,
) -> Outcome:
    """Train a sigmoid auto-encoder (Adam, mini-batches) on ``x_train`` and measure it.

    ``perturb_ulps`` moves every initial encoder weight by that many units in the last place
    (``torch.nextafter``), the size of the differences other hardware's rounding introduces.
    """
    with num_threads(threads):
        # Initialised in float32 and then converted, so that every precision starts from the same weights.
        model = AutoEncoder(x_train.shape[1], H, activation="sigmoid", seed=seed).to(dtype)
        if perturb_ulps:
            with torch.no_grad():
                for _ in range(abs(perturb_ulps)):
                    target = torch.full_like(model.W, math.copysign(math.inf, perturb_ulps))
                    model.W.copy_(torch.nextafter(model.W, target))
        history = fit(model, x_train.to(dtype), epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                      device=device, progress=False)
        with torch.no_grad():
            sym = jacobian_symmetricity(model, x_eval.to(dtype).to(next(model.parameters()).device))
    params = {k: v.detach().to("cpu", torch.float64).clone() for k, v in model.state_dict().items()}
    return Outcome(float(history.last("loss")), float(sym.double().mean()), params)


def train_variants(x_train: Tensor, x_eval: Tensor, *, threads: Sequence[int], device: torch.device | str = "cpu",
                   **common: Any) -> dict[str, Outcome]:
    """The same training run (:func:`train_outcome` with ``common``: H, epochs, batch_size, lr,
    seed) under the settings the chapter compares, changing one thing at a time.

    ``reference`` with the first thread count of ``threads``; ``repeat`` and ``repeat again`` with
    the last; ``float64``; ``one ulp`` (initial weights moved by one ulp); and ``GPU`` when
    ``device`` is a CUDA device — all but the repeats with the first thread count.
    """
    first, last = threads[0], threads[-1]
    runs = {
        "reference": train_outcome(x_train, x_eval, threads=first, **common),
        "repeat": train_outcome(x_train, x_eval, threads=last, **common),
        "repeat again": train_outcome(x_train, x_eval, threads=last, **common),
        "float64": train_outcome(x_train, x_eval, threads=first, dtype=torch.float64, **common),
        "one ulp": train_outcome(x_train, x_eval, threads=first, perturb_ulps=1, **common),
    }
    if torch.device(device).type == "cuda":
        runs["GPU"] = train_outcome(x_train, x_eval, threads=first, device=str(device), **common)
    return runs


#: What the chapter compares, in its order: key → (run, run it is compared with) of :func:`train_variants`.
COMPARISONS: dict[str, tuple[str, str]] = {
    "repeat": ("repeat again", "repeat"),  # same settings, run twice
    "threads": ("reference", "repeat"),  # first against last thread count
    "precision": ("reference", "float64"),
    "ulp": ("one ulp", "reference"),
    "gpu": ("GPU", "reference"),
}


def compare_variants(runs: dict[str, Outcome]) -> dict[str, dict[str, float | bool | int]]:
    """:func:`compare` for each pair of :data:`COMPARISONS` whose runs are in ``runs``."""
    return {key: compare(runs[a], runs[b]) for key, (a, b) in COMPARISONS.items() if a in runs and b in runs}


def agreeing_digits(x: float, y: float, max_digits: int = 17) -> int:
    """The largest d ≤ ``max_digits`` such that ``x`` and ``y`` print the same with d significant
    digits and with every smaller count (as :func:`conservae_lib.presentation.report.fmt` prints them)."""
    for d in range(1, max_digits + 1):
        if f"{x:.{d}g}" != f"{y:.{d}g}":
            return d - 1
    return max_digits


def compare(a: Outcome, b: Outcome) -> dict[str, float | bool | int]:
    """Differences between two outcomes: bitwise equality, the largest parameter difference
    (absolute and relative to the largest parameter), and the relative differences of the
    loss and the symmetricity, with the number of significant digits they share."""
    diffs = [float((a.params[k] - b.params[k]).abs().max()) for k in a.params]
    scale = max(float(v.abs().max()) for v in b.params.values())
    identical = all(torch.equal(a.params[k], b.params[k]) for k in a.params) and a.loss == b.loss
    return {
        "identical": identical,
        "max_param_diff": max(diffs),
        "rel_param_diff": max(diffs) / scale,
        "loss_rel_diff": abs(a.loss - b.loss) / abs(b.loss),
        "sym_rel_diff": abs(a.symmetricity - b.symmetricity) / abs(b.symmetricity),
        "loss_digits": agreeing_digits(a.loss, b.loss),
        "sym_digits": agreeing_digits(a.symmetricity, b.symmetricity),
    }


def kernel_bitwise_equal(threads: tuple[int, int] = (1, 2), n: int = 1 << 20, size: int = 384,
                         seed: int = 0) -> dict[str, bool]:
    """Whether a long float32 sum and a float32 matrix product give the same bits under two
    thread counts (the building blocks of every loss and every layer)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(n, generator=g)
    a, b = torch.randn(size, size, generator=g), torch.randn(size, size, generator=g)
    out = []
    for t in threads:
        with num_threads(t):
            out.append((v.sum(), a @ b))
    return {"sum": bool(torch.equal(out[0][0], out[1][0])), "matmul": bool(torch.equal(out[0][1], out[1][1]))}


# ------------------------------------------------------------------------- chapter 92's parameters
