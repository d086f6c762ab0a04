"""Training many auto-encoders of one shape as one program (stacked parameters, batched products).

:func:`fit_many` trains k one-hidden-layer auto-encoders r(x) = R h(Wᵀx + b) + c (eq. 1) of the
same D, H, activation and tying together: their parameters are stacked into k × D × H (and
k × H, k × D) tensors, every step runs one batched matrix product (``torch.bmm``) per layer for
all k models, and one Adam (or SGD) update covers all of them. Each model keeps its own
initialisation (the model passed in), its own seed (its mini-batch order and its input noise)
and its own settings — weight-length constraint α (footnote 4 of the paper), CAE weight λ of
‖∂h/∂x‖²_F, eq.-(10) contraction weight ‖∂r/∂x‖²_F, noise — so the result is what
:func:`conservae_lib.training.trainer.fit` gives for each model separately, to float rounding: the
losses of different models never mix (the gradient of Σ_i L_i with respect to model i's
parameters is ∇L_i), and Adam and SGD update each element on its own.

Why: the paper's 200-image batches leave a GPU idle between small kernels when runs go one at a
time; k runs in one program make each kernel k times larger (issue 18). Chapters that train
many runs of one architecture — *Empirical conservativeness on MNIST* (chapter 04: 8
configurations × seeds; one call per activation) and *The conservative part of a field*
(chapter 07: one learner per β and seed) — can use it. ``benchmarks/bench_batched.py`` measures
it against one-at-a-time training and against a process pool.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Sequence

import torch

from conservae_lib.core.models import AutoEncoder
from .collapse import divergence_reason, never_fell_reason
from .optimizers import OPTIMIZERS, check_fit_args as _check_fit_args, make_optimizer as _make_optimizer
from .progress import progress_bar as _progress
from .runtime import select_device
from .trainer import DivergenceError, History

Tensor = torch.Tensor

__all__ = ["fit_many", "StackedAutoEncoders"]


def _per_model(name: str, value: Any, k: int) -> list[Any]:
    """A scalar setting repeated k times, or a sequence of k per-model values."""
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ValueError(f"{name} must be one value or one per model ({k}); got {len(value)} values.")
        return list(value)
    return [value] * k


class StackedAutoEncoders:
    """The parameters of k auto-encoders of one shape, stacked on a leading model axis.

    ``W``, ``R`` are k × D × H (``R`` *is* ``W`` for tied models), ``b`` k × H, ``c`` k × D; the
    activation and tying are shared. :meth:`forward` evaluates eq. (1) for every model on its own
    batch (k × B × D). Built by :meth:`from_models`; :meth:`write_back` copies model i's slice into
    ``models[i]``.
    """

    def __init__(self, models: Sequence[AutoEncoder], device: torch.device) -> None:
        if len(models) == 0:
            raise ValueError("fit_many needs at least one model.")
        if not all(isinstance(m, AutoEncoder) for m in models):
            raise TypeError("fit_many trains one-layer AutoEncoder models only (eq. 1).")
        first = models[0]
        for i, m in enumerate(models):
            if (m.D, m.H, m.activation.name, m.tied, m.W.dtype) != (
                    first.D, first.H, first.activation.name, first.tied, first.W.dtype):
                raise ValueError(
                    f"model {i} ({m.extra_repr()}, {m.W.dtype}) differs in shape, activation, tying or dtype from "
                    f"model 0 ({first.extra_repr()}, {first.W.dtype}); fit_many stacks models of one kind only.")
        self.models = list(models)
        self.activation = first.activation
        self.tied = first.tied
        with torch.no_grad():
            stack = lambda ps: torch.stack([p.detach().to(device) for p in ps]).requires_grad_(True)  # noqa: E731
            self.W = stack([m.W for m in models])
            self.R_param = None if self.tied else stack([m.R for m in models])
            self.b = stack([m.b for m in models])
            self.c = stack([m.c for m in models])

    @property
    def R(self) -> Tensor:
        return self.W if self.R_param is None else self.R_param

    def parameters(self) -> list[Tensor]:
        return [p for p in (self.W, self.R_param, self.b, self.c) if p is not None]

    def preactivation(self, x: Tensor) -> Tensor:
        """u = Wᵀx + b for every model's batch: x is k × B × D (or B × D, shared), u is k × B × H."""
        return (torch.bmm(x, self.W) if x.ndim == 3 else torch.matmul(x, self.W)) + self.b[:, None, :]

    def decode_preactivation(self, u: Tensor) -> Tensor:
        """r = R h(u) + c, k × B × D."""
        return torch.bmm(self.activation(u), self.R.transpose(1, 2)) + self.c[:, None, :]

    def forward(self, x: Tensor) -> Tensor:
        """The reconstructions r(x) of eq. (1), k × B × D."""
        return self.decode_preactivation(self.preactivation(x))

    def encoder_contraction_at(self, u: Tensor) -> Tensor:
        """Per model, the batch mean of ‖∂h/∂x‖²_F = Σ_k h'_k² ‖W_{·k}‖² (Rifai et al. 2011): k values."""
        d = self.activation.derivative(u)
        return ((d**2) * (self.W**2).sum(dim=1)[:, None, :]).sum(dim=2).mean(dim=1)

    def reconstruction_contraction_at(self, u: Tensor) -> Tensor:
        """Per model, the batch mean of ‖∂r/∂x‖²_F = dᵀ(RᵀR ∘ WᵀW)d, the penalty of eq. (10): k values."""
        d = self.activation.derivative(u)
        gram_w = self.W.transpose(1, 2) @ self.W
        gram_r = gram_w if self.tied else self.R.transpose(1, 2) @ self.R
        q = gram_r * gram_w
        return (torch.bmm(d, q) * d).sum(dim=2).mean(dim=1)

    @torch.no_grad()
    def renormalize(self, alphas: Sequence[float | None]) -> None:
        """Rescale the encoder filters W_{·k} of each model with an α to squared length α (footnote 4)."""
        groups: dict[float, list[int]] = {}
        for i, a in enumerate(alphas):
            if a is not None:
                groups.setdefault(float(a), []).append(i)
        for alpha, idx in groups.items():
            if len(idx) == len(alphas):
                norms = self.W.norm(dim=1, keepdim=True).clamp_min(1e-12)
                self.W.mul_(math.sqrt(alpha) / norms)
            else:
                sel = torch.tensor(idx, device=self.W.device)
                sub = self.W.index_select(0, sel)
                norms = sub.norm(dim=1, keepdim=True).clamp_min(1e-12)
                self.W.index_copy_(0, sel, sub * (math.sqrt(alpha) / norms))

    @torch.no_grad()
    def write_back(self, i: int) -> AutoEncoder:
        """Copy model i's parameters into ``models[i]`` (on the stacked tensors' device) and return it."""
        m = self.models[i]
        m.to(self.W.device)
        m.W.copy_(self.W[i])
        if not self.tied:
            m.R_param.copy_(self.R_param[i])
        m.b.copy_(self.b[i])
        m.c.copy_(self.c[i])
        return m


def _check_data(inputs: Tensor, targets: Tensor | None, k: int, D: int) -> tuple[Tensor, Tensor | None]:
    for name, t in (("inputs", inputs), ("targets", targets)):
        if t is None:
            continue
        if t.ndim not in (2, 3) or t.shape[-1] != D or (t.ndim == 3 and t.shape[0] != k):
            raise ValueError(f"{name} must be N × {D} (shared by all models) or {k} × N × {D} (one set per model); "
                             f"got shape {tuple(t.shape)}.")
    if targets is not None and targets.shape[-2] != inputs.shape[-2]:
        raise ValueError(f"targets must have as many points as inputs ({inputs.shape[-2]}); got {targets.shape[-2]}.")
    return inputs, targets


def _gather(data: Tensor, idx: Tensor) -> Tensor:
    """Rows ``idx`` (k × B) of N × D data shared by all models, or of k × N × D per-model data."""
    if data.ndim == 2:
        return data[idx]
    return data[torch.arange(len(idx), device=idx.device)[:, None], idx]


def fit_many(
    models: Sequence[AutoEncoder],
    inputs: Tensor,
    targets: Tensor | None = None,
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int | None = None,
    lr: float = 1e-3,
    optimizer: str = "adam",
    contraction: float | Sequence[float] = 0.0,
    encoder_contraction_weight: float | Sequence[float] = 0.0,
    noise: float | Sequence[float] = 0.0,
    weight_length: float | None | Sequence[float | None] = None,
    metrics: Callable[[AutoEncoder], dict[str, Any]] | Sequence[Callable[[AutoEncoder], dict[str, Any]]] | None = None,
    metrics_every: int = 1,
    device: str | torch.device = "auto",
    progress: bool = True,
    desc: str = "training (batched)",
    on_divergence: str = "stop",
) -> list[History]:
    """Train k auto-encoders of one shape together, in place; one :class:`~conservae_lib.training.trainer.History` each.

    Equivalent, to float rounding, to ``[training.fit(m, inputs, targets, seed=s, ...) for m, s in
    zip(models, seeds)]`` with the same settings (a test checks it); see the module docstring.

    Parameters
    ----------
    models:
        k :class:`~conservae_lib.core.models.AutoEncoder` of equal D, H, activation, tying and dtype,
        each with its own initialisation. They are moved to ``device`` and hold the trained
        weights on return.
    inputs, targets:
        N × D tensors shared by every model, or k × N × D (one set per model, e.g. one target
        field per β in chapter 07). ``targets=None``: each model reconstructs its inputs.
    seeds:
        One seed per model: its mini-batch order and input noise, drawn exactly as ``fit`` draws them.
    epochs, batch_size, lr, optimizer:
        As in ``fit``; ``optimizer`` is any of ``fit``'s but ``lbfgs`` (whose line search couples
        all parameters, so it cannot be stacked).
    contraction, encoder_contraction_weight, noise, weight_length:
        As in ``fit`` (eq.-10 penalty ‖∂r/∂x‖²_F, CAE penalty ‖∂h/∂x‖²_F, Gaussian corruption,
        α of footnote 4 or ``None``), each one value for all models or a sequence of k.
    metrics, metrics_every:
        ``metrics(model) -> dict`` for each model (or a sequence of k such functions, one per
        model, e.g. each learner's error against its own field) at epoch 0, every
        ``metrics_every`` epochs and at the end (its time not counted). ``train_time_s`` in the
        records is the wall time of the whole batched program (all k models), not of one model.
    on_divergence:
        As in ``fit``: ``"stop"`` ends a model whose loss or parameters become non-finite at that
        epoch (its :attr:`History.degenerate` and ``stopped_at`` are set, one line is printed, it
        keeps its non-finite parameters) while the others train on — the models do not interact,
        so the others' numbers do not change; ``"raise"`` raises :class:`DivergenceError`. A model
        whose loss never fell below its value before training is marked degenerate too.
    """
    k = len(models)
    stackable = [o for o in OPTIMIZERS if o != "lbfgs"]
    if optimizer not in stackable:
        raise ValueError(f"optimizer must be one of {', '.join(stackable)} for batched training; got {optimizer!r}.")
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise'; got {on_divergence!r}.")
    seeds = list(seeds)
    if len(seeds) != k:
        raise ValueError(f"seeds must give one seed per model ({k}); got {len(seeds)}.")
    if isinstance(metrics_every, bool) or not isinstance(metrics_every, int) or metrics_every <= 0:
        raise ValueError(f"metrics_every must be a positive integer; got {metrics_every!r}.")
    contr = _per_model("contraction", contraction, k)
    enc = _per_model("encoder_contraction_weight", encoder_contraction_weight, k)
    noises = _per_model("noise", noise, k)
    alphas = _per_model("weight_length", weight_length, k)
    metric_fns = _per_model("metrics", list(metrics) if isinstance(metrics, (list, tuple)) else metrics, k)
    n = inputs.shape[-2] if inputs.ndim >= 2 else 0
    for i in range(k):
        _check_fit_args(epochs, batch_size, lr, optimizer, n, contr[i], enc[i], noises[i], alphas[i])
    dev = select_device(device)
    stack = StackedAutoEncoders(models, dev)
    D = models[0].D
    inputs, targets = _check_data(inputs, targets, k, D)
    inputs = inputs.to(dev, stack.W.dtype)
    targets = inputs if targets is None else targets.to(dev, stack.W.dtype)
    dtype = stack.W.dtype
    opt = _make_optimizer(optimizer, stack.parameters(), lr)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    histories = [History() for _ in range(k)]
    enc_w = torch.tensor(enc, dtype=dtype, device=dev)
    contr_w = torch.tensor(contr, dtype=dtype, device=dev)
    use_enc, use_contr, use_noise = any(w > 0 for w in enc), any(w > 0 for w in contr), any(s > 0 for s in noises)
    use_wl = any(a is not None for a in alphas)

    def corrupt(clean: Tensor) -> Tensor:
        """Each model's batch plus its own noise, drawn from its own generator as ``fit`` draws it."""
        if not use_noise:
            return clean
        rows = []
        for i in range(k):
            xi = clean[i] if clean.ndim == 3 else clean
            rows.append(xi + noises[i] * torch.randn(xi.shape, generator=gens[i], dtype=xi.dtype).to(dev)
                        if noises[i] > 0 else xi)
        return torch.stack(rows)

    def batch_losses(x_in: Tensor, tb: Tensor) -> Tensor:
        """Each model's loss on its own batch (k values): squared error plus its penalties."""
        u = stack.preactivation(x_in)
        losses = ((stack.decode_preactivation(u) - tb) ** 2).sum(dim=2).mean(dim=1)
        if use_enc:
            losses = losses + enc_w * stack.encoder_contraction_at(u)
        if use_contr:
            losses = losses + contr_w * stack.reconstruction_contraction_at(u)
        return losses

    def evaluate(epoch: int, losses: list[float], train_time: float, which: Sequence[int]) -> None:
        for i in which:
            rec: dict[str, Any] = {"epoch": epoch, "loss": losses[i], "train_time_s": train_time}
            if metric_fns[i] is not None:
                model = stack.write_back(i)
                model.eval()
                with torch.no_grad():
                    rec.update(metric_fns[i](model))
                model.train()
            histories[i].records.append(rec)

    with torch.no_grad():
        x0 = corrupt(inputs)
        t0 = targets if targets.ndim == 3 else targets.expand(k, *targets.shape)
        initial = [float(v) for v in batch_losses(x0, t0).cpu()]
        evaluate(0, initial, 0.0, range(k))
    live = list(range(k))  # models still training (a diverged one stops, as in fit)
    lowest = [math.inf] * k
    bs = n if batch_size is None else min(batch_size, n)
    train_time = 0.0
    for epoch in _progress(range(1, epochs + 1), desc, progress, total=epochs, initial=0):
        start = time.perf_counter()
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(dev)
        total = torch.zeros(k, dtype=dtype, device=dev)
        for j in range(0, n, bs):
            idx = perms[:, j:j + bs]
            clean = _gather(inputs, idx)
            tb = clean if targets is inputs else _gather(targets, idx)
            opt.zero_grad(set_to_none=True)
            losses = batch_losses(corrupt(clean), tb)
            losses.sum().backward()  # ∂(Σ_i L_i)/∂θ_i = ∂L_i/∂θ_i: the models do not interact
            opt.step()
            if use_wl:
                stack.renormalize(alphas)
            total += losses.detach() * idx.shape[1]
        means = [v / n for v in total.cpu().tolist()]  # as fit: the float sum, divided in Python
        finite = torch.stack([torch.isfinite(p.detach()).flatten(1).all(dim=1) for p in stack.parameters()]).all(dim=0)
        finite = finite.cpu().tolist()
        for i in [i for i in live if not (math.isfinite(means[i]) and finite[i])]:
            reason = divergence_reason(epoch, means[i], lr)
            if on_divergence == "raise":
                raise DivergenceError(f"model {i}: {reason}")
            histories[i].degenerate, histories[i].stopped_at = reason, epoch
            print(f"warning: model {i}: {reason}", file=sys.stderr, flush=True)
            stack.write_back(i)  # it keeps the parameters it had when it was stopped
            live.remove(i)
        if not live:
            return histories
        for i in live:
            lowest[i] = min(lowest[i], means[i])
        train_time += time.perf_counter() - start
        if epoch % metrics_every == 0 or epoch == epochs:
            evaluate(epoch, means, train_time, live)
    for i in live:
        stack.write_back(i)
        never_fell = never_fell_reason(initial[i], lowest[i], epochs)
        if never_fell is not None:
            histories[i].degenerate = never_fell
            print(f"warning: model {i}: {histories[i].degenerate}", file=sys.stderr, flush=True)
    return histories
