"""The parameters of chapter ``performance``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from typing import Any

from conservae_lib.foundations.parameters import COUNT, Chapter, Param, seed_and_device


def _memory(c: dict[str, Any]) -> tuple[float, str]:
    D, H = c["D"], c["H"]
    return (4.0 * (c["chunk_size"] * D * D + 2 * D * H + c["n_points"] * D),
            "chunk_size D × D Jacobians, the D × H weights and n_points inputs in float32")


def _deep_sizes_problem(sizes: list[int]) -> str | None:
    """What a deep model's sizes must be: at least three, [D, …, D] (at least two weight matrices, D back to D)."""
    if len(sizes) < 3 or sizes[0] != sizes[-1]:
        return "a list of at least three sizes [D, …, D] whose first and last are equal (a deep auto-encoder)"
    return None


PARAMETERS = Chapter("performance", (
    *seed_and_device("seed of the weights and the points"),
    Param("D", 784, "input dimension of the one-layer benchmark (784, as MNIST)", smoke=40, **COUNT),
    Param("H", 500, "hidden units (500, as in the paper)", smoke=20, **COUNT),
    Param("n_points", 1000, "points at which the Jacobian metrics are computed", smoke=20, **COUNT),
    Param("chunk_size", 50, "points per chunk for the paths that form D × D Jacobians", smoke=10, **COUNT),
    Param("repeat", 5, "repetitions of the fast path (median reported)", smoke=2, **COUNT),
    Param("deep_sizes", [784, 500, 250, 500, 784], "layer sizes of the deep model [D, …, D]",
          smoke=[30, 20, 10, 20, 30], many=True, check=_deep_sizes_problem, **COUNT),
    Param("deep_points", 50, "points for the deep-model comparison", smoke=10, **COUNT),
    Param("n_probes", 32, "random probes of the Hutchinson estimate", smoke=8, **COUNT),
    Param("batch_size", 200, "training: mini-batch size", smoke=10, **COUNT),
    Param("n_train", 4000, "training: images per epoch", smoke=40, **COUNT),
    Param("n_eval", 500, "held-out points at which the symmetricity is tracked per epoch", smoke=20, **COUNT),
    Param("steps", 20, "training steps per timed variant", smoke=4, **COUNT),
    Param("training_repeat", 5, "interleaved repetitions of every training variant", smoke=1, **COUNT),
    Param("pool_runs", 4, "runs of the pool-of-processes comparison", smoke=2, **COUNT),
    Param("pool_epochs", 4, "epochs of each of those runs", smoke=1, **COUNT),
), memory=_memory)
