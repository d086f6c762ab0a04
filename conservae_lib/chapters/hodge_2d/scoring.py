"""Chapter 06's comparisons: a trained model's field on the evaluation grid, scored against the paper's F.

:func:`model_on_grid` and :func:`model_curl_on_grid` read a model's field r(x) − x and its exact
curl on a grid of :func:`conservae_lib.data.vector_fields.sample_grid`; :func:`error_row` compares a
field with the stated conservative part, the best gradient fit and F itself; :func:`score_model`
does so for a trained model and refuses a collapsed one
(:func:`conservae_lib.training.collapse.collapse_reason`); :func:`least_squares_reference` is the
paper's F with its best gradient fit (:class:`Reference`, from
:func:`conservae_lib.core.hodge.helmholtz_hodge`). Learning the conservative part with
auto-encoders is :mod:`conservae_lib.chapters.hodge_2d.experiment`. Chapter: *Extracting the
conservative part of a vector field* (06_hodge_2d), Figure 4.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from conservae_lib.core.fields import curl_2d, field_on_grid
from conservae_lib.core.hodge import Array, Pair, helmholtz_hodge, nonconservative_fraction, relative_error
from conservae_lib.data.vector_fields import FIELDS, sample_grid
from conservae_lib.training.collapse import collapse_reason

Tensor = torch.Tensor

__all__ = [
    "field_values", "model_on_grid", "model_curl_on_grid", "error_row", "collapse_points", "score_model",
    "Reference", "least_squares_reference",
]


def field_values(model: torch.nn.Module, points: Any) -> Array:
    """The model's field r(x) − x at N × 2 points, as an N × 2 NumPy array."""
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(np.asarray(points, dtype=float), dtype=dtype)
    with torch.no_grad():
        return model.field(X).double().cpu().numpy()


def model_on_grid(model: torch.nn.Module, grid: dict[str, Any]) -> Pair:
    """The model's field r(x) − x on a grid of :func:`~conservae_lib.data.vector_fields.sample_grid`,
    as a pair of (ny, nx) arrays (:func:`conservae_lib.core.fields.field_on_grid` on the grid's box,
    in the model's dtype)."""
    _, _, U, V = field_on_grid(model, grid["box"], len(grid["x"]))
    return U, V


def model_curl_on_grid(model: torch.nn.Module, grid: dict[str, Any]) -> Array:
    """Exact curl of the model's field (from its Jacobian, Proposition 2) on the grid, shape (ny, nx)."""
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        c = curl_2d(model, torch.as_tensor(np.asarray(grid["points"], dtype=float), dtype=dtype))
    return c.detach().double().cpu().numpy().reshape(len(grid["y"]), len(grid["x"]))


def error_row(field: Pair, grid: dict[str, Any], l2_fit: Pair, given: Pair | None = None) -> dict[str, float]:
    """Relative L² errors of a field against the stated conservative part, the best gradient fit
    (``l2_fit``, from :func:`~conservae_lib.core.hodge.helmholtz_hodge`) and F, and its own
    non-conservative fraction (:func:`~conservae_lib.core.hodge.nonconservative_fraction`).

    ``given`` is the field the method was trained on when it is not the grid's F (the rotation
    control of chapter 06, whose stated conservative part is zero): then ``err_F`` is measured
    against ``given``, the two errors against F's decomposition are NaN, and ``size_vs_given``
    is the learned field's L² size relative to ``given``'s."""
    U, V = field
    row = {
        "err_stated": relative_error(field, grid["conservative"]),
        "err_l2fit": relative_error(field, l2_fit),
        "err_F": relative_error(field, grid["F"]),
        "nonconservative": nonconservative_fraction(U, V, grid["x"], grid["y"]),
    }
    if given is not None:
        size = float(np.sqrt((U ** 2 + V ** 2).sum() / (given[0] ** 2 + given[1] ** 2).sum()))
        row.update(err_stated=float("nan"), err_l2fit=float("nan"), err_F=relative_error(field, given),
                   size_vs_given=size)
    return row


def collapse_points(grid: dict[str, Any], n: int = 400) -> Tensor:
    """About ``n`` grid points spread over the whole box (every k-th point), for collapse checks."""
    points = np.asarray(grid["points"], dtype=float)
    return torch.as_tensor(points[::max(1, len(points) // n)])


def score_model(model: torch.nn.Module, grid: dict[str, Any], best_fit: Pair, losses: Sequence[float] = (),
                degenerate: str | None = None, given: Pair | None = None) -> dict[str, Any]:
    """:func:`error_row` of a trained model's field on ``grid``, plus ``collapsed``: ``None`` or why
    the model must not be scored (:func:`conservae_lib.training.collapse.collapse_reason`, its
    ``"everywhere"`` test on :func:`collapse_points`). A dead or constant network has the field
    c − x, which on Figure 4's F *is* the stated conservative part, so it would pass for a
    recovery although it learned nothing about F; the least-squares
    optimum of a tied model (the best gradient fit, whose harmonic part is not zero) is not
    constant, so a constant r means training failed. The errors are still reported (NaN when the
    field is not finite); a chapter must not hand a collapsed model's numbers to the ledger.
    Chapter 06_hodge_2d."""
    reason = collapse_reason(model, collapse_points(grid), losses, degenerate=degenerate, jacobian_test="everywhere")
    field = model_on_grid(model, grid)
    if np.isfinite(field[0]).all() and np.isfinite(field[1]).all():
        row: dict[str, Any] = error_row(field, grid, best_fit, given)
    else:
        nan = float("nan")
        row = dict(err_stated=nan, err_l2fit=nan, err_F=nan, nonconservative=nan)
        if given is not None:
            row["size_vs_given"] = nan
    row["collapsed"] = reason
    return row


@dataclass
class Reference:
    """The paper's F = (−x + y, −x − y) on the evaluation ``grid`` and its best gradient fit ∇φ."""

    grid: dict[str, Any]
    best_fit: Pair
    potential: np.ndarray

    @property
    def harmonic(self) -> Pair:
        """∇φ − (−x, −y): the harmonic gradient by which the two references differ."""
        (u, v), (cu, cv) = self.best_fit, self.grid["conservative"]
        return u - cu, v - cv

    @property
    def gap(self) -> float:
        """Relative L² error of the best gradient fit against the stated conservative part."""
        return relative_error(self.best_fit, self.grid["conservative"])


def least_squares_reference(n_grid: int, field: str = "spiral_sink") -> Reference:
    """``field`` on an ``n_grid`` × ``n_grid`` grid with its L² projection onto gradients (eq. 16)."""
    grid = sample_grid(FIELDS[field], n_grid)
    fit_u, fit_v, potential = helmholtz_hodge(*grid["F"], grid["x"], grid["y"])
    return Reference(grid, (fit_u, fit_v), potential)
