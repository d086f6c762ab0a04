"""Independent references for the tests: what the library computes in closed form, computed here
by autograd, so a test never checks the library against a copy of itself."""
from __future__ import annotations

from typing import Callable

import torch


def autograd_jacobians(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """∂f/∂x at each row of ``x`` (N × D) by autograd, N × out × D, for ``f`` mapping a batch to a batch."""
    return torch.func.vmap(torch.func.jacrev(lambda xi: f(xi.unsqueeze(0)).squeeze(0)))(x)


def finite_difference_jacobians(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                                step: float = 1e-6) -> torch.Tensor:
    """∂f/∂x at each row of ``x`` (N × D) by central differences in float64, N × out × D: no autograd, so it
    checks the library's autograd Jacobians (deep models) against something other than themselves."""
    x = x.to(torch.float64)
    cols = []
    for j in range(x.shape[1]):
        e = torch.zeros_like(x)
        e[:, j] = step
        cols.append((f(x + e) - f(x - e)) / (2 * step))
    return torch.stack(cols, dim=-1)
