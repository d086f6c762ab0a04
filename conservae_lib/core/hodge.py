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

Also here, all on NumPy grids (rows are y, as ``numpy.meshgrid`` gives): the curl of a field on a
grid with the solver's stencils (:func:`grid_curl`), the relative L² error of one field against
another (:func:`relative_error`) and a field's distance from its best gradient fit
(:func:`nonconservative_fraction`). The test fields with a stated split are
:mod:`conservae_lib.data.vector_fields`; learning the conservative part with auto-encoders is
chapter 06 (:mod:`conservae_lib.chapters.hodge_2d.experiment`, scored by
:mod:`conservae_lib.chapters.hodge_2d.scoring`). Chapter: *Extracting the conservative part of a
vector field* (06_hodge_2d), Figure 4 and the section *Decomposing the vector field* (eq. 16).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

Array = np.ndarray
Pair = tuple[Array, Array]

__all__ = ["helmholtz_hodge", "grid_curl", "relative_error", "nonconservative_fraction", "Array", "Pair"]


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

    ``U`` and ``V`` have shape (len(y), len(x)). These are the stencils :func:`helmholtz_hodge`
    builds ∇φ with: with the same stencils the x- and y-difference operators commute, so the curl
    of the solver's output is zero to rounding everywhere, boundary included; first-order edges
    would show a spurious boundary curl of order h on a gradient field (0.55 for the paper's F on
    a 100 × 100 grid), which would fill the colour scale of chapter 06's curl maps. The grid is
    checked as for the solver (regular, finite). The exact curl of a model, from its Jacobian, is
    :func:`conservae_lib.core.fields.curl_2d`.
    """
    U, V, x, y, _, _ = _check_grid(U, V, x, y)
    return np.gradient(V, x, axis=1, edge_order=2) - np.gradient(U, y, axis=0, edge_order=2)
