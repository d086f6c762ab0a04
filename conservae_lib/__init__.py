"""conservae_lib — the library behind the executable book of *Conservativeness of untied
auto-encoders* (Im, Belghazi & Memisevic, AAAI 2016).

One module per concept of the paper; submodules load on first use
(``conservae_lib.fields``, ``conservae_lib.energy``, …), and :class:`AutoEncoder` is exported
at the top level.
"""
from __future__ import annotations

import importlib
from typing import Any

from .models import AutoEncoder, DeepAutoEncoder

__version__ = "0.1.0"

__all__ = ["AutoEncoder", "DeepAutoEncoder", "__version__"]


def __getattr__(name: str) -> Any:
    """Import a submodule on first access (PEP 562), so ``conservae_lib.fields`` just works."""
    try:
        module = importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
    globals()[name] = module
    return module
