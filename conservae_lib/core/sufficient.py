"""The sufficient condition R = C W D_h' E (eq. 8–9): constructions, the space of conservative
decoders, recovering C and E, and perturbations.

* :func:`sufficient_condition_decoder`, :func:`commuting_matrix` and the family constructors
  :func:`linear_family`, :func:`relu_region_family`, :func:`pointwise_family` — decoders of the
  sufficient condition with D_h' frozen in the three ways that make sense (constant h', a fixed
  ReLU activation pattern, one point x₀).
* :func:`affine_energy` — the quadratic energy of a model whose h is affine on the region
  (linear h, or ReLU with a fixed activation pattern).
* :func:`perturbation_sweep` — symmetricity and circulation of a conservative model whose
  decoder is perturbed by a random matrix of relative size δ.
* :func:`as_matrix` — the check of W, R, C, E and M that every function of the condition applies.

The space of all conservative decoders and the recovery of C and E are in
:mod:`conservae_lib.core.decoder_space`; the chapter's surveys, tables and figures in
:mod:`conservae_lib.chapters.sufficient_condition.survey`. Chapter: *When is an untied auto-encoder conservative?*
(``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .activations import get_activation
from .fields import circulation, jacobian
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "commuting_matrix", "sufficient_condition_decoder", "linear_family", "relu_region_family",
    "pointwise_family", "relu_region_points", "affine_energy", "perturbation_sweep",
    "commutation_residual", "Construction", "activation_pattern", "affine_energy_gradient_error", "as_matrix",
]


def as_matrix(name: str, A: Tensor, shape: tuple[int, int] | None = None, symmetric: bool = False) -> Tensor:
    """``A`` as a tensor, checked to be a matrix (of ``shape`` when given; symmetric to 1e-10
    relative when ``symmetric``), as eq. (8) needs its W, R, C and E.

    Raises ValueError with one sentence naming the matrix (``name``) and what is wrong with it.
    Used by the constructions here and by :mod:`conservae_lib.core.decoder_space`.
    """
    A = torch.as_tensor(A)
    if A.ndim != 2 or (shape is not None and tuple(A.shape) != shape):
        want = f"{shape[0]} × {shape[1]}" if shape else "2-D"
        raise ValueError(f"{name} must be a {want} matrix; got shape {tuple(A.shape)}.")
    if symmetric and not torch.allclose(A, A.T, rtol=1e-10, atol=1e-12 * max(float(A.abs().max()), 1e-300)):
        raise ValueError(f"{name} must be symmetric (eq. 8 asks for symmetric C and E).")
    return A


def commuting_matrix(M: Tensor, seed: int = 0, low: float = 0.5, high: float = 2.0, rtol: float = 1e-9) -> Tensor:
    """A random symmetric positive-definite C with C M = M C, for a symmetric matrix M.

    C commutes with M exactly when it maps every eigenspace of M into itself, so C is built as
    Σ_g U_g B_g U_gᵀ over the eigenspaces U_g of M (eigenvalues closer than ``rtol``·max|μ| are
    one space), each B_g a random symmetric matrix with eigenvalues in [low, high] (seeded).
    This is the freedom eq. (8) leaves in C.
    """
    M = as_matrix("M", M)
    if M.shape[0] != M.shape[1] or not torch.allclose(M, M.T, atol=1e-10 * max(float(M.abs().max()), 1e-300)):
        raise ValueError("M must be a symmetric square matrix.")
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low ≤ high; got low={low!r}, high={high!r}.")
    g = torch.Generator().manual_seed(int(seed))
    mu, U = torch.linalg.eigh(0.5 * (M + M.T))
    scale = max(float(mu.abs().max()), 1e-300)
    C = torch.zeros_like(M)
    start = 0
    n = len(mu)
    while start < n:
        stop = start + 1
        while stop < n and float(mu[stop] - mu[stop - 1]) <= rtol * scale:
            stop += 1
        Ug = U[:, start:stop]
        k = stop - start
        Q = torch.linalg.qr(torch.randn(k, k, generator=g, dtype=M.dtype))[0]
        vals = low + (high - low) * torch.rand(k, generator=g, dtype=M.dtype)
        C = C + Ug @ (Q * vals) @ Q.T @ Ug.T
        start = stop
    return 0.5 * (C + C.T)


def sufficient_condition_decoder(W: Tensor, C: Tensor, E: Tensor, d: Tensor | None = None) -> Tensor:
    """The decoder R = C W D E of eq. (8) with D = diag(d) a *fixed* diagonal (d = 1 by default).

    C (D × D) and E (H × H) must be symmetric. The Jacobian at a point x is then
    R D_h'(x) Wᵀ = C W D E D_h'(x) Wᵀ, which equals eq. (9)'s C W D E D Wᵀ only where
    D_h'(x) = D — the reason the chapter freezes D in one of three ways.
    """
    W = as_matrix("W", W)
    Dn, H = W.shape
    C = as_matrix("C", torch.as_tensor(C, dtype=W.dtype), (Dn, Dn), symmetric=True)
    E = as_matrix("E", torch.as_tensor(E, dtype=W.dtype), (H, H), symmetric=True)
    d = torch.ones(H, dtype=W.dtype) if d is None else torch.as_tensor(d, dtype=W.dtype).reshape(H)
    return C @ (W * d) @ E


def commutation_residual(C: Tensor, W: Tensor, E: Tensor, d: Tensor | None = None) -> float:
    """‖C M − M C‖_F / ‖C M‖_F with M = W D E D Wᵀ (eq. 8's side condition); 0 when they commute."""
    W = torch.as_tensor(W)
    d = torch.ones(W.shape[1], dtype=W.dtype) if d is None else torch.as_tensor(d, dtype=W.dtype)
    Wd = W * d
    M = Wd @ torch.as_tensor(E, dtype=W.dtype) @ Wd.T
    CM = torch.as_tensor(C, dtype=W.dtype) @ M
    return float((CM - M @ C).norm() / CM.norm().clamp_min(1e-300))


@dataclass
class Construction:
    """A conservative untied model built from eq. (8): the model, its C, E and frozen diagonal d."""

    model: AutoEncoder
    C: Tensor
    E: Tensor
    d: Tensor
    family: str


def _random_symmetric(H: int, g: torch.Generator, dtype: torch.dtype) -> Tensor:
    A = torch.randn(H, H, generator=g, dtype=dtype) / H**0.5
    return 0.5 * (A + A.T) + torch.eye(H, dtype=dtype)


def linear_family(
    W: Tensor, E: Tensor | None = None, C: Tensor | None = None, b: Tensor | None = None,
    c: Tensor | None = None, seed: int = 0,
) -> Construction:
    """Linear h (D_h' = I for every x): R = C W E with C, E symmetric and C commuting with W E Wᵀ.

    Conservative on all of ℝ^D, with the quadratic energy of :func:`affine_energy`.
    ``E=None`` draws a random symmetric E, ``C=None`` a random C commuting with W E Wᵀ.
    """
    W = as_matrix("W", W)
    g = torch.Generator().manual_seed(int(seed))
    E = _random_symmetric(W.shape[1], g, W.dtype) if E is None else torch.as_tensor(E, dtype=W.dtype)
    d = torch.ones(W.shape[1], dtype=W.dtype)
    C = commuting_matrix(W @ E @ W.T, seed=seed + 1) if C is None else torch.as_tensor(C, dtype=W.dtype)
    R = sufficient_condition_decoder(W, C, E)
    return Construction(AutoEncoder.from_weights(W, R, b, c, "linear"), C, E, d, "linear h")


def relu_region_family(
    W: Tensor, b: Tensor, x0: Tensor, E: Tensor | None = None, C: Tensor | None = None,
    c: Tensor | None = None, seed: int = 0,
) -> Construction:
    """ReLU h on the region K_s of inputs whose activation pattern s equals that of x₀.

    On K_s (a convex polyhedron, hence simply connected) D_h' = D_s = diag(s) is constant, so
    R = C W D_s E + Z (I − D_s) with C commuting with W D_s E D_s Wᵀ gives the symmetric Jacobian
    C W D_s E D_s Wᵀ there; the columns Z of the inactive units are free (random here) because
    they never enter the Jacobian on K_s. Outside K_s the model is in general not conservative.
    """
    W = as_matrix("W", W)
    b = torch.as_tensor(b, dtype=W.dtype).reshape(W.shape[1])
    x0 = torch.as_tensor(x0, dtype=W.dtype).reshape(1, W.shape[0])
    g = torch.Generator().manual_seed(int(seed))
    s = ((x0 @ W + b) > 0).to(W.dtype).reshape(-1)
    E = _random_symmetric(W.shape[1], g, W.dtype) if E is None else torch.as_tensor(E, dtype=W.dtype)
    Ws = W * s
    C = commuting_matrix(Ws @ E @ Ws.T, seed=seed + 1) if C is None else torch.as_tensor(C, dtype=W.dtype)
    Z = torch.randn(W.shape, generator=g, dtype=W.dtype) * W.abs().mean()
    R = sufficient_condition_decoder(W, C, E, s) + Z * (1 - s)
    return Construction(AutoEncoder.from_weights(W, R, b, c, "relu"), C, E, s, "ReLU, one activation region")


def pointwise_family(
    W: Tensor, b: Tensor, x0: Tensor, activation: str = "sigmoid", E: Tensor | None = None,
    C: Tensor | None = None, c: Tensor | None = None, seed: int = 0,
) -> Construction:
    """The literal reading of eq. (8) for a smooth nonlinear h: D_h' frozen at one point x₀.

    R = C W D₀ E with D₀ = D_h'(x₀) and C commuting with W D₀ E D₀ Wᵀ: the Jacobian is
    symmetric *at x₀* (eq. 9 with D_h' = D₀) and, in general, nowhere else.
    """
    W = as_matrix("W", W)
    b = torch.as_tensor(b, dtype=W.dtype).reshape(W.shape[1])
    x0 = torch.as_tensor(x0, dtype=W.dtype).reshape(1, W.shape[0])
    act = get_activation(activation)
    g = torch.Generator().manual_seed(int(seed))
    d0 = act.derivative(x0 @ W + b).reshape(-1)
    E = _random_symmetric(W.shape[1], g, W.dtype) if E is None else torch.as_tensor(E, dtype=W.dtype)
    Wd = W * d0
    C = commuting_matrix(Wd @ E @ Wd.T, seed=seed + 1) if C is None else torch.as_tensor(C, dtype=W.dtype)
    R = sufficient_condition_decoder(W, C, E, d0)
    return Construction(AutoEncoder.from_weights(W, R, b, c, act), C, E, d0, f"{act.name}, D_h' frozen at x₀")


def activation_pattern(model: AutoEncoder, x: Tensor) -> Tensor:
    """Which units are active (u > 0) at each point, N × H booleans (the ReLU region of x)."""
    return model.preactivation(x) > 0


def relu_region_points(model: AutoEncoder, x0: Tensor, n: int, radius: float, seed: int = 0) -> Tensor:
    """``n`` random points within ``radius`` of x₀ sharing x₀'s ReLU activation pattern.

    Rejection sampling in the ball; raises if fewer than ``n`` of 200·n draws stay in the region
    (choose a smaller radius).
    """
    x0 = torch.as_tensor(x0, dtype=model.W.dtype).reshape(1, -1)
    g = torch.Generator().manual_seed(int(seed))
    Dn = x0.shape[1]
    m = 200 * n
    v = torch.randn(m, Dn, generator=g, dtype=x0.dtype)
    v = v / v.norm(dim=1, keepdim=True) * radius * torch.rand(m, 1, generator=g, dtype=x0.dtype) ** (1 / Dn)
    pts = x0 + v
    with torch.no_grad():
        same = (activation_pattern(model, pts) == activation_pattern(model, x0)).all(dim=1)
    pts = pts[same]
    if len(pts) < n:
        raise ValueError(f"only {len(pts)} of {m} points within radius {radius} share x₀'s activation pattern; use a smaller radius.")
    return pts[:n]


def affine_energy(model: AutoEncoder, x: Tensor, pattern: Tensor | None = None) -> Tensor:
    """F(x) = ½ xᵀ(R D_s Wᵀ − I)x + (R D_s b + c)ᵀx where h is affine with slope pattern s.

    For linear h (``pattern=None``: s = 1) on all of ℝ^D, and for ReLU on the region K_s with
    ``pattern`` = s: there r(x) = R D_s (Wᵀx + b) + c, so ∇F = r(x) − x exactly when R D_s Wᵀ is
    symmetric (eq. 7 with constant D_h'). Chapter: *When is an untied auto-encoder conservative?*
    """
    W, R = model.W, model.R
    s = torch.ones(model.H, dtype=W.dtype) if pattern is None else torch.as_tensor(pattern, dtype=W.dtype).reshape(-1)
    if model.activation.name not in ("linear", "relu"):
        raise ValueError(f"affine_energy needs a linear or ReLU model; this one is {model.activation.name}.")
    A = (R * s) @ W.T - torch.eye(model.D, dtype=W.dtype)
    lin = (R * s) @ model.b + model.c
    return 0.5 * ((x @ A) * x).sum(dim=1) + x @ lin


# ----------------------------------------------------------------- perturbations
def perturbation_sweep(
    model: AutoEncoder, x: Tensor, sizes: list[float], seed: int = 0, n_loops: int = 16, radius: float = 0.5,
) -> list[dict[str, float]]:
    """Symmetricity and circulation after R → R + δ ‖R‖_F N for each δ in ``sizes``.

    N is one random direction with ‖N‖_F = 1 (seeded), the same for every δ. For a conservative
    model 1 − sym(∂r/∂x) grows like δ² and the relative circulation like δ. The asymmetry is
    computed from explicit D × D Jacobians as ‖(J − Jᵀ)/2‖²_F / ‖J‖²_F, which keeps its relative
    precision for tiny δ (1 − sym computed as a difference would stop at rounding level).
    """
    g = torch.Generator().manual_seed(int(seed))
    W, R = model.W.detach(), model.R.detach()
    N = torch.randn(R.shape, generator=g, dtype=R.dtype)
    N = N / N.norm()
    rows = []
    for delta in sizes:
        m = AutoEncoder.from_weights(W, R + float(delta) * R.norm() * N, model.b.detach(), model.c.detach(), model.activation)
        with torch.no_grad():
            # ‖(J − Jᵀ)/2‖²/‖J‖² = 1 − sym(J), formed directly: exact even far below 1e-16.
            J = jacobian(m, x)
            asym = ((0.5 * (J - J.transpose(1, 2))) ** 2).sum(dim=(1, 2)) / (J**2).sum(dim=(1, 2)).clamp_min(1e-300)
            circ = circulation(m, x[:n_loops], radius=radius, seed=seed, relative=True)
        rows.append({"delta": float(delta), "asym_mean": float(asym.mean()), "asym_max": float(asym.max()),
                     "circulation_mean": float(circ.mean())})
    return rows


def affine_energy_gradient_error(model: AutoEncoder, x: Tensor, pattern: Tensor | None = None) -> float:
    """max |∇F − (r − x)| / max |r − x| over the points for F = :func:`affine_energy` (autograd)."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(affine_energy(model, x, pattern).sum(), x)
    with torch.no_grad():
        f = model.field(x)
        return float((grad - f).abs().max() / f.abs().max().clamp_min(1e-300))
