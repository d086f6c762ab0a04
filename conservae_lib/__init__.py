"""conservae_lib — the library behind the executable book of *Conservativeness of untied
auto-encoders* (Im, Belghazi & Memisevic, AAAI 2016).

One module per concept of the paper, one folder per layer, each importing only from the layers
before it: ``foundations``, ``claims``, ``core``, ``data``, ``training``, ``experiments``,
``presentation``, ``book`` (CONTRIBUTING.md, "Layout"). Import a module from its layer
(``from conservae_lib.core import fields``); :class:`AutoEncoder` and :class:`DeepAutoEncoder`
(eq. 1) are exported here.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["AutoEncoder", "DeepAutoEncoder", "__version__"]


def __getattr__(name: str) -> Any:
    """``AutoEncoder`` and ``DeepAutoEncoder`` on first use (PEP 562), so that importing a layer
    that needs no model (``foundations``, the command line) does not load torch."""
    if name in ("AutoEncoder", "DeepAutoEncoder"):
        from conservae_lib.core import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
