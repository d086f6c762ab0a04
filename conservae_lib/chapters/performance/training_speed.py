"""Timing training: one Adam step of the MNIST model against its own matrix products, and a
pool of processes against runs one after another.

Numbers only (the tables are in :mod:`conservae_lib.chapters.performance.report`); every variant runs in
the same process on the same data, interleaved, and is reported against the others.

* :func:`step_flops` — the floating-point work of one step's matrix products.
* :func:`training_benchmark` — one training step against the same step's matrix products alone
  (the machine's own matmul throughput, the physical floor), the overheads around them, and the
  cost of tracking sym(∂r/∂x) once per epoch.
* :func:`pool_benchmark` — small training runs one after another against the same runs in a pool of
  processes (:func:`conservae_lib.training.pool.run_in_processes`, which the MNIST chapters train with).

Chapter: appendix *Performance* (``notebooks/91_performance.md``, section "Training at the speed
of the hardware"); script: ``benchmarks/bench_metrics.py``.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import torch
from torch import nn

from conservae_lib.core import fields
from conservae_lib.training.runtime import machine
from .benchmark import time_call
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["step_flops", "training_benchmark", "pool_benchmark"]


def step_flops(batch_size: int, D: int, H: int) -> int:
    """Multiply-adds ×2 of one training step of r(x) = R h(Wᵀx + b) + c: two forward products
    (x W, h Rᵀ) and three backward ones (∂/∂R, ∂/∂h, ∂/∂W; none for ∂/∂x), each B·D·H."""
    return 5 * 2 * batch_size * D * H


def _matmul_step(x: Tensor, W: Tensor, R: Tensor, err: Tensor, gu: Tensor) -> None:
    """The five matrix products of one training step, with the step's shapes and transposes."""
    h = x @ W            # B × H   forward, encoder
    _ = h @ R.T          # B × D   forward, decoder
    _ = err.T @ h        # D × H   ∂loss/∂R
    _ = err @ R          # B × H   ∂loss/∂h
    _ = x.T @ gu         # D × H   ∂loss/∂W


def _train_loop(model: AutoEncoder, x: Tensor, batch_size: int, steps: int, opt: torch.optim.Optimizer | None,
                sync_loss: bool) -> None:
    """``steps`` plain training steps (squared error, as ``training.fit``); ``opt=None`` stops
    after the backward pass (no parameter update)."""
    n = len(x)
    params = list(model.parameters())
    for s in range(steps):
        i = (s * batch_size) % n
        xb = x[i:i + batch_size]
        if opt is None:
            for p in params:
                p.grad = None
        else:
            opt.zero_grad(set_to_none=True)
        loss = ((model(xb) - xb) ** 2).sum(dim=1).mean()
        loss.backward()
        if opt is not None:
            opt.step()
        if sync_loss:
            float(loss.detach())


def _update_loop(opt: torch.optim.Optimizer, steps: int) -> None:
    """``steps`` optimiser updates alone, with the gradients already in place."""
    for _ in range(steps):
        opt.step()


def _step_variants(x: Tensor, fresh: Callable[..., AutoEncoder], g: torch.Generator, H: int, batch_size: int,
                   steps: int) -> dict[str, Callable[[], None]]:
    """The training-step variants :func:`training_benchmark` times (its docstring lists them), each ``steps``
    steps on ``x`` with its own fresh model (``fresh(dtype)``) and Adam; the floor's matrices are drawn from ``g``."""
    D, dev, f32 = x.shape[1], x.device, torch.float32
    W = torch.rand(D, H, generator=g, dtype=f32).to(dev)
    R = torch.rand(D, H, generator=g, dtype=f32).to(dev)
    xb = x[:batch_size]
    err = torch.rand(batch_size, D, generator=g, dtype=f32).to(dev)
    gu = torch.rand(batch_size, H, generator=g, dtype=f32).to(dev)

    def adam(model: nn.Module, **kw: Any) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=1e-3, **kw)

    m_default, m_foreach, m_fused, m_nosync, m_fb, m_upd = fresh(), fresh(), fresh(), fresh(), fresh(), fresh()
    m64 = fresh(torch.float64)
    x64 = x.double()
    o_default, o_foreach, o_nosync, o_upd = adam(m_default), adam(m_foreach, foreach=True), adam(m_nosync), adam(m_upd)
    for p in m_upd.parameters():
        p.grad = torch.full_like(p, 1e-3)
    o64 = adam(m64)
    try:
        o_fused: torch.optim.Optimizer | None = adam(m_fused, fused=True)
    except (RuntimeError, TypeError):  # fused Adam unavailable on this device/version
        o_fused = None
    variants: dict[str, Callable[[], None]] = {
        "matmul": lambda: [_matmul_step(xb, W, R, err, gu) for _ in range(steps)],
        "forward_backward": lambda: _train_loop(m_fb, x, batch_size, steps, None, sync_loss=False),
        "adam_update": lambda: _update_loop(o_upd, steps),
        "step_adam": lambda: _train_loop(m_default, x, batch_size, steps, o_default, sync_loss=True),
        "step_adam_nosync": lambda: _train_loop(m_nosync, x, batch_size, steps, o_nosync, sync_loss=False),
        "step_adam_foreach": lambda: _train_loop(m_foreach, x, batch_size, steps, o_foreach, sync_loss=True),
        "step_float64": lambda: _train_loop(m64, x64, batch_size, steps, o64, sync_loss=True),
    }
    if o_fused is not None:
        variants["step_adam_fused"] = lambda: _train_loop(m_fused, x, batch_size, steps, o_fused, sync_loss=True)
    return variants


def _metric(model: AutoEncoder, x: Tensor) -> Callable[[], None]:
    """sym(∂r/∂x) of ``model`` at ``x`` (:func:`~conservae_lib.core.fields.jacobian_symmetricity`), as a call to time."""
    def run() -> None:
        with torch.no_grad():
            fields.jacobian_symmetricity(model, x)

    return run


def training_benchmark(
    D: int = 784, H: int = 500, batch_size: int = 100, n_train: int = 4000, n_eval: int = 500,
    activation: str = "sigmoid", seed: int = 0, steps: int = 20, repeat: int = 5,
    device: str | torch.device = "cpu", include_fit: bool = True,
) -> dict[str, Any]:
    """One training step of the MNIST model (D × H untied, ``activation``, Adam, float32) against
    its own matrix products, and the per-epoch cost of tracking sym(∂r/∂x).

    All variants run ``steps`` steps on the same synthetic [0, 1] data of MNIST's shape (timing
    depends on shapes only), interleaved ``repeat`` times; each figure is the best (fastest) of
    the repeats, the usual estimate of a run undisturbed by other work on a shared machine, taken
    alike for every variant (the floor included).

    * ``matmul`` — the five matrix products of a step alone (:func:`_matmul_step`): the floor;
    * ``forward_backward`` — forward, loss and backward only (no update);
    * ``adam_update`` — the ``torch.optim.Adam`` update alone (default implementation);
    * ``step_adam`` — forward, loss, backward, Adam update (default implementation), ``float(loss)``;
    * ``step_adam_nosync`` — the same without reading the loss back each step;
    * ``step_adam_foreach`` / ``step_adam_fused`` — the same with ``foreach=True`` / ``fused=True``;
    * ``step_float64`` — the default step in float64;
    * ``fit`` — :func:`conservae_lib.training.trainer.fit` for one epoch of ``n_train`` images (its own
      ``train_time_s``, metrics excluded), per step;
    * ``metric_float32`` / ``metric_float64`` — :func:`~conservae_lib.core.fields.jacobian_symmetricity`
      on ``n_eval`` held-out points, once, against one epoch of ``n_train // batch_size`` steps.
    """
    from conservae_lib.training.trainer import fit

    dev = torch.device(device)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_train, D, generator=g, dtype=torch.float32).to(dev)
    x_eval = torch.rand(n_eval, D, generator=g, dtype=torch.float32).to(dev)

    def fresh(dtype: torch.dtype = torch.float32) -> AutoEncoder:
        return AutoEncoder(D, H, activation, tied=False, seed=seed, dtype=dtype).to(dev)

    variants = _step_variants(x, fresh, g, H, batch_size, steps)
    metric32, metric64 = _metric(fresh(), x_eval), _metric(fresh(torch.float64), x_eval.double())
    fit_runs: list[float] = []

    def run_fit() -> None:
        model = fresh()
        hist = fit(model, x, epochs=1, batch_size=batch_size, lr=1e-3, optimizer="adam", seed=seed,
                   device=dev, progress=False)
        fit_runs.append(float(hist.last("train_time_s")))

    for fn in variants.values():  # warm-up
        fn()
    metric32()
    metric64()
    runs: dict[str, list[float]] = {k: [] for k in variants}
    runs["metric_float32"], runs["metric_float64"] = [], []
    for _ in range(repeat):  # interleaved, so that load drift hits every variant alike
        for name, fn in variants.items():
            runs[name].append(time_call(fn, repeat=1, warmup=0).best)
        runs["metric_float32"].append(time_call(metric32, repeat=1, warmup=0).best)
        runs["metric_float64"].append(time_call(metric64, repeat=1, warmup=0).best)
        if include_fit:
            run_fit()
    per_step = {k: min(v) / steps for k, v in runs.items() if not k.startswith("metric")}
    steps_per_epoch = math.ceil(n_train / batch_size)
    if include_fit:
        per_step["fit"] = min(fit_runs) / steps_per_epoch
    flops = step_flops(batch_size, D, H)
    epoch_s = per_step["step_adam"] * steps_per_epoch
    metric32_s, metric64_s = min(runs["metric_float32"]), min(runs["metric_float64"])
    out = {
        "D": D, "H": H, "batch_size": batch_size, "n_train": n_train, "n_eval": n_eval, "activation": activation,
        "steps": steps, "repeat": repeat, **machine(dev),
        "seconds_per_step": per_step,
        "gflops_per_s": {k: flops / v / 1e9 for k, v in per_step.items()},
        "fraction_of_matmul": {k: per_step["matmul"] / v for k, v in per_step.items() if k != "matmul"},
        "epoch_seconds": epoch_s,
        "metric_seconds": {"float32": metric32_s, "float64": metric64_s},
        "metric_fraction_of_epoch": {"float32": metric32_s / epoch_s, "float64": metric64_s / epoch_s},
        "runs": runs,
    }
    if include_fit:
        out["fit_epoch_seconds"] = fit_runs
        out["metric_fraction_of_epoch"]["float32_vs_fit"] = metric32_s / (per_step["fit"] * steps_per_epoch)
    return out


def _pool_job(x: Tensor, x_eval: Tensor, activation: str, H: int, epochs: int, batch_size: int,
              seed: int) -> tuple[Tensor, float]:
    """One small training run as the MNIST chapters train theirs: an untied ``activation`` auto-encoder with ``H``
    hidden units, :func:`~conservae_lib.training.trainer.fit` with Adam for ``epochs`` epochs, sym(∂r/∂x)
    tracked on ``x_eval`` before and after. Returns the trained encoder weights and the training time the run
    records (metrics excluded)."""
    from conservae_lib.training.trainer import fit

    model = AutoEncoder(x.shape[1], H, activation, tied=False, seed=seed)
    hist = fit(model, x, epochs=epochs, batch_size=batch_size, lr=1e-3, optimizer="adam", seed=seed, device="cpu",
               metrics=lambda m: {"sym": float(fields.jacobian_symmetricity(m, x_eval).mean())}, metrics_every=epochs,
               progress=False)
    return model.W.detach().clone(), float(hist.last("train_time_s"))


def pool_benchmark(
    n_runs: int = 4, epochs: int = 3, workers: int = 2, D: int = 784, H: int = 500, batch_size: int = 200,
    n_train: int = 4000, n_eval: int = 500, seed: int = 0,
) -> dict[str, Any]:
    """Small training runs one after another with all of torch's threads against the same runs in a pool of
    ``workers`` processes sharing the threads (:func:`conservae_lib.training.pool.run_in_processes`, as the MNIST
    chapters train theirs).

    ``n_runs`` runs (:func:`_pool_job`: untied sigmoid and ReLU auto-encoders alternately, D → H → D, Adam) of
    ``epochs`` epochs on synthetic data of MNIST's shape. Reports the wall time of each way (the pool's includes
    starting its processes, a fixed cost of a few seconds) and the steady-state throughput gain, from the
    training times the runs record themselves: ``workers × t_alone / t_pooled`` per epoch.
    """
    from conservae_lib.training.pool import run_in_processes

    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_train, D, generator=g)
    x_eval = torch.rand(n_eval, D, generator=g)
    jobs = [(x, x_eval, ("sigmoid", "relu")[i % 2], H, epochs, batch_size, seed + i) for i in range(n_runs)]
    t0 = time.perf_counter()
    alone = [_pool_job(*job) for job in jobs]
    wall_alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    pooled = run_in_processes(_pool_job, jobs, workers, progress=False, desc="runs")
    wall_pool = time.perf_counter() - t0
    per_epoch_alone = sum(t for _, t in alone) / (n_runs * epochs)
    per_epoch_pooled = sum(t for _, t in pooled) / (n_runs * epochs)
    return {
        "n_runs": n_runs, "epochs": epochs, "workers": workers, "threads": torch.get_num_threads(),
        "batch_size": batch_size, "n_train": n_train, "D": D, "H": H, **machine("cpu"),
        "wall_s": {"alone": wall_alone, "pool": wall_pool},
        "epoch_s": {"alone": per_epoch_alone, "pool_per_process": per_epoch_pooled},
        "throughput_gain": workers * per_epoch_alone / per_epoch_pooled,
        "max_weight_difference": max(float((a - b).abs().max()) for (a, _), (b, _) in zip(alone, pooled)),
    }
