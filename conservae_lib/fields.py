"""Vector fields and the quantities that tell whether they are conservative.

* :func:`jacobian` — ∂r/∂x for a batch: the closed form R D_h' Wᵀ of Proposition 2 for a
  one-layer :class:`~conservae_lib.models.AutoEncoder`, autograd for anything else.
* :func:`symmetricity` — sym(A) = ‖(A + Aᵀ)/2‖²_F / ‖A‖²_F, the paper's measure (section
  *Empirical conservativeness*): 1 for a symmetric matrix, 0 for an antisymmetric one.
* :func:`jacobian_symmetricity` — sym(∂r/∂x) per point, computed for one-layer models from
  H × H Gram matrices without ever forming a D × D Jacobian.
* :func:`curl_2d`, :func:`curl_2d_grid`, :func:`circulation` — curl and loop integrals, the
  direct test of path independence (Proposition 1).

A "field" argument is either a model (an auto-encoder, whose field is r(x) − x) or any callable
mapping an N × D tensor to an N × D tensor. For auto-encoders :func:`jacobian` returns the
Jacobian of the reconstruction r, as the paper does; the field's Jacobian is that minus I, which
has the same antisymmetric part and hence the same curl and circulation.
Chapter: *Conservative auto-encoders* (and the MNIST and 2-D chapters that use them).
"""
from __future__ import annotations

import math
from typing import Callable, Union

import numpy as np
import torch
from torch import nn

from .models import AutoEncoder

Tensor = torch.Tensor
FieldLike = Union[nn.Module, Callable[[Tensor], Tensor]]

__all__ = [
    "as_field", "jacobian", "symmetricity", "jacobian_symmetricity", "jacobian_norm2",
    "curl_2d", "curl_2d_grid", "circulation",
]


def as_field(field: FieldLike) -> Callable[[Tensor], Tensor]:
    """The vector field of a model (its ``field`` method, r(x) − x) or the callable itself."""
    f = getattr(field, "field", None)
    if callable(f):
        return f
    if callable(field):
        return field
    raise TypeError(f"expected an auto-encoder or a callable vector field; got {type(field).__name__}.")


def _map(field: FieldLike) -> Callable[[Tensor], Tensor]:
    """The map whose Jacobian :func:`jacobian` returns: r for models, the callable otherwise."""
    return field if isinstance(field, nn.Module) else as_field(field)


def _check_points(x: Tensor) -> Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    if x.ndim != 2:
        raise ValueError(f"points must be an N × D batch; got shape {tuple(x.shape)}.")
    return x


def jacobian(model: FieldLike, x: Tensor) -> Tensor:
    """Jacobians J[n, i, j] = ∂r_i/∂x_j at each point of the batch x (N × D) → N × D × D.

    For a one-layer auto-encoder this is the closed form J = R D_h' Wᵀ of Proposition 2 with
    D_h' = diag(h'(Wᵀx + b)); otherwise ``torch.func.vmap(torch.func.jacrev(·))``.
    """
    x = _check_points(x)
    if isinstance(model, AutoEncoder):
        d = model.hidden_derivative(x)  # N × H
        return (model.R.unsqueeze(0) * d.unsqueeze(1)) @ model.W.T
    f = _map(model)

    def single(xi: Tensor) -> Tensor:
        return f(xi.unsqueeze(0)).squeeze(0)

    return torch.func.vmap(torch.func.jacrev(single))(x)


def symmetricity(A: Tensor) -> Tensor:
    """sym(A) = ‖(A + Aᵀ)/2‖²_F / ‖A‖²_F for a matrix or a batch of matrices (…, D, D).

    It lies in [0, 1]: 1 exactly when A is symmetric, 0 when A is antisymmetric, and ½ + O(1/√D)
    for a matrix of i.i.d. entries. The zero matrix (a constant field) is symmetric: sym = 1.
    """
    A = torch.as_tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"symmetricity needs square matrices; got shape {tuple(A.shape)}.")
    sym = 0.5 * (A + A.transpose(-1, -2))
    num = (sym**2).sum(dim=(-1, -2))
    den = (A**2).sum(dim=(-1, -2))
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.ones_like(den))


def _gram_quadratics(model: AutoEncoder, x: Tensor) -> tuple[Tensor, Tensor]:
    """‖J‖²_F and tr(J J) per point for J = R D Wᵀ, from H × H Gram matrices.

    With d = h'(Wᵀx + b): ‖J‖²_F = tr(D RᵀR D WᵀW) = dᵀ (RᵀR ∘ WᵀW) d and
    tr(J J) = tr(D WᵀR D WᵀR) = dᵀ (M ∘ Mᵀ) d with M = WᵀR (∘ the element-wise product).
    Cost: O(D H²) once plus O(N H²), against O(N D² H) for explicit Jacobians.
    """
    W, R = model.W, model.R
    d = model.hidden_derivative(x)
    M = W.T @ R
    q_norm = (R.T @ R) * (W.T @ W)
    q_trace = M * M.T
    norm2 = ((d @ q_norm) * d).sum(dim=1)
    trace = ((d @ q_trace) * d).sum(dim=1)
    return norm2, trace


def jacobian_norm2(model: FieldLike, x: Tensor) -> Tensor:
    """‖∂r/∂x‖²_F per point (the contraction penalty of eq. 10), N values.

    One-layer models use the Gram identity of :func:`_gram_quadratics`; others form Jacobians.
    """
    x = _check_points(x)
    if isinstance(model, AutoEncoder):
        return _gram_quadratics(model, x)[0]
    return (jacobian(model, x) ** 2).sum(dim=(-1, -2))


def jacobian_symmetricity(model: FieldLike, x: Tensor) -> Tensor:
    """sym(∂r/∂x) at each point of x (N × D), N values in [0, 1].

    For a one-layer model: sym(J) = ½ + tr(J J) / (2 ‖J‖²_F), because
    ‖J + Jᵀ‖²_F = 2‖J‖²_F + 2 tr(J J); both terms come from :func:`_gram_quadratics`, so no
    D × D matrix is ever formed. Other models go through :func:`jacobian`.
    """
    x = _check_points(x)
    if isinstance(model, AutoEncoder):
        norm2, trace = _gram_quadratics(model, x)
        safe = torch.where(norm2 > 0, norm2, torch.ones_like(norm2))
        return torch.where(norm2 > 0, 0.5 + 0.5 * trace / safe, torch.ones_like(norm2))
    return symmetricity(jacobian(model, x))


def curl_2d(field: FieldLike, points: Tensor) -> Tensor:
    """Scalar curl ∂F_y/∂x − ∂F_x/∂y of a 2-D field at N points, from exact Jacobians.

    Zero everywhere on a simply connected domain exactly when the field is conservative
    (Proposition 1 for D = 2). For a model, the curl of r(x) − x equals the curl of r(x).
    """
    points = _check_points(points)
    if points.shape[1] != 2:
        raise ValueError(f"curl_2d needs 2-D points; got dimension {points.shape[1]}.")
    J = jacobian(field, points)
    return J[:, 1, 0] - J[:, 0, 1]


def curl_2d_grid(U: np.ndarray, V: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Curl ∂V/∂x − ∂U/∂y of a field sampled on a grid, by second-order finite differences.

    ``U`` and ``V`` have shape (len(y), len(x)) (rows are y, as ``numpy.meshgrid`` gives).
    """
    U, V = np.asarray(U, dtype=float), np.asarray(V, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if U.shape != (len(y), len(x)) or V.shape != U.shape:
        raise ValueError(f"U and V must have shape (len(y), len(x)) = {(len(y), len(x))}; got {U.shape}, {V.shape}.")
    return np.gradient(V, x, axis=1) - np.gradient(U, y, axis=0)


def circulation(
    field: FieldLike,
    centers: Tensor,
    radius: float = 0.5,
    n_points: int = 128,
    plane: Tensor | None = None,
    seed: int = 0,
    relative: bool = False,
) -> Tensor:
    """Line integral ∮ F · dl of the field around a circle about each centre.

    The circle lies in the plane spanned by the two orthonormal rows of ``plane`` (2 × D); by
    default the first two coordinates in 2-D, and a random plane per loop (seeded) otherwise.
    The trapezoid rule in the angle is spectrally accurate for smooth fields. A conservative
    field has zero circulation around every loop (path independence). For a model the integrand
    is the reconstruction r, whose circulation equals that of r(x) − x (x is a gradient).

    With ``relative=True`` the result is |∮ F·dl| / ∮ |(F − F(centre)) · t| |dl|, with t the
    unit tangent: the circulation against the total variation of the tangential field along
    the loop. It lies in [0, 1], is 0 for a conservative field and 1 for a pure rotation, and
    does not shrink with D or with the loop's radius (a random linear field gives O(1)).
    """
    centers = _check_points(centers)
    if not radius > 0:
        raise ValueError(f"radius must be positive; got {radius!r}.")
    N, D = centers.shape
    f = _map(field)
    dtype = centers.dtype
    if plane is not None:
        plane = torch.as_tensor(plane, dtype=dtype)
        basis = plane.expand(N, 2, D)
    elif D == 2:
        basis = torch.eye(2, dtype=dtype).expand(N, 2, 2)
    else:
        g = torch.Generator().manual_seed(int(seed))
        basis = torch.linalg.qr(torch.randn(N, D, 2, generator=g, dtype=torch.float64))[0]
        basis = basis.transpose(1, 2).to(dtype)
    theta = torch.arange(n_points, dtype=dtype) * (2 * math.pi / n_points)
    cos, sin = torch.cos(theta), torch.sin(theta)
    e1, e2 = basis[:, 0, :], basis[:, 1, :]  # N × D
    pts = centers[:, None, :] + radius * (cos[None, :, None] * e1[:, None, :] + sin[None, :, None] * e2[:, None, :])
    tangent = radius * (-sin[None, :, None] * e1[:, None, :] + cos[None, :, None] * e2[:, None, :])
    values = f(pts.reshape(-1, D)).reshape(N, n_points, D)
    step = 2 * math.pi / n_points
    circ = (values * tangent).sum(dim=(1, 2)) * step
    if not relative:
        return circ
    at_centre = f(centers).unsqueeze(1)
    unit = tangent / radius
    scale = ((values - at_centre) * unit).sum(dim=2).abs().sum(dim=1) * radius * step
    return circ.abs() / torch.where(scale > 0, scale, torch.ones_like(scale))
