"""Performance measurements: the conservativeness metrics, the training step, the whole book.

Every comparison here is made *in one run, on the same inputs*, and reported as a ratio, because
absolute times on a shared machine drift by factors of two from minute to minute while ratios of
interleaved measurements hardly move.

* :func:`metrics_benchmark` — sym(∂r/∂x) and ‖∂r/∂x‖²_F of a one-layer model three ways: the
  H × H Gram path of :mod:`conservae_lib.fields` (no D × D matrix), explicit Jacobians R D_h' Wᵀ
  (:func:`explicit_quadratics`) and ``torch.func.vmap(torch.func.jacrev(·))``
  (:func:`autograd_quadratics`), both in chunks of points; times, speed-ups and agreement.
* :func:`deep_metrics_benchmark` — a deep model (no closed form): exact Jacobians in chunks
  against the Hutchinson estimate of :func:`conservae_lib.fields.jacobian_quadratics_estimate`,
  with the estimate's measured and stated errors.
* :func:`training_benchmark` — one Adam step of the MNIST model against the same step's
  matrix products alone (the machine's own matmul throughput, the physical floor), the
  overheads around them, and the cost of tracking sym(∂r/∂x) once per epoch.
* :func:`chapter_timings` — the wall time and device that :mod:`conservae_lib.pipeline` stores in
  each executed notebook's metadata.

Chapter: appendix *Performance* (``notebooks/91_performance.md``); script:
``benchmarks/bench_metrics.py``.
"""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from . import fields
from .models import AutoEncoder, DeepAutoEncoder

Tensor = torch.Tensor

__all__ = [
    "Timing", "time_call", "machine", "explicit_quadratics", "autograd_quadratics", "relative_difference",
    "metrics_benchmark", "deep_metrics_benchmark", "step_flops", "training_benchmark",
    "chapter_timings", "metrics_rows", "deep_rows", "training_rows",
]


# ----------------------------------------------------------------------------- timing
@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated calls: ``runs`` in order, ``best`` and ``median``."""

    runs: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def time_call(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> Timing:
    """Time ``fn()`` ``repeat`` times after ``warmup`` untimed calls (CUDA work is synchronised)."""
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be ≥ 1 and warmup ≥ 0; got {repeat}, {warmup}.")
    for _ in range(warmup):
        fn()
    _sync()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        _sync()
        runs.append(time.perf_counter() - t0)
    return Timing(tuple(runs))


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def machine(device: torch.device | str = "cpu") -> dict[str, Any]:
    """What the numbers were measured on: device name, torch threads, torch version."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"CPU ({os.cpu_count()} cores, {platform.machine()})"
    return {"device": name, "torch_threads": torch.get_num_threads(), "torch": torch.__version__}


def relative_difference(a: Tensor, b: Tensor) -> float:
    """max_i |a_i − b_i| / max_i |b_i|: the largest disagreement relative to the values' size."""
    scale = float(b.abs().max()) if b.numel() else 0.0
    diff = float((a - b).abs().max()) if b.numel() else 0.0
    return diff / scale if scale > 0 else diff


# ----------------------------------------------------------------------------- metric paths
def _quadratics_of(J: Tensor) -> tuple[Tensor, Tensor]:
    return (J**2).sum(dim=(-1, -2)), (J * J.transpose(-1, -2)).sum(dim=(-1, -2))


def explicit_quadratics(model: AutoEncoder, x: Tensor, chunk_size: int = 50) -> tuple[Tensor, Tensor]:
    """‖J‖²_F and tr(J J) per point from explicit Jacobians J = R D_h' Wᵀ (closed form of
    Proposition 2), ``chunk_size`` D × D matrices at a time."""
    if not isinstance(model, AutoEncoder):
        raise TypeError("explicit_quadratics needs a one-layer AutoEncoder (closed-form Jacobian).")
    norms, traces = [], []
    with torch.no_grad():
        for i in range(0, len(x), chunk_size):
            n2, tr = _quadratics_of(fields.jacobian(model, x[i:i + chunk_size]))
            norms.append(n2)
            traces.append(tr)
    return torch.cat(norms), torch.cat(traces)


def autograd_quadratics(model: nn.Module, x: Tensor, chunk_size: int = 50) -> tuple[Tensor, Tensor]:
    """‖J‖²_F and tr(J J) per point with ``torch.func.vmap(torch.func.jacrev(·))`` applied to the
    model as a plain function (what a user without the closed form would write), in chunks."""
    def single(xi: Tensor) -> Tensor:
        return model(xi.unsqueeze(0)).squeeze(0)

    jac = torch.func.vmap(torch.func.jacrev(single))
    norms, traces = [], []
    with torch.no_grad():
        for i in range(0, len(x), chunk_size):
            n2, tr = _quadratics_of(jac(x[i:i + chunk_size]))
            norms.append(n2)
            traces.append(tr)
    return torch.cat(norms), torch.cat(traces)


def _sym(norm2: Tensor, trace: Tensor) -> Tensor:
    return fields._symmetricity_from(norm2, trace)


def metrics_benchmark(
    D: int = 784, H: int = 500, n_points: int = 1000, activation: str = "sigmoid", seed: int = 0,
    dtype: torch.dtype = torch.float64, chunk_size: int = 50, repeat: int = 5,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Time sym(∂r/∂x) and ‖∂r/∂x‖²_F of a random untied one-layer model at ``n_points`` points
    of [0, 1]^D by the Gram path, explicit R D_h' Wᵀ and vmap(jacrev), all on the same points.

    The Gram functions (:func:`~conservae_lib.fields.jacobian_symmetricity`,
    :func:`~conservae_lib.fields.jacobian_norm2`) are timed ``repeat`` times each (median); the
    two reference paths once each over all points (each gives both quantities from one Jacobian,
    so the comparison favours them). Agreement is :func:`relative_difference` against vmap(jacrev).
    """
    dev = torch.device(device)
    model = AutoEncoder(D, H, activation, tied=False, seed=seed, dtype=dtype).to(dev)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, D, generator=g, dtype=dtype).to(dev)
    with torch.no_grad():
        sym_gram = fields.jacobian_symmetricity(model, x)
        norm_gram = fields.jacobian_norm2(model, x)
        t_sym = time_call(lambda: fields.jacobian_symmetricity(model, x), repeat=repeat)
        t_norm = time_call(lambda: fields.jacobian_norm2(model, x), repeat=repeat)
    held: dict[str, tuple[Tensor, Tensor]] = {}

    def run_explicit() -> None:
        held["explicit"] = explicit_quadratics(model, x, chunk_size)

    def run_autograd() -> None:
        held["autograd"] = autograd_quadratics(model, x, chunk_size)

    # The reference paths run once each, timed, and their values are the ones compared; the
    # vmap(jacrev) path gets one untimed call on one chunk first (functorch's set-up).
    autograd_quadratics(model, x[:min(2, n_points)], chunk_size)
    t_explicit = time_call(run_explicit, repeat=1, warmup=0)
    t_autograd = time_call(run_autograd, repeat=1, warmup=0)
    # Interleave one more Gram measurement after the slow paths, so drift in the machine's load
    # shows up in the spread rather than in the ratio.
    with torch.no_grad():
        t_sym = Timing(t_sym.runs + time_call(lambda: fields.jacobian_symmetricity(model, x), repeat=repeat,
                                              warmup=0).runs)
    n_ex, tr_ex = held["explicit"]
    n_ag, tr_ag = held["autograd"]
    sym_ex, sym_ag = _sym(n_ex, tr_ex), _sym(n_ag, tr_ag)
    out = {
        "D": D, "H": H, "n_points": n_points, "activation": activation, "dtype": str(dtype).replace("torch.", ""),
        "chunk_size": chunk_size, **machine(dev),
        "seconds": {
            "gram_symmetricity": t_sym.median, "gram_norm2": t_norm.median,
            "explicit": t_explicit.median, "vmap_jacrev": t_autograd.median,
        },
        "gram_runs": {"symmetricity": list(t_sym.runs), "norm2": list(t_norm.runs)},
        "agreement": {
            "gram_vs_vmap_jacrev_symmetricity": relative_difference(sym_gram, sym_ag),
            "gram_vs_vmap_jacrev_norm2": relative_difference(norm_gram, n_ag),
            "explicit_vs_vmap_jacrev_symmetricity": relative_difference(sym_ex, sym_ag),
            "explicit_vs_vmap_jacrev_norm2": relative_difference(n_ex, n_ag),
        },
        "mean_symmetricity": float(sym_gram.mean()),
    }
    s = out["seconds"]
    out["speedup"] = {
        "symmetricity_vs_vmap_jacrev": s["vmap_jacrev"] / s["gram_symmetricity"],
        "symmetricity_vs_explicit": s["explicit"] / s["gram_symmetricity"],
        "norm2_vs_vmap_jacrev": s["vmap_jacrev"] / s["gram_norm2"],
        "norm2_vs_explicit": s["explicit"] / s["gram_norm2"],
        "explicit_vs_vmap_jacrev": s["vmap_jacrev"] / s["explicit"],
    }
    return out


def deep_metrics_benchmark(
    sizes: Sequence[int] = (784, 500, 250, 500, 784), n_points: int = 200, n_probes: int = 32,
    activation: str = "sigmoid", seed: int = 0, dtype: torch.dtype = torch.float64, chunk_size: int = 50,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Deep model (no closed form): exact Jacobians in chunks
    (:func:`~conservae_lib.fields.jacobian_quadratics`) against the Hutchinson estimate
    (:func:`~conservae_lib.fields.jacobian_quadratics_estimate`) on the same points.

    Reports both times, the estimate's error against the exact values — per point (median and
    largest |error| / stated standard error) and for the mean over points — and the stated
    standard errors.
    """
    dev = torch.device(device)
    model = DeepAutoEncoder.random(list(sizes), activation, seed=seed, dtype=dtype).to(dev)
    for p in model.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, sizes[0], generator=g, dtype=dtype).to(dev)
    holder: dict[str, Any] = {}

    def exact() -> None:
        holder["exact"] = fields.jacobian_quadratics(model, x, chunk_size=chunk_size)

    def estimate() -> None:
        holder["est"] = fields.jacobian_quadratics_estimate(model, x, n_probes=n_probes, seed=seed)

    t_exact = time_call(exact, repeat=1, warmup=0)
    t_est = time_call(estimate, repeat=3, warmup=1)
    n2, tr = holder["exact"]
    sym = _sym(n2, tr)
    est = holder["est"]
    z_sym = (est.symmetricity - sym).abs() / est.symmetricity_se.clamp_min(1e-300)
    mean_se = float(est.symmetricity_se.pow(2).sum().sqrt() / n_points)
    return {
        "sizes": list(sizes), "n_points": n_points, "n_probes": n_probes, "activation": activation,
        "dtype": str(dtype).replace("torch.", ""), **machine(dev),
        "seconds": {"exact_chunked": t_exact.median, "hutchinson": t_est.median},
        "speedup_hutchinson_vs_exact": t_exact.median / t_est.median,
        "mean_symmetricity_exact": float(sym.mean()),
        "mean_symmetricity_estimate": float(est.symmetricity.mean()),
        "mean_symmetricity_error": float(est.symmetricity.mean() - sym.mean()),
        "mean_symmetricity_se": mean_se,
        "point_symmetricity_abs_error_median": float((est.symmetricity - sym).abs().median()),
        "point_symmetricity_se_median": float(est.symmetricity_se.median()),
        "point_norm2_relative_error_median": float(((est.norm2 - n2).abs() / n2).median()),
        "point_norm2_relative_se_median": float((est.norm2_se / n2).median()),
        "point_z_median": float(z_sym.median()),
        "point_z_max": float(z_sym.max()),
        "stated_bound_relative_se": math.sqrt(2.0 / n_probes),
    }


# ----------------------------------------------------------------------------- training
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
    * ``fit`` — :func:`conservae_lib.training.fit` for one epoch of ``n_train`` images (its own
      ``train_time_s``, metrics excluded), per step;
    * ``metric_float32`` / ``metric_float64`` — :func:`~conservae_lib.fields.jacobian_symmetricity`
      on ``n_eval`` held-out points, once, against one epoch of ``n_train // batch_size`` steps.
    """
    from .training import fit

    dev = torch.device(device)
    g = torch.Generator().manual_seed(seed)
    f32 = torch.float32
    x = torch.rand(n_train, D, generator=g, dtype=f32).to(dev)
    x_eval = torch.rand(n_eval, D, generator=g, dtype=f32).to(dev)
    W = torch.rand(D, H, generator=g, dtype=f32).to(dev)
    R = torch.rand(D, H, generator=g, dtype=f32).to(dev)
    xb = x[:batch_size]
    err = torch.rand(batch_size, D, generator=g, dtype=f32).to(dev)
    gu = torch.rand(batch_size, H, generator=g, dtype=f32).to(dev)

    def fresh(dtype: torch.dtype = f32) -> AutoEncoder:
        return AutoEncoder(D, H, activation, tied=False, seed=seed, dtype=dtype).to(dev)

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
    m_eval, m_eval64 = fresh(), fresh(torch.float64)
    x_eval64 = x_eval.double()

    def metric32() -> None:
        with torch.no_grad():
            fields.jacobian_symmetricity(m_eval, x_eval)

    def metric64() -> None:
        with torch.no_grad():
            fields.jacobian_symmetricity(m_eval64, x_eval64)

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


def pool_benchmark(
    n_runs: int = 4, epochs: int = 3, workers: int = 2, D: int = 784, H: int = 500, batch_size: int = 200,
    n_train: int = 4000, n_eval: int = 500, seed: int = 0, checkpoint_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Chapter 04's runs trained one after another with all of torch's threads against
    :func:`conservae_lib.empirical.train_runs` with ``workers`` processes sharing the threads.

    ``n_runs`` AE runs (sigmoid and ReLU, alternately) of ``epochs`` epochs on synthetic data of
    MNIST's shape. Reports the wall time of each way (the pool's includes starting its
    processes, a fixed cost of a few seconds) and the steady-state throughput gain, from the
    training times the runs record themselves: ``workers × t_alone / t_pooled`` per epoch.
    """
    import tempfile

    from .data import MNIST
    from .empirical import GRID, Settings, train_runs

    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_train, D, generator=g)
    xe = torch.rand(n_eval, D, generator=g)
    data = MNIST(x, torch.zeros(n_train, dtype=torch.long), xe, torch.zeros(n_eval, dtype=torch.long),
                 "synthetic", f"synthetic uniform [0, 1] images, {n_train} + {n_eval}")
    st = Settings(H=H, epochs=epochs, batch_size=batch_size, n_eval=n_eval, metrics_every=epochs,
                  checkpoint_every=epochs, device="cpu")
    specs = [GRID[2], GRID[0]]  # AE sigmoid, AE ReLU
    jobs = [(specs[i % 2], st, seed + i) for i in range(n_runs)]
    with tempfile.TemporaryDirectory(dir=checkpoint_dir) as tmp:
        t0 = time.perf_counter()
        alone = train_runs(jobs, data, Path(tmp) / "alone", progress=False, workers=1)
        wall_alone = time.perf_counter() - t0
        t0 = time.perf_counter()
        pooled = train_runs(jobs, data, Path(tmp) / "pool", progress=False, workers=workers)
        wall_pool = time.perf_counter() - t0
    per_epoch_alone = sum(r.records[-1]["train_time_s"] for r in alone) / (n_runs * epochs)
    per_epoch_pooled = sum(r.records[-1]["train_time_s"] for r in pooled) / (n_runs * epochs)
    return {
        "n_runs": n_runs, "epochs": epochs, "workers": workers, "threads": torch.get_num_threads(),
        "batch_size": batch_size, "n_train": n_train, "D": D, "H": H, **machine("cpu"),
        "wall_s": {"alone": wall_alone, "pool": wall_pool},
        "epoch_s": {"alone": per_epoch_alone, "pool_per_process": per_epoch_pooled},
        "throughput_gain": workers * per_epoch_alone / per_epoch_pooled,
        "max_weight_difference": max(float((a.model.W - b.model.W).detach().abs().max()) for a, b in zip(alone, pooled)),
    }


# ----------------------------------------------------------------------------- the book
def chapter_timings(notebook_dir: str | Path, results_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Wall time and device of each executed notebook in ``notebook_dir`` (from the metadata the
    pipeline writes: ``metadata["conservae"]["timing"]``), in book order; notebooks without a
    record are listed with ``wall_s=None``. With ``results_dir`` (``results/<profile>``), also
    ``train_s``: the training wall time the chapter's summary records run by run (its ``wall_s``
    mapping, summed; None when it records none) — what a first run costs even when the page itself
    was executed by reloading finished checkpoints."""
    rows = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text()).get("metadata", {}).get("conservae", {})
        except (OSError, json.JSONDecodeError):
            meta = {}
        timing = meta.get("timing") or {}
        rows.append({
            "notebook": path.stem, "profile": (meta.get("parameters") or {}).get("profile"),
            "wall_s": timing.get("wall_s"), "device": timing.get("device"),
            "train_s": _training_seconds(Path(results_dir), path.stem) if results_dir is not None else None,
        })
    return rows


def _training_seconds(results_dir: Path, notebook: str) -> float | None:
    """Sum of the per-run training wall times in ``<results_dir>/<chapter>/summary.json``."""
    summary = results_dir / notebook.split("_", 1)[-1] / "summary.json"
    try:
        runs = json.loads(summary.read_text()).get("wall_s")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(runs, dict) or not runs:
        return None
    values = [v for v in runs.values() if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(sum(values)) if values else None


# ----------------------------------------------------------------------------- the book on another device
def device_record(notebook_dir: str | Path, results_root: str | Path, profile: str, command: str,
                  note: str = "") -> dict[str, Any]:
    """What a whole-book run on another machine (a GPU) produced, in one JSON-able record: the
    machine, the command, each notebook's wall time and device (:func:`chapter_timings`), every
    chapter's claims (``results_root/<profile>/<chapter>/summary.json``) and the performance
    page's measurements (``performance/benchmark.json``) when present, and a free-text ``note``
    (e.g. which commit ran). The performance appendix sets it beside this machine's run."""
    import datetime

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    base = Path(results_root) / profile
    keys = ("id", "statement", "ours", "paper", "verdict", "spread")
    claims = {chapter: [{k: c.get(k) for k in keys} for c in found]
              for chapter, found in claims_of(results_root, profile).items()}
    bench = base / "performance" / "benchmark.json"
    here = machine(dev)
    # only pages executed on this device (a page left from another machine keeps its own label)
    chapters = [r for r in chapter_timings(notebook_dir, Path(results_root) / profile) if r["device"] in (here["device"], None) or dev.type == "cpu"]
    return {
        **here, "cuda": torch.version.cuda, "profile": profile, "command": command, "note": note,
        "date": datetime.date.today().isoformat(), "chapters": chapters, "claims": claims,
        "benchmark": json.loads(bench.read_text()) if bench.exists() else None,
    }


def device_record_path(profile: str) -> Path:
    """Where the performance appendix looks for a device run: ``<results root>/device/<profile>.json``."""
    from .results import results_root

    return results_root() / "device" / f"{profile}.json"


def time_rows(here: Sequence[dict[str, Any]], there: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Per notebook: wall time in two runs (this machine's pages, a device record's) and the ratio."""
    from .report import fmt

    other = {r["notebook"]: r for r in there}
    rows = []
    for r in here:
        o = other.get(r["notebook"], {})
        a, b = r.get("wall_s"), o.get("wall_s")
        rows.append({"notebook": r["notebook"],
                     "here": "—" if a is None else f"{fmt(a, 3)} s", "device": "—" if b is None else f"{fmt(b, 3)} s",
                     "here / device": "—" if not (a and b) else f"{fmt(a / b, 3)}×"})
    return rows


def claim_rows(here: dict[str, list[dict[str, Any]]], there: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every claim found in both runs: our number and verdict here and on the device."""
    rows = []
    for chapter, claims in here.items():
        other = {c["id"]: c for c in there.get(chapter, [])}
        for c in claims:
            o = other.get(c["id"])
            if o is None:
                continue
            rows.append({"chapter": chapter, "claim": c["id"], "paper": c.get("paper"), "ours here": c.get("ours"),
                         "ours on device": o.get("ours"), "verdict here": c.get("verdict"),
                         "verdict on device": o.get("verdict"), "same verdict": c.get("verdict") == o.get("verdict")})
    return rows


def claims_of(results_root: str | Path, profile: str) -> dict[str, list[dict[str, Any]]]:
    """Chapter → its claims (id, ours, paper, verdict…) from ``<results_root>/<profile>/*/summary.json``."""
    from .results import load_json

    out = {}
    for path in sorted((Path(results_root) / profile).glob("*/summary.json")):
        out[path.parent.name] = load_json(path).get("claims", [])
    return out


def _device_main(argv: Sequence[str] | None = None) -> None:
    """``python -m conservae_lib.benchmark record PROFILE OUT --command CMD``: write the record
    of the run just made in this checkout (book/notebooks, results/)."""
    import argparse

    from .results import results_root, save_json

    ap = argparse.ArgumentParser(prog="python -m conservae_lib.benchmark")
    ap.add_argument("what", choices=["record"])
    ap.add_argument("profile")
    ap.add_argument("out", type=Path)
    ap.add_argument("--command", default="")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    notebooks = Path(__file__).resolve().parents[1] / "book" / "notebooks"
    save_json(args.out, device_record(notebooks, results_root(), args.profile, args.command, args.note))
    print(f"wrote {args.out}")


# ----------------------------------------------------------------------------- tables
def _fmt_s(x: float) -> str:
    from .report import fmt

    return f"{fmt(x, 3)} s"


def metrics_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows (path, time, speed-up, agreement) of a :func:`metrics_benchmark` result."""
    from .report import fmt, fmt_small

    s, sp, ag = result["seconds"], result["speedup"], result["agreement"]
    return [
        {"path": "Gram, sym(J) (fields.jacobian_symmetricity)", "time": _fmt_s(s["gram_symmetricity"]),
         "× faster than vmap(jacrev)": fmt(sp["symmetricity_vs_vmap_jacrev"], 3),
         "× faster than explicit": fmt(sp["symmetricity_vs_explicit"], 3),
         "max rel. difference to vmap(jacrev)": fmt_small(ag["gram_vs_vmap_jacrev_symmetricity"], 1e-14)},
        {"path": "Gram, ‖J‖²_F (fields.jacobian_norm2)", "time": _fmt_s(s["gram_norm2"]),
         "× faster than vmap(jacrev)": fmt(sp["norm2_vs_vmap_jacrev"], 3),
         "× faster than explicit": fmt(sp["norm2_vs_explicit"], 3),
         "max rel. difference to vmap(jacrev)": fmt_small(ag["gram_vs_vmap_jacrev_norm2"], 1e-14)},
        {"path": "explicit R D_h' Wᵀ, both", "time": _fmt_s(s["explicit"]),
         "× faster than vmap(jacrev)": fmt(sp["explicit_vs_vmap_jacrev"], 3), "× faster than explicit": "1",
         "max rel. difference to vmap(jacrev)": fmt_small(ag["explicit_vs_vmap_jacrev_symmetricity"], 1e-14)},
        {"path": "vmap(jacrev), both", "time": _fmt_s(s["vmap_jacrev"]), "× faster than vmap(jacrev)": "1",
         "× faster than explicit": fmt(1 / sp["explicit_vs_vmap_jacrev"], 3),
         "max rel. difference to vmap(jacrev)": "0"},
    ]


def deep_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows of a :func:`deep_metrics_benchmark` result."""
    from .report import fmt

    s = result["seconds"]
    return [
        {"path": "exact Jacobians, chunked (fields.jacobian_quadratics)", "time": _fmt_s(s["exact_chunked"]),
         "mean sym(J)": fmt(result["mean_symmetricity_exact"], 5), "speed-up": "1"},
        {"path": f"Hutchinson, {result['n_probes']} probes (fields.jacobian_quadratics_estimate)",
         "time": _fmt_s(s["hutchinson"]), "mean sym(J)": fmt(result["mean_symmetricity_estimate"], 5),
         "speed-up": fmt(result["speedup_hutchinson_vs_exact"], 3)},
    ]


def training_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """Formatted rows (variant, ms per step, GFLOP/s, fraction of the matmul floor)."""
    from .report import fmt, fmt_pct

    names = {
        "matmul": "the step's 5 matrix products alone (floor)",
        "forward_backward": "forward + backward only (no update)",
        "adam_update": "Adam update only (default)",
        "step_adam": "step: forward, backward, Adam (default), float(loss) each step",
        "step_adam_nosync": "same without float(loss) per step",
        "step_adam_foreach": "same with Adam(foreach=True)",
        "step_adam_fused": "same with Adam(fused=True)",
        "step_float64": "default step in float64",
        "fit": "training.fit (fused Adam, loss read once an epoch), per step",
    }
    rows = []
    for key, label in names.items():
        if key not in result["seconds_per_step"]:
            continue
        part = key in ("forward_backward", "adam_update")  # components, not whole steps
        sec = result["seconds_per_step"][key]
        rows.append({
            "variant": label, "ms per step": fmt(1e3 * sec, 3),
            "× the floor's time": fmt(sec / result["seconds_per_step"]["matmul"], 3),
            "GFLOP/s": "—" if part else fmt(result["gflops_per_s"][key], 3),
            "fraction of matmul floor": "—" if part else (
                "100.0 %" if key == "matmul" else fmt_pct(result["fraction_of_matmul"][key])),
        })
    return rows


if __name__ == "__main__":
    _device_main()
