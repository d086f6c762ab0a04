"""Vector fields and the quantities that tell whether they are conservative.

* :func:`jacobian` — ∂r/∂x for a batch: the closed form R D_h' Wᵀ of Proposition 2 for a
  one-layer :class:`~conservae_lib.core.models.AutoEncoder`, autograd for anything else.
* :func:`symmetricity` — sym(A) = ‖(A + Aᵀ)/2‖²_F / ‖A‖²_F, the paper's measure (section
  *Empirical conservativeness*): 1 for a symmetric matrix, 0 for an antisymmetric one, NaN for
  the zero matrix (0/0: a locally constant field has no symmetricity; every sym(J) here says so).
* :func:`jacobian_symmetricity` — sym(∂r/∂x) per point, computed for one-layer models from
  H × H Gram matrices (:func:`gram_matrices`) without ever forming a D × D Jacobian.
* :func:`jacobian_quadratics` — exact ‖J‖²_F and tr(J J) per point for any model (Gram
  matrices for one layer, Jacobians in bounded chunks otherwise);
  :func:`jacobian_quadratics_estimate` — unbiased Hutchinson estimates of both (and of sym(J))
  from batched JVP/VJP products with random sign probes, with their standard errors, for deep
  models (no D × D matrix formed).
* :func:`curl_2d`, :func:`circulation` — the exact curl of a 2-D field and loop integrals, the
  direct test of path independence (Proposition 1); the curl of a field sampled on a grid is
  :func:`conservae_lib.core.hodge.grid_curl`.

A "field" argument is either a model (an auto-encoder, whose field is r(x) − x) or any callable
mapping an N × D tensor to an N × D tensor. For auto-encoders :func:`jacobian` returns the
Jacobian of the reconstruction r, as the paper does; the field's Jacobian is that minus I, which
has the same antisymmetric part and hence the same curl and circulation.
Chapter: *Conservative auto-encoders* (and the MNIST and 2-D chapters that use them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np
import torch
from torch import nn

from .models import AutoEncoder

Tensor = torch.Tensor
FieldLike = Union[nn.Module, Callable[[Tensor], Tensor]]

__all__ = [
    "as_field", "jacobian", "symmetricity", "gram_matrices", "jacobian_symmetricity", "jacobian_norm2",
    "jacobian_quadratics", "QuadraticsEstimate", "jacobian_quadratics_estimate",
    "curl_2d", "circulation", "grid_2d", "field_on_grid", "dtype_of",
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
    for a matrix of i.i.d. entries. For the zero matrix (a locally constant field) it is 0/0: NaN,
    as in every sym(J) of the library — a vanishing Jacobian is neither symmetric nor not, and a
    mean over points that includes one is NaN rather than pulled towards 1 (chapters gate
    collapsed networks before scoring: :func:`conservae_lib.training.collapse.collapse_reason`).
    """
    A = torch.as_tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"symmetricity needs square matrices; got shape {tuple(A.shape)}.")
    sym = 0.5 * (A + A.transpose(-1, -2))
    num = (sym**2).sum(dim=(-1, -2))
    den = (A**2).sum(dim=(-1, -2))
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), _nan_like(den))


def _nan_like(t: Tensor) -> Tensor:
    """A tensor of NaN of ``t``'s shape, dtype and device: sym(J) where ‖J‖_F = 0 (0/0)."""
    return torch.full_like(t, float("nan"))


def gram_matrices(model: AutoEncoder, trace: bool = True) -> tuple[Tensor, Tensor | None]:
    """The H × H matrices Q = RᵀR ∘ WᵀW and P = M ∘ Mᵀ, M = WᵀR (∘ the element-wise product), of a
    one-layer model, for which J = R D Wᵀ with D = diag(d), d = h'(Wᵀx + b) (Proposition 2) has

        ‖J‖²_F = tr(D RᵀR D WᵀW) = dᵀ Q d    and    tr(J J) = tr(D WᵀR D WᵀR) = dᵀ P d.

    Cost O(D H²). With ``trace=False`` only Q is formed (two H × H products instead of three; P
    comes back as ``None``). A tied model (R is W) needs one Gram matrix, WᵀW, for all three
    products; the results are the same numbers either way.
    """
    W, R = model.W, model.R
    gram_w = W.T @ W
    gram_r = gram_w if R is W else R.T @ R
    Q = gram_r * gram_w
    if not trace:
        return Q, None
    M = gram_w if R is W else W.T @ R
    return Q, M * M.T


def _gram_quadratics(model: AutoEncoder, x: Tensor, trace: bool = True) -> tuple[Tensor, Tensor | None]:
    """‖J‖²_F = dᵀQd and tr(J J) = dᵀPd per point for J = R D Wᵀ, from the H × H matrices of
    :func:`gram_matrices`. Cost: O(D H²) once plus O(N H²), against O(N D² H) for explicit
    Jacobians. With ``trace=False`` only ‖J‖²_F is computed (the trace comes back as ``None``).
    """
    d = model.hidden_derivative(x)
    Q, P = gram_matrices(model, trace)
    norm2 = ((d @ Q) * d).sum(dim=1)
    if P is None:
        return norm2, None
    return norm2, ((d @ P) * d).sum(dim=1)


def jacobian_norm2(model: FieldLike, x: Tensor) -> Tensor:
    """‖∂r/∂x‖²_F per point (the contraction penalty of eq. 10), N values.

    One-layer models use the Gram identity of :func:`_gram_quadratics`; others form Jacobians.
    """
    x = _check_points(x)
    if isinstance(model, AutoEncoder):
        return _gram_quadratics(model, x, trace=False)[0]
    return (jacobian(model, x) ** 2).sum(dim=(-1, -2))


def jacobian_symmetricity(model: FieldLike, x: Tensor) -> Tensor:
    """sym(∂r/∂x) at each point of x (N × D), N values in [0, 1] (NaN where ∂r/∂x = 0).

    For a one-layer model: sym(J) = ½ + tr(J J) / (2 ‖J‖²_F), because
    ‖J + Jᵀ‖²_F = 2‖J‖²_F + 2 tr(J J); both terms come from :func:`_gram_quadratics`, so no
    D × D matrix is ever formed. Other models go through :func:`jacobian`.
    """
    x = _check_points(x)
    if isinstance(model, AutoEncoder):
        return _symmetricity_from(*_gram_quadratics(model, x))
    return symmetricity(jacobian(model, x))


def _symmetricity_from(norm2: Tensor, trace: Tensor) -> Tensor:
    """sym(J) = ½ + tr(J J) / (2 ‖J‖²_F), and NaN where ‖J‖_F = 0 (0/0: a locally constant field)."""
    safe = torch.where(norm2 > 0, norm2, torch.ones_like(norm2))
    return torch.where(norm2 > 0, 0.5 + 0.5 * trace / safe, _nan_like(norm2))


def jacobian_quadratics(model: FieldLike, x: Tensor, chunk_size: int = 64) -> tuple[Tensor, Tensor]:
    """Exact ‖∂r/∂x‖²_F and tr((∂r/∂x)²) at each point of x (N × D): two tensors of N values.

    A one-layer :class:`~conservae_lib.core.models.AutoEncoder` uses the H × H Gram matrices of
    :func:`jacobian_norm2`; any other model forms its Jacobians with
    ``torch.func.vmap(torch.func.jacrev(·))`` ``chunk_size`` points at a time, so memory stays
    at ``chunk_size`` D × D matrices (a single 1,000-point batch at D = 784 would need ~5 GB in
    float64). sym(J) = ½ + tr(J J) / (2 ‖J‖²_F), as in :func:`jacobian_symmetricity`.
    """
    x = _check_points(x)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    if isinstance(model, AutoEncoder):
        norm2, trace = _gram_quadratics(model, x)
        return norm2, trace
    norms, traces = [], []
    for i in range(0, len(x), chunk_size):
        J = jacobian(model, x[i:i + chunk_size])
        norms.append((J**2).sum(dim=(-1, -2)))
        traces.append((J * J.transpose(-1, -2)).sum(dim=(-1, -2)))
    if not norms:
        empty = x.new_zeros(0)
        return empty, empty.clone()
    return torch.cat(norms), torch.cat(traces)


@dataclass(frozen=True)
class QuadraticsEstimate:
    """Hutchinson estimates of ‖J‖²_F, tr(J J) and sym(J) per point, with standard errors.

    ``*_se`` are the standard errors estimated from the spread over the ``n_probes`` probes
    (ddof = 1; for ``symmetricity`` by the delta method for a ratio). Each estimate is unbiased
    for ‖J‖²_F and tr(J J); for sym(J), a ratio, the bias is O(1/n_probes), below the standard
    error. With random-sign probes the standard deviation of one probe's ‖Jv‖² is at most
    √2 ‖J‖²_F (and that of (Jᵀv)·(Jv) at most √2 ‖J‖²_F), so se/‖J‖²_F ≤ √(2/n_probes) in the worst
    case; for a Jacobian with many comparable singular values it is far smaller. Where the
    estimated ‖J‖²_F is 0 (J = 0), ``symmetricity`` and ``symmetricity_se`` are NaN (0/0).
    """

    norm2: Tensor
    trace: Tensor
    norm2_se: Tensor
    trace_se: Tensor
    symmetricity: Tensor
    symmetricity_se: Tensor
    n_probes: int


def jacobian_quadratics_estimate(
    model: FieldLike, x: Tensor, n_probes: int = 32, seed: int = 0, max_rows: int = 65536,
) -> QuadraticsEstimate:
    """Unbiased estimates of ‖J‖²_F and tr(J J) at each point, J = ∂r/∂x, from JVP/VJP products.

    For random-sign vectors v (E vvᵀ = I): ‖J‖²_F = E ‖Jv‖² and tr(J J) = E vᵀ J J v =
    E (Jᵀv)·(Jv) (Hutchinson's estimator). Each probe costs one forward-mode product Jv and one
    reverse-mode product Jᵀv, computed for all points and probes in a few batched calls
    (``max_rows`` rows of N·n_probes at a time) — about 2·n_probes forward passes per point,
    against D for an exact Jacobian, and no D × D matrix. The model must act on each row of its
    input independently (every auto-encoder does: its batch Jacobian is block-diagonal).
    Probes are drawn from a generator seeded with ``seed``, so results are reproducible.
    """
    x = _check_points(x)
    if isinstance(n_probes, bool) or not isinstance(n_probes, int) or n_probes < 2:
        raise ValueError(f"n_probes must be an integer ≥ 2 (the standard error needs two); got {n_probes!r}.")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows <= 0:
        raise ValueError(f"max_rows must be a positive integer; got {max_rows!r}.")
    f = _map(model)
    N, D = x.shape
    g = torch.Generator().manual_seed(int(seed))
    signs = (torch.randint(0, 2, (n_probes, N, D), generator=g, dtype=torch.int8) * 2 - 1)
    a = x.new_empty(n_probes, N)  # ‖J v‖² per probe and point
    b = x.new_empty(n_probes, N)  # (Jᵀ v)·(J v)
    per_call = max(1, max_rows // max(N, 1))
    with torch.enable_grad():
        for start in range(0, n_probes, per_call):
            k = min(per_call, n_probes - start)
            v = signs[start:start + k].to(device=x.device, dtype=x.dtype).reshape(k * N, D)
            xs = x.detach().repeat(k, 1)
            _, jv = torch.func.jvp(f, (xs,), (v,))
            _, pullback = torch.func.vjp(f, xs)
            (jtv,) = pullback(v)
            a[start:start + k] = (jv**2).sum(dim=1).reshape(k, N).detach()
            b[start:start + k] = (jv * jtv).sum(dim=1).reshape(k, N).detach()
    norm2, trace = a.mean(dim=0), b.mean(dim=0)
    root_k = math.sqrt(n_probes)
    sym = _symmetricity_from(norm2, trace)
    safe = torch.where(norm2 > 0, norm2, torch.ones_like(norm2))
    ratio = trace / safe
    sym_se = torch.where(norm2 > 0, 0.5 * (b - ratio * a).std(dim=0) / (root_k * safe), _nan_like(norm2))
    return QuadraticsEstimate(
        norm2=norm2, trace=trace, norm2_se=a.std(dim=0) / root_k, trace_se=b.std(dim=0) / root_k,
        symmetricity=sym, symmetricity_se=sym_se, n_probes=n_probes,
    )


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


# ----------------------------------------------------------------------------- a 2-D field on a grid
def grid_2d(box: Sequence[float] = (-1, 1, -1, 1), n: int = 25, dtype: torch.dtype = torch.float64) -> tuple[np.ndarray, np.ndarray, Tensor]:
    """A regular n × n grid over ``box = (xmin, xmax, ymin, ymax)``.

    Returns the 1-D coordinates ``x``, ``y`` and the grid points as an (n·n) × 2 tensor in
    row-major order (y outer, x inner), so values reshape to (len(y), len(x)).
    """
    x = np.linspace(box[0], box[1], n)
    y = np.linspace(box[2], box[3], n)
    X, Y = np.meshgrid(x, y)
    pts = torch.as_tensor(np.stack([X.ravel(), Y.ravel()], axis=1), dtype=dtype)
    return x, y, pts


def field_on_grid(field: FieldLike, box: Sequence[float] = (-1, 1, -1, 1), n: int = 25) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a 2-D field on a grid: ``x, y, U, V`` with U, V of shape (n, n)."""
    f = as_field(field)
    dtype = dtype_of(field)
    x, y, pts = grid_2d(box, n, dtype)
    with torch.no_grad():
        vals = f(pts).detach().cpu().numpy()
    return x, y, vals[:, 0].reshape(n, n), vals[:, 1].reshape(n, n)


def dtype_of(field: FieldLike) -> torch.dtype:
    """The dtype of a module's first parameter (float64 for a plain callable or a parameter-less module)."""
    params = list(field.parameters()) if isinstance(field, torch.nn.Module) else []
    return params[0].dtype if params else torch.float64
