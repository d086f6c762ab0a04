"""The conservative part of a 2-D vector field on a box: a grid Helmholtz–Hodge solver (eq. 16).

The paper's eq. (16) splits a field ω into a scalar (gradient) part dα, a solenoidal part δβ and
a harmonic part γ. On a bounded domain Ω the split F = ∇φ + G (G divergence-free) is unique only
once boundary conditions are fixed {cite}`bhatia2013helmholtz`. :func:`helmholtz_hodge` computes
it with *natural* (normal-flow) boundary conditions: φ minimises ∫_Ω |∇φ − F|² dA, i.e. it solves
the Neumann problem Δφ = ∇·F in Ω, ∂φ/∂n = F·n on ∂Ω. The remainder G = F − ∇φ is
divergence-free and tangential to the boundary; any harmonic gradient (curl- and
divergence-free) is absorbed into ∇φ. So ∇φ is *the best gradient-field fit of F on the box in
L²* — the "closest conservative vector field, in a least square sense" of the paper, and what an
auto-encoder whose field is a gradient (a tied one, Corollary 1) approaches when trained by least
squares on points spread uniformly over the box. Discretisation: φ on the grid nodes, the
least-squares problem posed on grid edges (difference quotient of φ against the mean of F at the
two ends, trapezoid weights at the boundary), solved as a sparse graph-Laplacian system with
scipy; the conservative components are then np.gradient(φ) (second order). O(h²) accurate.

Also here: :data:`FIELDS`, test fields F = ∇φ + S with a stated split, sampled by
:func:`sample_grid`; the error measures that compare a field with either part
(:func:`relative_error`, :func:`error_row`, :func:`score_model`, which refuses a collapsed
network); :func:`plot_grid_field`; and the paper's F with its best gradient fit,
:func:`least_squares_reference`. Learning the conservative part with auto-encoders is
:mod:`conservae_lib.chapters.hodge_2d.experiment`. Chapter: *Extracting the conservative part of a vector
field* (06_hodge_2d), Figure 4 and the section *Decomposing the vector field* (eq. 16).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from conservae_lib.core.fields import curl_2d, field_on_grid, grid_2d

Tensor = torch.Tensor
Array = np.ndarray
Pair = tuple[Array, Array]

__all__ = [
    "helmholtz_hodge", "grid_curl", "relative_error", "nonconservative_fraction", "TestField", "FIELDS",
    "sample_grid", "field_values", "model_on_grid", "model_curl_on_grid", "error_row", "collapse_points",
    "score_model", "Reference", "least_squares_reference",
]


# ----------------------------------------------------------------------------- classical solver
def _check_grid(U: Array, V: Array, x: Array, y: Array) -> tuple[Array, Array, Array, Array, float, float]:
    U, V = np.asarray(U, dtype=float), np.asarray(V, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or len(x) < 3 or len(y) < 3:
        raise ValueError(f"x and y must be 1-D coordinate arrays with at least 3 points; got shapes {x.shape}, {y.shape}.")
    if U.shape != (len(y), len(x)) or V.shape != U.shape:
        raise ValueError(f"U and V must have shape (len(y), len(x)) = {(len(y), len(x))}; got {U.shape} and {V.shape}.")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(V))):
        raise ValueError("U and V must be finite (no NaN or infinity).")
    dx, dy = np.diff(x), np.diff(y)
    for name, d in (("x", dx), ("y", dy)):
        if not (np.all(d > 0) and np.allclose(d, d[0], rtol=1e-6, atol=0)):
            raise ValueError(f"{name} must be increasing and equally spaced (a regular grid).")
    return U, V, x, y, float(dx[0]), float(dy[0])


def helmholtz_hodge(U: Array, V: Array, x: Array, y: Array) -> tuple[Array, Array, Array]:
    """Conservative part ∇φ of the field (U, V) on a regular grid, with natural boundary conditions.

    ``U``, ``V``: components of shape (len(y), len(x)); ``x``, ``y``: increasing, equally
    spaced coordinates. Returns ``(Uc, Vc, phi)``: the components of ∇φ and the potential φ
    (mean zero) on the same grid, where φ minimises ∫ |∇φ − F|² over the box (the L² projection
    of F onto gradient fields; Neumann condition ∂φ/∂n = F·n). See the module docstring.
    """
    U, V, x, y, dx, dy = _check_grid(U, V, x, y)
    ny, nx = U.shape
    idx = np.arange(nx * ny).reshape(ny, nx)
    # Horizontal edges (i, j)→(i, j+1) and vertical edges (i, j)→(i+1, j).
    h_from, h_to = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    v_from, v_to = idx[:-1, :].ravel(), idx[1:, :].ravel()
    h_rhs = 0.5 * (U[:, :-1] + U[:, 1:]).ravel()
    v_rhs = 0.5 * (V[:-1, :] + V[1:, :]).ravel()
    # Trapezoid weights across the edge direction: half weight on boundary rows/columns.
    wy = np.ones(ny)
    wy[[0, -1]] = 0.5
    wx = np.ones(nx)
    wx[[0, -1]] = 0.5
    h_w = np.repeat(wy, nx - 1) * dx * dy
    v_w = np.tile(wx, ny - 1) * dx * dy
    n_h, n_v = len(h_from), len(v_from)
    rows = np.concatenate([np.arange(n_h), np.arange(n_h), n_h + np.arange(n_v), n_h + np.arange(n_v)])
    cols = np.concatenate([h_from, h_to, v_from, v_to])
    vals = np.concatenate([np.full(n_h, -1 / dx), np.full(n_h, 1 / dx), np.full(n_v, -1 / dy), np.full(n_v, 1 / dy)])
    G = sp.csr_matrix((vals, (rows, cols)), shape=(n_h + n_v, nx * ny))
    w = np.concatenate([h_w, v_w])
    b = np.concatenate([h_rhs, v_rhs])
    GtW = G.T.multiply(w).tocsr()
    A = (GtW @ G).tocsc()
    rhs = GtW @ b
    # The Laplacian is singular (constants); pin φ at node 0, then remove the mean.
    phi = np.zeros(nx * ny)
    phi[1:] = spla.spsolve(A[1:, 1:], rhs[1:])
    phi = phi.reshape(ny, nx)
    phi -= phi.mean()
    Uc = np.gradient(phi, x, axis=1, edge_order=2)
    Vc = np.gradient(phi, y, axis=0, edge_order=2)
    return Uc, Vc, phi


# ----------------------------------------------------------------------------- error measures
def _as_pair(F: Any) -> Pair:
    if isinstance(F, (tuple, list)) and len(F) == 2:
        return np.asarray(F[0], dtype=float), np.asarray(F[1], dtype=float)
    arr = np.asarray(F.detach().cpu() if isinstance(F, torch.Tensor) else F, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise ValueError(f"a field must be a pair (U, V) or an N × 2 array; got shape {arr.shape}.")


def relative_error(F: Any, reference: Any) -> float:
    """‖F − reference‖ / ‖reference‖ over the grid (plain sums of squares of both components)."""
    U, V = _as_pair(F)
    Ur, Vr = _as_pair(reference)
    if U.shape != Ur.shape:
        raise ValueError(f"fields have different shapes: {U.shape} and {Ur.shape}.")
    den = math.sqrt(float((Ur**2).sum() + (Vr**2).sum()))
    if den == 0:
        raise ValueError("the reference field is zero; a relative error is undefined.")
    return math.sqrt(float(((U - Ur) ** 2).sum() + ((V - Vr) ** 2).sum())) / den


def nonconservative_fraction(U: Array, V: Array, x: Array, y: Array) -> float:
    """‖F − ∇φ‖ / ‖F‖ with ∇φ the best gradient fit on the box: 0 for a gradient field."""
    Uc, Vc, _ = helmholtz_hodge(U, V, x, y)
    return relative_error((Uc, Vc), (U, V))


def grid_curl(U: Array, V: Array, x: Array, y: Array) -> Array:
    """∂V/∂x − ∂U/∂y on the grid by second-order differences (one-sided second order at the edges).

    Not :func:`conservae_lib.core.fields.curl_2d_grid`, on purpose: that one uses first-order
    differences at the edges, while :func:`helmholtz_hodge` builds ∇φ with second-order ones. With
    the same stencils the x- and y-difference operators commute, so the curl of the solver's
    output is zero to rounding everywhere; with first-order edges a gradient field shows a
    spurious boundary curl of order h (0.55 for the paper's F on a 100 × 100 grid), which would
    fill the colour scale of chapter 06's curl maps. The grid is checked as for the solver.
    """
    U, V, x, y, _, _ = _check_grid(U, V, x, y)
    return np.gradient(V, x, axis=1, edge_order=2) - np.gradient(U, y, axis=0, edge_order=2)


# ----------------------------------------------------------------------------- test fields
@dataclass(frozen=True)
class TestField:
    """A 2-D field F = ∇φ + S with a stated split (``conservative`` = ∇φ, ``potential`` = φ)."""

    name: str
    description: str
    conservative: Callable[[Array, Array], Pair]
    rotational: Callable[[Array, Array], Pair]
    potential: Callable[[Array, Array], Array]
    boundary_orthogonal: bool  # True when S is tangential on ∂[−1, 1]²: then ∇φ is also the L² fit

    def total(self, X: Array, Y: Array) -> Pair:
        (a, b), (c, d) = self.conservative(X, Y), self.rotational(X, Y)
        return a + c, b + d


def _gauss(X: Array, Y: Array, cx: float, cy: float, s: float) -> Array:
    return np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * s * s))


def _bump_grad(X: Array, Y: Array) -> Pair:
    g = _gauss(X, Y, 0.3, 0.2, 0.35)
    return -(X - 0.3) / 0.35**2 * g, -(Y - 0.2) / 0.35**2 * g


def _vortex(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ = (∂ψ/∂y, −∂ψ/∂x) of ψ = 0.5 · Gaussian centred at (−0.4, −0.3), width 0.3.
    g = 0.5 * _gauss(X, Y, -0.4, -0.3, 0.3)
    return -(Y + 0.3) / 0.09 * g, (X + 0.4) / 0.09 * g


def _sine_cons(X: Array, Y: Array) -> Pair:
    # ∇φ for φ = sin(πx/2)·cos(πy/4).
    return (math.pi / 2) * np.cos(math.pi * X / 2) * np.cos(math.pi * Y / 4), -(math.pi / 4) * np.sin(math.pi * X / 2) * np.sin(math.pi * Y / 4)


def _sine_cell(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ for ψ = sin(πx)·sin(πy), which vanishes on the boundary of [−1, 1]².
    return math.pi * np.sin(math.pi * X) * np.cos(math.pi * Y), -math.pi * np.cos(math.pi * X) * np.sin(math.pi * Y)


FIELDS: dict[str, TestField] = {
    "spiral_sink": TestField(
        "spiral_sink", "the paper's F = (−x + y, −x − y): sink (−x, −y) plus rotation (y, −x)",
        lambda X, Y: (-X, -Y), lambda X, Y: (Y, -X), lambda X, Y: -(X**2 + Y**2) / 2, False),
    "bump_vortex": TestField(
        "bump_vortex", "gradient of a Gaussian bump at (0.3, 0.2) plus a Gaussian vortex at (−0.4, −0.3)",
        _bump_grad, _vortex, lambda X, Y: _gauss(X, Y, 0.3, 0.2, 0.35), False),
    "sine_cell": TestField(
        "sine_cell", "∇ of sin(πx/2)cos(πy/4) plus the cellular flow ∇⊥[sin(πx) sin(πy)]",
        _sine_cons, _sine_cell, lambda X, Y: np.sin(math.pi * X / 2) * np.cos(math.pi * Y / 4), True),
}


def sample_grid(field: TestField, n: int = 100, box: Sequence[float] = (-1, 1, -1, 1)) -> dict[str, Any]:
    """The field on the n × n grid of :func:`conservae_lib.core.fields.grid_2d` over ``box``.

    Keys: ``x``, ``y`` (coordinates), ``box``, ``points`` (n² × 2, y outer), ``vectors`` (F as an
    n² × 2 array in the order of ``points``), and as pairs of (n, n) arrays ``F``, its stated
    ``conservative`` part ∇φ and ``rotational`` part S; ``phi`` is the stated potential.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be an integer ≥ 3; got {n!r}.")
    x, y, points = grid_2d(box, n, torch.float64)
    points = points.numpy()
    X, Y = points[:, 0].reshape(n, n), points[:, 1].reshape(n, n)
    F = field.total(X, Y)
    vectors = np.stack([F[0].ravel(), F[1].ravel()], axis=1)
    return {"x": x, "y": y, "box": tuple(box), "points": points, "vectors": vectors, "F": F,
            "conservative": field.conservative(X, Y), "rotational": field.rotational(X, Y), "phi": field.potential(X, Y)}


# ----------------------------------------------------------------------------- comparisons
def field_values(model: torch.nn.Module, points: Any) -> Array:
    """The model's field r(x) − x at N × 2 points, as an N × 2 NumPy array."""
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(np.asarray(points, dtype=float), dtype=dtype)
    with torch.no_grad():
        return model.field(X).double().cpu().numpy()


def model_on_grid(model: torch.nn.Module, grid: dict[str, Any]) -> Pair:
    """The model's field r(x) − x on the grid of :func:`sample_grid`, as a pair of (ny, nx) arrays
    (:func:`conservae_lib.core.fields.field_on_grid` on the grid's box, in the model's dtype)."""
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
    (``l2_fit``, from :func:`helmholtz_hodge`) and F, and its own non-conservative fraction.

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
    the model must not be scored (:func:`conservae_lib.chapters.curl_2d.curl_training.collapse_reason`). A dead or
    constant network has the field c − x, which on Figure 4's F *is* the stated conservative part,
    so it would pass for a recovery although it learned nothing about F; the least-squares
    optimum of a tied model (the best gradient fit, whose harmonic part is not zero) is not
    constant, so a constant r means training failed. The errors are still reported (NaN when the
    field is not finite); a chapter must not hand a collapsed model's numbers to the ledger.
    Chapter 06_hodge_2d."""
    from conservae_lib.chapters.curl_2d.curl_training import collapse_reason

    reason = collapse_reason(model, collapse_points(grid), losses, degenerate)
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


