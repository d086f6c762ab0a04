"""Benchmark of the conservativeness metrics and of the training step (issue 8).

    python benchmarks/bench_metrics.py --out results/benchmarks/metrics.json

In one run, on the same points: sym(∂r/∂x) and ‖∂r/∂x‖²_F of a one-layer D × H model by the H × H
Gram path of ``conservae_lib.core.fields`` against explicit R D_h' Wᵀ and against
``torch.func.vmap(torch.func.jacrev(·))`` (speed-ups and agreement); a deep model, exact chunked
Jacobians against the Hutchinson estimate; and one Adam step of the MNIST model against its own
matrix products, with the per-epoch cost of tracking the symmetricity. Times are wall-clock on
whatever machine runs it; compare ratios, not seconds, across machines.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import torch  # noqa: E402

from conservae_lib.chapters.performance import benchmark, training_speed  # noqa: E402
from conservae_lib.foundations.files import save_json  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/benchmarks/metrics.json"))
    p.add_argument("--parts", default="metrics,deep,training", help="comma-separated: metrics, deep, training")
    p.add_argument("--D", type=int, default=784)
    p.add_argument("--H", type=int, default=500)
    p.add_argument("--n-points", type=int, default=1000)
    p.add_argument("--chunk-size", type=int, default=50)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--deep-sizes", default="784,500,250,500,784")
    p.add_argument("--deep-points", type=int, default=50)
    p.add_argument("--probes", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--n-train", type=int, default=4000)
    p.add_argument("--n-eval", type=int, default=500)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--training-repeat", type=int, default=5)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    parts = {s.strip() for s in args.parts.split(",") if s.strip()}
    unknown = parts - {"metrics", "deep", "training"}
    if unknown:
        p.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    torch.manual_seed(args.seed)
    out: dict = {"command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "metrics" in parts:
        out["metrics"] = benchmark.metrics_benchmark(
            D=args.D, H=args.H, n_points=args.n_points, chunk_size=args.chunk_size, repeat=args.repeat,
            seed=args.seed, device=args.device)
        print(json.dumps({k: out["metrics"][k] for k in ("seconds", "speedup", "agreement")}, indent=2), flush=True)
    if "deep" in parts:
        sizes = tuple(int(s) for s in args.deep_sizes.split(","))
        out["deep"] = benchmark.deep_metrics_benchmark(
            sizes=sizes, n_points=args.deep_points, n_probes=args.probes, chunk_size=args.chunk_size,
            seed=args.seed, device=args.device)
        print(json.dumps(out["deep"], indent=2), flush=True)
    if "training" in parts:
        out["training"] = training_speed.training_benchmark(
            D=args.D, H=args.H, batch_size=args.batch_size, n_train=args.n_train, n_eval=args.n_eval,
            steps=args.steps, repeat=args.training_repeat, seed=args.seed, device=args.device)
        t = out["training"]
        print(json.dumps({k: t[k] for k in ("seconds_per_step", "fraction_of_matmul", "metric_fraction_of_epoch")},
                         indent=2), flush=True)
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"wrote {save_json(args.out, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
