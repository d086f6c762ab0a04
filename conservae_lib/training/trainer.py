"""Training auto-encoders: one seeded, device-agnostic trainer for every chapter.

:func:`fit` minimises the squared error ‖r(x̃) − t‖² averaged over a batch, where x̃ is the
input (optionally corrupted by Gaussian noise: a denoising auto-encoder) and t the target
(the clean input for an auto-encoder; x + F(x) when fitting r(x) − x to a given field F, as in
Algorithm 1 and Figure 4), plus the optional penalties of :mod:`conservae_lib.core.contraction`. After
each step it can renormalise every encoder column to squared length α (the paper's weight-length
constraint, footnote 4). After every ``metrics_every`` epochs it records the loss, the wall time
spent training (metrics excluded) and whatever ``metrics(model)`` returns.

With ``checkpoint=path`` the model, optimiser, random state and history are saved atomically
after each epoch; calling :func:`fit` again with the same arguments resumes from the last
complete epoch and ends with the same numbers as an uninterrupted run.

Runs that cannot be scored are caught, never passed on as results. A loss or a parameter that
becomes NaN or infinite stops training at once; :attr:`History.degenerate` then holds a one-line
reason naming the epoch (``on_divergence="raise"`` raises :class:`DivergenceError` instead), and
one line is printed. A run whose loss never fell below its value before training is marked the
same way (it trained nothing). Dead or saturated networks — no hidden unit active, a Jacobian
norm ‖∂r/∂x‖_F of about zero, where the symmetricity of eq. (5) is undefined — are found by
:func:`conservae_lib.training.collapse.collapse_reason`, which the chapters call on held-out points before
scoring a claim. The optimisers and the checks of the arguments are in
:mod:`conservae_lib.training.optimizers`. Chapters: the MNIST chapters, the 2-D chapters and Proposition 3.
"""
from __future__ import annotations

import hashlib
import io
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .collapse import all_finite, divergence_reason, never_fell_reason
from conservae_lib.core.contraction import encoder_contraction, encoder_contraction_at, reconstruction_contraction
from conservae_lib.core.models import AutoEncoder
from .optimizers import OPTIMIZERS, check_fit_args, make_optimizer, optimizer_implementation
from .progress import progress_bar
from conservae_lib.foundations.files import CorruptResultError, atomic_write_bytes
from .runtime import select_device

Tensor = torch.Tensor

#: ``OPTIMIZERS`` (the names ``fit`` accepts) comes from :mod:`conservae_lib.training.optimizers`.
__all__ = ["History", "DivergenceError", "fit", "reconstruction_loss", "renormalize_columns", "OPTIMIZERS"]


class DivergenceError(RuntimeError):
    """Training produced a NaN or infinite loss."""


@dataclass
class History:
    """Per-epoch records of a training run (``records[i]`` is a dict with at least
    ``epoch``, ``loss`` and ``train_time_s``)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    resumed_from: int = 0  # epochs found in a checkpoint; 0 for a fresh run
    #: One-line reason why this run cannot be scored (diverged, loss never fell), else None.
    degenerate: str | None = None
    #: The epoch at which a diverging run was stopped (None when it ran to the end).
    stopped_at: int | None = None

    def column(self, key: str) -> list[Any]:
        return [r.get(key) for r in self.records]

    def last(self, key: str) -> Any:
        return self.records[-1].get(key) if self.records else None

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)


def reconstruction_loss(model: nn.Module, inputs: Tensor, targets: Tensor) -> Tensor:
    """Batch mean of ‖r(inputs) − targets‖² (sum over dimensions)."""
    return squared_error(model(inputs), targets)


def squared_error(outputs: Tensor, targets: Tensor) -> Tensor:
    """Batch mean of ‖outputs − targets‖² (sum over dimensions)."""
    return ((outputs - targets) ** 2).sum(dim=1).mean()


@torch.no_grad()
def renormalize_columns(model: AutoEncoder, alpha: float) -> None:
    """Rescale every encoder filter W_{·k} to squared length α (footnote 4 of the paper)."""
    norms = model.W.norm(dim=0, keepdim=True).clamp_min(1e-12)
    model.W.mul_(math.sqrt(alpha) / norms)


def _rng_states() -> dict[str, Any]:
    """The global random states chapter code may draw from (torch CPU/CUDA, NumPy, Python)."""
    import random

    import numpy as np

    states: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                              "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    import random

    import numpy as np

    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _fingerprint(model: nn.Module, inputs: Tensor, targets: Tensor, settings: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the training settings and digests of the data
    and of the model's initial weights (a different model or data must not resume silently)."""
    def digest(tensors) -> str:
        h = hashlib.sha256()
        for t in tensors:
            t = t.detach().to("cpu").contiguous()
            h.update(str((tuple(t.shape), t.dtype)).encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()[:16]

    return dict(settings, model=f"{type(model).__name__}:{digest(model.state_dict().values())}",
                data=digest([inputs] if targets is inputs else [inputs, targets]))


_CHECKPOINT_KEYS = ("model", "optimizer", "generator", "records", "epoch", "train_time_s", "rng", "fingerprint")


def _save_checkpoint(path: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator,
                     history: History, epoch: int, train_time: float, fingerprint: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                "records": history.records, "epoch": epoch, "train_time_s": train_time, "rng": _rng_states(),
                "fingerprint": fingerprint, "complete": True}, buf)
    atomic_write_bytes(path, buf.getvalue())


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`_save_checkpoint`; anything else raises
    :class:`~conservae_lib.foundations.files.CorruptResultError` naming the file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CorruptResultError(
            f"checkpoint {path} is corrupt or unreadable ({type(err).__name__}); delete it to start over.") from None
    if not isinstance(state, dict) or not state.get("complete") or any(k not in state for k in _CHECKPOINT_KEYS):
        raise CorruptResultError(f"checkpoint {path} is incomplete or not a training checkpoint; delete it to start over.")
    return state


def fit(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor | None = None,
    *,
    epochs: int,
    batch_size: int | None = None,
    lr: float = 1e-3,
    optimizer: str = "adam",
    contraction: float = 0.0,
    encoder_contraction_weight: float = 0.0,
    noise: float = 0.0,
    weight_length: float | None = None,
    weight_decay: float = 0.0,
    metrics: Callable[[nn.Module], dict[str, Any]] | None = None,
    metrics_every: int = 1,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    desc: str = "training",
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    on_divergence: str = "stop",
) -> History:
    """Train ``model`` in place (moved to ``device``) and return its :class:`History`.

    Parameters
    ----------
    inputs, targets:
        N × D tensors. ``targets=None`` trains an auto-encoder (targets are the clean inputs).
    epochs, batch_size, lr, optimizer:
        Passes over the data, mini-batch size (``None``: full batch), learning rate, and one of
        ``adam``, ``sgd`` (momentum 0.9) or ``lbfgs`` (full batch, strong-Wolfe line search;
        one optimiser step of up to 20 iterations per epoch).
    contraction, encoder_contraction_weight:
        Weights of ‖∂r/∂x‖²_F (eq. 10) and of the classic CAE penalty ‖∂h/∂x‖²_F.
    noise:
        Standard deviation of Gaussian input corruption (denoising auto-encoder).
    weight_length:
        α of the weight-length constraint; ``None`` for none.
    weight_decay:
        λ of an L2 penalty λ Σ‖M‖²_F over the weight matrices (W and R; biases are not penalised), added
        to the loss; 0 (the default) for none.
    metrics:
        ``metrics(model) -> dict`` evaluated (under ``no_grad``) before training (epoch 0) and
        after every ``metrics_every`` epochs and the last one; its time is not counted.
    checkpoint, checkpoint_every:
        Path of a checkpoint file to resume from, saved after every ``checkpoint_every`` epochs
        (default: each epoch) and after the last one. Resuming is exact: the same final numbers
        as an uninterrupted run.
    on_divergence:
        ``"stop"`` (default): a non-finite loss or parameter ends training at that epoch, sets
        :attr:`History.degenerate` and :attr:`History.stopped_at`, prints one line and saves no
        checkpoint; the model keeps its non-finite parameters, so nothing downstream can look
        valid. ``"raise"``: raise :class:`DivergenceError` with the same sentence.

    Long because resuming is exact only if restoring the state, the epoch loop, the metrics, the divergence
    stop and the checkpoint happen in one fixed order; that order is easier to check in one function.
    """
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise'; got {on_divergence!r}.")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every <= 0:
        raise ValueError(f"checkpoint_every must be a positive integer; got {checkpoint_every!r}.")
    n = len(inputs)
    check_fit_args(epochs, batch_size, lr, optimizer, n, contraction, encoder_contraction_weight, noise, weight_length)
    if not (isinstance(weight_decay, (int, float)) and math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a number ≥ 0; got {weight_decay!r}.")
    dev = select_device(device)
    model.to(dev)
    inputs = inputs.to(dev)
    targets = inputs if targets is None else targets.to(dev)
    if targets.shape != inputs.shape:
        raise ValueError(f"targets must have the shape of inputs {tuple(inputs.shape)}; got {tuple(targets.shape)}.")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(optimizer, params, lr)
    gen = torch.Generator().manual_seed(int(seed))
    history = History()
    ckpt = Path(checkpoint) if checkpoint is not None else None
    fingerprint: dict[str, Any] = {}
    if ckpt is not None:
        fingerprint = _fingerprint(model, inputs, targets, dict(
            epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer, contraction=contraction,
            encoder_contraction_weight=encoder_contraction_weight, noise=noise, weight_length=weight_length,
            metrics_every=metrics_every, seed=int(seed), implementation=optimizer_implementation(opt),
            **({"weight_decay": weight_decay} if weight_decay else {})))  # absent when 0: older checkpoints stay valid
    if ckpt is not None and ckpt.exists():
        state = _load_checkpoint(ckpt)
        changed = sorted(k for k in set(fingerprint) | set(state["fingerprint"])
                         if fingerprint.get(k) != state["fingerprint"].get(k))
        if changed:
            warnings.warn(f"checkpoint {ckpt} was written with other settings ({', '.join(changed)}); "
                          "starting over and replacing it.", stacklevel=2)
        else:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            gen.set_state(state["generator"])
            _set_rng_states(state["rng"])
            history.records = list(state["records"])
            history.resumed_from = int(state["epoch"])

    def evaluate(epoch: int, loss: float, train_time: float) -> None:
        rec: dict[str, Any] = {"epoch": epoch, "loss": loss, "train_time_s": train_time}
        if metrics is not None:
            model.eval()
            with torch.no_grad():
                rec.update(metrics(model))
            model.train()
        history.records.append(rec)

    def corrupt(xb: Tensor) -> Tensor:
        return xb + noise * torch.randn(xb.shape, generator=gen, dtype=xb.dtype).to(dev) if noise > 0 else xb

    def batch_loss(x_in: Tensor, tb: Tensor) -> Tensor:
        """Loss at already-corrupted inputs (the corruption is drawn once per step, so the
        L-BFGS line search sees one fixed objective)."""
        if encoder_contraction_weight > 0 and isinstance(model, AutoEncoder):
            u = model.preactivation(x_in)  # shared by the reconstruction and the CAE penalty
            loss = squared_error(model.decode_preactivation(u), tb)
            loss = loss + encoder_contraction_weight * encoder_contraction_at(model, u)
        else:
            loss = reconstruction_loss(model, x_in, tb)
            if encoder_contraction_weight > 0:
                loss = loss + encoder_contraction_weight * encoder_contraction(model, x_in)  # raises for other models
        if contraction > 0:
            loss = loss + contraction * reconstruction_contraction(model, x_in)
        if weight_decay > 0:
            loss = loss + weight_decay * sum(p.pow(2).sum() for p in params if p.ndim == 2)
        return loss

    if not history.records:
        with torch.no_grad():
            evaluate(0, float(batch_loss(corrupt(inputs), targets)), 0.0)
        start_epoch, train_time = 0, 0.0
    else:
        start_epoch, train_time = history.resumed_from, float(state["train_time_s"])
    bs = n if (batch_size is None or optimizer == "lbfgs") else min(batch_size, n)
    initial_loss = float(history.records[0]["loss"])
    lowest = min([math.inf] + [float(r["loss"]) for r in history.records[1:]])
    bar = progress_bar(range(start_epoch + 1, epochs + 1), desc, progress, total=epochs, initial=start_epoch)
    model.train()
    for epoch in bar:
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(dev)
        # The epoch's loss is summed on the device and read back once per epoch: reading it
        # after every step would wait for each step to finish (a GPU sync; Python overhead on a CPU).
        total = torch.zeros((), dtype=inputs.dtype, device=dev)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            clean = inputs[idx]
            xb, tb = corrupt(clean), (clean if targets is inputs else targets[idx])
            if optimizer == "lbfgs":
                def closure() -> Tensor:
                    opt.zero_grad()
                    value = batch_loss(xb, tb)
                    value.backward()
                    return value

                loss = opt.step(closure)
            else:
                opt.zero_grad(set_to_none=True)
                loss = batch_loss(xb, tb)
                loss.backward()
                opt.step()
            if weight_length is not None and isinstance(model, AutoEncoder):
                renormalize_columns(model, weight_length)
            total += loss.detach() * len(idx)
        mean_loss = float(total) / n
        if not math.isfinite(mean_loss) or not all_finite(params):
            reason = divergence_reason(epoch, mean_loss, lr)
            if on_divergence == "raise":
                raise DivergenceError(reason)
            history.degenerate, history.stopped_at = reason, epoch
            print(f"warning: {reason}", file=sys.stderr, flush=True)
            return history
        lowest = min(lowest, mean_loss)
        train_time += time.perf_counter() - t0
        if epoch % metrics_every == 0 or epoch == epochs:
            evaluate(epoch, mean_loss, train_time)
        if ckpt is not None and (epoch % checkpoint_every == 0 or epoch == epochs):
            _save_checkpoint(ckpt, model, opt, gen, history, epoch, train_time, fingerprint)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{mean_loss:.4g}")
    never_fell = never_fell_reason(initial_loss, lowest, epochs)
    if never_fell is not None:
        history.degenerate = never_fell
        print(f"warning: {history.degenerate}", file=sys.stderr, flush=True)
    return history
