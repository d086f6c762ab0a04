"""A chapter's parameters, declared once: name, type, allowed range, help and the value of each profile.

Every chapter declares its parameters in one :class:`Chapter`, ``PARAMETERS`` in
``conservae_lib/chapters/<chapter>/parameters.py``, found by the chapter's name (:func:`declaration`).
From that one declaration come

* the three **profiles** — ``smoke`` (seconds, what CI runs), ``paper`` (the paper's
  hyper-parameters on the data shipped with the install) and ``full`` (full MNIST, for a GPU);
* the **validation**: types and ranges as declared (never guessed from a name), lists element by
  element, unknown names refused — each refusal one sentence naming the parameter, the value and
  what is allowed (:class:`ParameterError`);
* the notebook's papermill ``parameters`` **cell** (:func:`conservae_lib.tooling.profiles.parameters_cell`),
  so that ``papermill --help-notebook`` lists the parameters with their help; ``python -m
  conservae_lib parameters --write`` regenerates the cells and a test keeps them in step;
* :meth:`Chapter.resolve`, the chapter's first call: the profile's values, overridden by anything
  the parameters cell (or papermill's ``-p``) set, checked.

This module imports nothing from the library (it sits under every layer); :func:`declaration` finds a chapter's
module by its name.
"""
from __future__ import annotations

import ast
import copy
import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

PROFILES: tuple[str, ...] = ("smoke", "paper", "full")

#: The chapters' folders: ``<chapter>/parameters.py`` declares each one's parameters.
CHAPTERS_DIR = Path(__file__).resolve().parents[1] / "chapters"
_SAME: Any = object()  # "as in the paper profile"


class ParameterError(ValueError):
    """A chapter parameter is unknown or has a value that is not allowed (one-sentence message)."""


# ------------------------------------------------------------------------- ranges used by many chapters
#: Keyword presets for :class:`Param`. Why these bounds: a step of 10 throws any of the book's
#: objectives (data in [0, 1] or a box of half-width ≈ 1) out of range; noise σ > 10 drowns such data;
#: 100,000 epochs (10⁶ iterations) are far beyond any chapter's budget; a seed must fit NumPy's 32-bit
#: seed; penalty weights beyond 10⁴ make the penalty the whole objective.
SEED = dict(kind=int, low=0, high=2**32 - 1)
#: A list of seeds: a set, no value twice.
SEEDS = dict(SEED, many=True, unique=True)
COUNT = dict(kind=int, low=0, strict=True)
EPOCHS = dict(kind=int, low=0, strict=True, high=100_000)
ITERATIONS = dict(kind=int, low=0, strict=True, high=1_000_000)
RATE = dict(kind=float, low=0, strict=True, high=10.0)
NOISE = dict(kind=float, low=0, high=10.0)
WEIGHT = dict(kind=float, low=0, high=1e4)
STRENGTH = dict(kind=float, low=0, strict=True, high=1e4)
FRACTION = dict(kind=float, low=0, high=1)
POSITIVE = dict(kind=float, low=0, strict=True)
FOLDER = dict(kind=str, what="a folder path (a string)", optional=True)


def _device_problem(v: Any) -> str | None:
    """None for auto, cpu, cuda and cuda:N that this machine has, else what is allowed."""
    allowed = "auto, cpu, cuda or cuda:N"
    if not isinstance(v, str):
        return allowed
    if v in ("auto", "cpu"):
        return None
    if v != "cuda" and not (v.startswith("cuda:") and v[5:].isdigit()):
        return allowed
    import torch  # only when a GPU is asked for: keeps the command line's start-up light

    if not torch.cuda.is_available():
        return "auto or cpu, since this machine has no CUDA GPU"
    if ":" in v and int(v[5:]) >= torch.cuda.device_count():
        return f"auto, cpu, cuda or cuda:0 … cuda:{torch.cuda.device_count() - 1} on this machine"
    return None


DEVICE = dict(kind=str, check=_device_problem, what="auto, cpu, cuda or cuda:N")


def seed_and_device(seed_help: str) -> tuple["Param", "Param"]:
    """The two parameters every chapter has: ``seed`` (what it seeds) and ``device`` (auto, cpu, cuda…)."""
    return Param("seed", 0, seed_help, **SEED), Param("device", "auto", **DEVICE)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


@dataclass(frozen=True)
class Param:
    """One parameter: its type (of each element when ``many``), range, help and profile values.

    ``low``/``high`` bound numbers (``strict``: ``low`` itself excluded); ``why`` says why a lower
    bound other than 0 exists; ``choices`` lists the allowed strings; ``optional`` allows None; ``check`` is a
    rule on a string, or on the whole list when ``many``, returning what is allowed; ``unique``
    refuses a list that repeats a value (a set, such as seeds: a repeated seed would count one run twice);
    ``check`` is an extra rule returning what is allowed, or None when the value is fine.
    ``smoke`` and ``full`` default to the ``paper`` value.
    """

    name: str
    paper: Any
    help: str = ""
    kind: type = int
    smoke: Any = _SAME
    full: Any = _SAME
    many: bool = False
    low: float | None = None
    high: float | None = None
    strict: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    unique: bool = False
    why: str = ""
    what: str = ""
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def value(self, profile: str) -> Any:
        v = getattr(self, profile)
        return copy.deepcopy(self.paper if v is _SAME else v)

    # --------------------------------------------------------------- what is allowed, in words
    def _kind_word(self) -> tuple[str, str]:
        return ("an", "integer") if self.kind is int else ("a", "number")

    def allowed(self, above: bool = False) -> str:
        """What one value (one element, for a list) may be; ``above``: the phrase for a value over ``high``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return self.what or "a string"
        art, k = self._kind_word()
        if self.low == 0 and self.high == 1 and not self.strict:
            text = f"a {k} in [0, 1]"
        elif above and self.high is not None:
            text = (f"a positive {k} ≤ {_fmt(self.high)}" if self.strict and self.low == 0
                    else f"{art} {k} in [{_fmt(self.low or 0)}, {_fmt(self.high)}]")
        elif self.strict and self.low == 0:
            text = f"a positive {k}"
        elif self.low is not None:
            text = f"{art} {k} ≥ {_fmt(self.low)}"
        else:
            text = f"{art} {k}"
        return f"{text} ({self.why})" if self.why and not above else text

    def _item_problem(self, v: Any) -> str | None:
        if self.kind is bool:
            return None if isinstance(v, bool) else self.allowed()
        if self.kind is str:
            if not isinstance(v, str) or (self.choices and v not in self.choices) or (not self.choices and not v.strip()):
                return self.allowed()
            return self.check(v) if self.check else None
        if not _number(v) or (self.kind is int and not isinstance(v, int)):
            return self.allowed()
        if not math.isfinite(v):
            return "a finite number"
        if self.low is not None and (v < self.low or (self.strict and v == self.low)):
            return self.allowed()
        if self.high is not None and v > self.high:
            return self.allowed(above=True)
        return None

    def problem(self, value: Any) -> str | None:
        """What ``value`` must be instead, or None when it is allowed."""
        if value is None and self.optional:
            return None
        if self.many:
            if not isinstance(value, (list, tuple)):
                return f"a list like {list(self.paper)!r}"
            if len(value) == 0:
                return "a non-empty list"
            bad = next((p for p in map(self._item_problem, value) if p), None)
            if bad:
                return f"a non-empty list whose elements are each {bad}"
            twice = next((v for i, v in enumerate(value) if v in list(value)[:i]), None)
            if self.unique and twice is not None:
                return f"a list without repeated values ({twice!r} is given twice; each would count as another run)"
            return self.check(list(value)) if self.check else None
        bad = self._item_problem(value)
        return f"{bad} or None" if bad and self.optional else bad

    def annotation(self) -> str:
        return "list" if self.many else self.kind.__name__


Memory = Callable[[Mapping[str, Any]], "tuple[float, str] | None"]


@dataclass(frozen=True)
class Chapter:
    """The parameters of one chapter (its notebook's file name without the number prefix).

    ``memory`` returns a lower bound of the bytes a run needs at once and what it counts (checked
    against the memory available before anything runs); ``data_source`` names the MNIST source of a
    chapter that has no ``data_source`` parameter (its sizes are bounded by that source); ``rules`` checks values
    that must fit together, returning (the parameters involved, the clause that says what must hold) or None;
    the message names the first involved parameter that the caller set.
    """

    name: str
    params: tuple[Param, ...]
    memory: Memory | None = field(default=None, compare=False)
    data_source: str | None = None
    rules: "Callable[[Mapping[str, Any]], tuple[tuple[str, ...], str] | None] | None" = field(default=None,
                                                                                             compare=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names) or {"profile", "chapter"} & set(names):
            raise ValueError(f"chapter {self.name!r}: parameter names must be unique and not 'profile'/'chapter'.")
        for p in self.params:
            for profile in PROFILES:
                problem = p.problem(p.value(profile))
                if problem and p.check is None:
                    raise ValueError(f"chapter {self.name!r}, profile {profile!r}: {p.name} = {p.value(profile)!r} "
                                     f"is not {problem}.")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def table(self, profile: str) -> dict[str, Any]:
        """The values of ``profile`` (a fresh copy)."""
        check_profile(profile)
        return {p.name: p.value(profile) for p in self.params}

    def configure(self, profile: str, **overrides: Any) -> "Config":
        """The profile's values with ``overrides`` (None = keep the profile's value), checked; see
        :func:`configure`."""
        return configure(self, profile, **overrides)

    def resolve(self, namespace: Mapping[str, Any]) -> "Config":
        """The chapter's parameters from a notebook's namespace (``globals()`` after its parameters cell).

        ``profile`` and every declared name are read from it; a declared name missing there means the
        parameters cell is out of date with this declaration."""
        missing = [n for n in self.names if n not in namespace]
        if missing:
            raise ParameterError(f"parameter {missing[0]!r} is declared for chapter {self.name!r} but its notebook's "
                                 "parameters cell lacks it; regenerate the cell with "
                                 "`python -m conservae_lib parameters --write`.")
        return configure(self, namespace.get("profile", "paper"), **{n: namespace[n] for n in self.names})


class Config(dict):
    """A chapter's resolved parameters: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def describe(self) -> str:
        """One line per parameter, for printing under a chapter's parameters cell."""
        return "\n".join(f"{k} = {v!r}" for k, v in self.items())


def check_profile(profile: Any) -> None:
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ParameterError(f"parameter 'profile' got {profile!r}, but it must be one of {', '.join(PROFILES)}.")


def unknown(name: str, value: Any, chapter: Chapter) -> ParameterError:
    return ParameterError(f"parameter {name!r} (given {value!r}) is not a parameter of chapter {chapter.name!r}; "
                          f"it must be one of {', '.join(['profile', *sorted(chapter.names)])}.")


def injected_parameter_names() -> dict[str, Any]:
    """Names and values set by papermill's injected ``# Parameters`` cell in the running kernel.

    ``papermill -p NAME VALUE`` defines ``NAME`` in the notebook whether or not the chapter
    declares it, so a misspelt name would silently do nothing; :func:`configure` reads the
    injected cell back from the kernel's input history to refuse it. Outside an IPython kernel, or
    without such a cell, it is empty.
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    except Exception:
        return {}
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().split("\n", 1)[0].strip() == "# Parameters":
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return {}
            found: dict[str, Any] = {}
            for node in tree.body:
                for target in getattr(node, "targets", []):
                    if isinstance(target, ast.Name):
                        try:
                            found[target.id] = ast.literal_eval(node.value)
                        except ValueError:
                            found[target.id] = ast.unparse(node.value)
            return found
    return {}


def configure(chapter: Chapter, profile: str, **overrides: Any) -> Config:
    """Merge ``overrides`` (``None`` = use the profile's value) into the profile and check everything.

    Raises :class:`ParameterError` (a ``ValueError``) with one sentence naming the first bad
    parameter, its value and what is allowed. Unknown names are errors too, both here and when
    papermill injected them into the notebook that calls this.
    """
    from .limits import check_data, check_memory

    table = chapter.table(profile)
    for name, value in overrides.items():
        if name in ("profile", "chapter"):
            raise ParameterError(f"parameter {name!r} (given {value!r}) cannot be overridden here; choose the "
                                 f"profile with --profile (the pipeline) or the notebook's own 'profile' variable.")
        if name not in table:
            raise unknown(name, value, chapter)
        if value is not None:
            table[name] = value
    for name, value in injected_parameter_names().items():
        if name != "profile" and name not in table:
            raise unknown(name, value, chapter)
    for p in chapter.params:
        problem = p.problem(table[p.name])
        if problem:
            raise ParameterError(f"parameter {p.name!r} got {table[p.name]!r}, but it must be {problem}.")
    check_data(chapter, table)
    broken = chapter.rules(table) if chapter.rules else None
    if broken:
        names, why = broken  # blame a parameter the caller set, when one of those involved was
        name = next((n for n in names if n in overrides), names[0])
        raise ParameterError(f"parameter {name!r} got {table[name]!r}, but {why}.")
    check_memory(chapter, profile, table)
    return Config(table, profile=profile, chapter=chapter.name)


def chapter_keys() -> tuple[str, ...]:
    """Every chapter of the library, found by name: the folders ``conservae_lib/chapters/<chapter>/`` that
    hold a ``parameters.py`` (no registry). A notebook ``notebooks/NN_<chapter>.md`` belongs to each."""
    return tuple(sorted(p.parent.name for p in CHAPTERS_DIR.glob("*/parameters.py")))


def declaration(chapter: str) -> Chapter:
    """The :class:`Chapter` declared in ``conservae_lib/chapters/<chapter>/parameters.py``."""
    if chapter not in chapter_keys():
        raise ValueError(f"unknown chapter {chapter!r}; known: {', '.join(chapter_keys())}.")
    decl = importlib.import_module(f"conservae_lib.chapters.{chapter}.parameters").PARAMETERS
    if decl.name != chapter:
        raise ValueError(f"chapters/{chapter}/parameters.py declares {decl.name!r}, not {chapter!r}.")
    return decl
