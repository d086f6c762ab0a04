"""Progress bars over long loops (a trainer's epochs, the runs of a grid), silenced by ``TQDM_DISABLE``.

The pipeline and the tests set ``TQDM_DISABLE=1``, so no bar reaches an executed page; there
:func:`progress_bar` hands the iterable back untouched, which also avoids ``tqdm.auto``'s
import-time warning in kernels without ipywidgets. Used by every chapter that trains.
"""
from __future__ import annotations

import os
from typing import Iterable, TypeVar

__all__ = ["progress_bar"]

T = TypeVar("T")


def progress_bar(it: Iterable[T], desc: str, enabled: bool = True, total: int | None = None,
                 initial: int = 0, leave: bool = False) -> Iterable[T]:
    """A tqdm bar over ``it`` (``total`` steps, starting at ``initial``; ``None``: the length of
    ``it``) that disappears when done (stays, with ``leave``), or ``it`` itself when ``enabled``
    is false or ``TQDM_DISABLE`` is set."""
    if not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false"):
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, total=total, initial=initial, leave=leave)
