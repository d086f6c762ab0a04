"""The optimisers a trainer offers, how each is built, and the training arguments it accepts.

:data:`OPTIMIZERS` names them; :func:`make_optimizer` builds one (Adam on PyTorch's fused kernel
where the device has one); :func:`optimizer_implementation` says which kernel a built optimiser
runs, which a checkpoint records because kernels differ in rounding; :func:`check_fit_args`
refuses bad training arguments in one sentence. Used by the one trainer,
:func:`conservae_lib.training.trainer.fit`.
Chapters: every chapter that trains (04 compares the optimisers, since the paper names none).
"""
from __future__ import annotations

import math
from typing import Iterable

import torch

__all__ = ["OPTIMIZERS", "make_optimizer", "optimizer_implementation", "check_fit_args"]

#: ``sgd`` is SGD with momentum 0.9, ``sgd_plain`` plain SGD (no momentum): the two optimisers of
#: 2015-era auto-encoder code, beside Adam (chapter 04 compares them, since the paper names none).
OPTIMIZERS = ("adam", "sgd", "lbfgs", "sgd_plain")


def check_fit_args(epochs: int, batch_size: int | None, lr: float, optimizer: str, n: int,
                   contraction: float, encoder_contraction_: float, noise: float, weight_length: float | None) -> None:
    """Raise ValueError, in one sentence naming the argument, for a training argument out of range."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an integer ≥ 0; got {epochs!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
        raise ValueError(f"batch_size must be a positive integer or None (full batch); got {batch_size!r}.")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number; got {lr!r}.")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}.")
    for name, v in (("contraction", contraction), ("encoder_contraction", encoder_contraction_), ("noise", noise)):
        if not (isinstance(v, (int, float)) and v >= 0):
            raise ValueError(f"{name} must be a number ≥ 0; got {v!r}.")
    if weight_length is not None and not (isinstance(weight_length, (int, float)) and weight_length > 0):
        raise ValueError(f"weight_length must be a positive number or None; got {weight_length!r}.")
    if n == 0:
        raise ValueError("no training data: the input batch is empty.")


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimiser ``name``. Adam uses PyTorch's fused kernel where the parameters' device
    supports it (one pass over parameters, gradients and moments; on the MNIST model about 1.2×
    faster per step than the default on 2 CPU cores — the performance appendix measures it), and
    the ``foreach`` implementation otherwise. Both compute Adam's update; they differ from each
    other only in rounding."""
    if name == "adam":
        params = list(params)
        try:
            return torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device / version
            return torch.optim.Adam(params, lr=lr, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "sgd_plain":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.LBFGS(params, lr=lr, max_iter=20, history_size=50, line_search_fn="strong_wolfe")


def optimizer_implementation(opt: torch.optim.Optimizer) -> str:
    """Which kernel the optimiser runs (``fused``, ``foreach`` or ``default``): runs with different
    kernels differ in rounding, so a checkpoint records it and resumes only under the same one."""
    d = opt.defaults
    return "fused" if d.get("fused") else ("foreach" if d.get("foreach") else "default")
