"""The sufficient condition R = C W D_h' E (eq. 8–9): constructions, the space of conservative
decoders, recovering C and E, and perturbations.

* :func:`sufficient_condition_decoder`, :func:`commuting_matrix` and the family constructors
  :func:`linear_family`, :func:`relu_region_family`, :func:`pointwise_family` — decoders of the
  sufficient condition with D_h' frozen in the three ways that make sense (constant h', a fixed
  ReLU activation pattern, one point x₀).
* :func:`conservative_decoder_space` — every decoder R that makes r conservative at a set of
  points, as a linear subspace (its dimension classifies the families), and
  :func:`expected_decoder_dimension`, the dimensions derived in the chapter.
* :func:`affine_energy` — the quadratic energy of a model whose h is affine on the region
  (linear h, or ReLU with a fixed activation pattern).
* :func:`recover_CE` — recover symmetric C, E with R = C W D E from W and R (the paper's
  supplementary §1.2, which we derive anew), with the dimension of the solution set.
* :func:`perturbation_sweep` — symmetricity and circulation of a conservative model whose
  decoder is perturbed by a random matrix of relative size δ.

Chapter: *When is an untied auto-encoder conservative?* (``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field as _dc_field

import torch

from .activations import Activation, get_activation
from .conditions import check_conservative, scaled_tied
from .fields import circulation, jacobian, jacobian_symmetricity
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "commuting_matrix", "sufficient_condition_decoder", "linear_family", "relu_region_family",
    "pointwise_family", "relu_region_points", "affine_energy", "DecoderSpace", "conservative_decoder_space",
    "expected_decoder_dimension", "CERecovery", "recover_CE", "perturbation_sweep", "plot_perturbation",
    "commutation_residual", "Construction", "activation_pattern", "affine_energy_gradient_error",
    "family_examples", "family_survey", "family_table", "dimension_survey", "recovery_survey", "distance_profile",
]


def _as_matrix(name: str, A: Tensor, shape: tuple[int, int] | None = None, symmetric: bool = False) -> Tensor:
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
    M = _as_matrix("M", M)
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
    W = _as_matrix("W", W)
    Dn, H = W.shape
    C = _as_matrix("C", torch.as_tensor(C, dtype=W.dtype), (Dn, Dn), symmetric=True)
    E = _as_matrix("E", torch.as_tensor(E, dtype=W.dtype), (H, H), symmetric=True)
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
    W = _as_matrix("W", W)
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
    W = _as_matrix("W", W)
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
    W = _as_matrix("W", W)
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


# ----------------------------------------------------------------- the space of decoders
def _antisym_operator(W: Tensor, dprime: Tensor) -> Tensor:
    """Matrix of the linear map vec(R) ↦ [upper-triangular entries of R D_n Wᵀ − W D_n Rᵀ]_n."""
    Dn, H = W.shape
    eye = torch.eye(Dn, dtype=W.dtype)
    # T[n, a, b, i, j] = d[n, j] (δ_ai W_bj − δ_bi W_aj)
    T = dprime[:, None, None, None, :] * (
        eye[None, :, None, :, None] * W[None, None, :, None, :] - eye[None, None, :, :, None] * W[None, :, None, None, :]
    )
    iu = torch.triu_indices(Dn, Dn, offset=1)
    return T[:, iu[0], iu[1]].reshape(-1, Dn * H)


@dataclass
class DecoderSpace:
    """The decoders R that make r(x) = R h(Wᵀx + b) + c conservative at the given points.

    ``dim`` — dimension of that linear subspace of ℝ^{D×H}; ``basis`` — dim × D × H, orthonormal
    in the Frobenius inner product; ``singular_values`` — of the constraint operator, so the gap
    between the last kept and first dropped value can be read off.
    """

    dim: int
    basis: Tensor
    singular_values: Tensor

    def contains(self, R: Tensor) -> float:
        """Relative distance of R from the subspace (0 when R is one of these decoders)."""
        r = torch.as_tensor(R, dtype=self.basis.dtype).reshape(-1)
        B = self.basis.reshape(self.dim, -1)
        return float((r - B.T @ (B @ r)).norm() / r.norm().clamp_min(1e-300))


def conservative_decoder_space(
    W: Tensor, b: Tensor, activation: str | Activation, x: Tensor, rtol: float = 1e-8,
) -> DecoderSpace:
    """All R with R D_h'(x_n) Wᵀ symmetric at every point x_n (eq. 7 at each point), by SVD.

    The condition is linear in R, so the conservative decoders for a fixed encoder form a
    subspace; its dimension tells the families apart (see :func:`expected_decoder_dimension`).
    Costs O(N D² · D H · min): meant for small D and H (a few dozen at most).
    """
    W = _as_matrix("W", W)
    b = torch.as_tensor(b, dtype=W.dtype).reshape(W.shape[1])
    x = torch.as_tensor(x, dtype=W.dtype)
    if x.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(f"points must be an N × {W.shape[0]} batch; got shape {tuple(x.shape)}.")
    act = get_activation(activation)
    dprime = act.derivative(x @ W + b)
    A = _antisym_operator(W, dprime)
    _, S, Vh = torch.linalg.svd(A, full_matrices=A.shape[0] < A.shape[1])
    rank = int((S > rtol * S[0]).sum()) if len(S) and S[0] > 0 else 0
    basis = Vh[rank:].reshape(-1, *W.shape)
    return DecoderSpace(dim=basis.shape[0], basis=basis, singular_values=S)


def _linear_dim(D: int, m: int) -> int:
    return m * (m + 1) // 2 if m <= D else D * (D + 1) // 2 + D * (m - D)


def expected_decoder_dimension(D: int, H: int, family: str, active: int | None = None) -> int:
    """Dimension of the conservative decoders for a generic full-rank encoder W (D × H).

    * ``"nonlinear"`` — smooth h whose h'-ridge functions are linearly independent (sigmoid,
      tanh, softplus with distinct units), or ReLU over a domain crossing every unit's hyperplane:
      H, the decoders R = W diag(λ).
    * ``"linear"`` — R Wᵀ symmetric: H(H+1)/2 (R = W S, S symmetric) if H ≤ D, else
      D(D+1)/2 + D(H − D).
    * ``"relu_region"`` — one ReLU activation region with ``active`` = m units on: the linear
      count for the m active columns plus D(H − m) free inactive columns.
    Derived in the chapter *When is an untied auto-encoder conservative?*.
    """
    if family == "nonlinear":
        return H
    if family == "linear":
        return _linear_dim(D, H)
    if family == "relu_region":
        if active is None or not 0 <= active <= H:
            raise ValueError(f"relu_region needs 0 ≤ active ≤ H = {H}; got {active!r}.")
        return _linear_dim(D, active) + D * (H - active)
    raise ValueError(f"family must be one of nonlinear, linear, relu_region; got {family!r}.")


# ----------------------------------------------------------------- recovering C and E
def _sym_basis(n: int, dtype: torch.dtype) -> Tensor:
    """Orthonormal basis (Frobenius) of symmetric n × n matrices, n(n+1)/2 × n × n."""
    iu = torch.triu_indices(n, n)
    B = torch.zeros(iu.shape[1], n, n, dtype=dtype)
    k = torch.arange(iu.shape[1])
    diag = iu[0] == iu[1]
    B[k, iu[0], iu[1]] = torch.where(diag, 1.0, 2**-0.5).to(dtype)
    B[k, iu[1], iu[0]] = torch.where(diag, 1.0, 2**-0.5).to(dtype)
    return B


@dataclass
class CERecovery:
    """Result of :func:`recover_CE`.

    ``C``, ``E`` — one solution (None where the method fails, see ``message``); ``null_dim`` —
    dimension of the solution set {(G, E): G R = W D E, G, E symmetric} (1 means unique up to the
    scale (C, E) ~ (αC, E/α)); ``residual`` = ‖R − C W D E‖/‖R‖; ``commutator`` =
    ‖CM − MC‖/‖CM‖ with M = W D E D Wᵀ (eq. 8's side condition: 0 ⇒ the Jacobian is symmetric).
    """

    C: Tensor | None
    E: Tensor | None
    null_dim: int
    residual: float
    commutator: float
    message: str
    null_G: Tensor = _dc_field(repr=False, default=None)
    null_E: Tensor = _dc_field(repr=False, default=None)

    def contains(self, C: Tensor, E: Tensor) -> float:
        """Relative distance of (C⁻¹, E) from the solution set: 0 when a known pair is a solution."""
        G = torch.linalg.inv(torch.as_tensor(C, dtype=self.null_G.dtype))
        z = torch.cat([G.reshape(-1), torch.as_tensor(E, dtype=G.dtype).reshape(-1)])
        N = torch.cat([self.null_G.reshape(self.null_dim, -1), self.null_E.reshape(self.null_dim, -1)], dim=1)
        if self.null_dim == 0:
            return 1.0
        Q = torch.linalg.qr(N.T)[0]
        return float((z - Q @ (Q.T @ z)).norm() / z.norm())


def recover_CE(W: Tensor, R: Tensor, d: Tensor | None = None, rtol: float = 1e-9) -> CERecovery:
    """Find symmetric C, E with R = C W D E (eq. 8, D = diag(d) fixed, 1 by default) from W and R.

    Method (derived in the chapter): for invertible C put G = C⁻¹. Then R = C W D E becomes
    G R − W D E = 0, which is *linear* in the pair (G, E) of symmetric matrices. Its solutions
    form the null space of a DH × (D(D+1)/2 + H(H+1)/2) matrix, found by SVD. The member whose
    G is closest to the identity (the projection of (I, 0) on the null space) is returned, scaled
    so that tr C = D. Fails (C = None) when the null space is trivial (no decomposition) or its G
    is singular (C not invertible, which the substitution cannot represent).
    """
    W = _as_matrix("W", W)
    Dn, H = W.shape
    R = _as_matrix("R", torch.as_tensor(R, dtype=W.dtype), (Dn, H))
    d = torch.ones(H, dtype=W.dtype) if d is None else torch.as_tensor(d, dtype=W.dtype).reshape(H)
    BG, BE = _sym_basis(Dn, W.dtype), _sym_basis(H, W.dtype)
    Wd = W * d
    cols = torch.cat([(BG @ R).reshape(len(BG), -1), -(Wd @ BE).reshape(len(BE), -1)], dim=0).T
    _, S, Vh = torch.linalg.svd(cols, full_matrices=True)
    rank = int((S > rtol * S[0]).sum())
    null = Vh[rank:]
    k = null.shape[0]
    null_G = torch.einsum("kp,pij->kij", null[:, : len(BG)], BG)
    null_E = torch.einsum("kp,pij->kij", null[:, len(BG):], BE)
    if k == 0:
        return CERecovery(None, None, 0, float("nan"), float("nan"), "no symmetric C, E satisfy R = C W D E", null_G, null_E)
    t = torch.zeros(cols.shape[1], dtype=W.dtype)
    t[: len(BG)] = torch.einsum("pii->p", BG)  # coordinates of the identity
    coef = null @ t
    z = null.T @ coef if float(coef.norm()) > 1e-12 else null[0]
    G = torch.einsum("p,pij->ij", z[: len(BG)], BG)
    E = torch.einsum("p,pij->ij", z[len(BG):], BE)
    if float(torch.linalg.cond(G)) > 1e12:
        return CERecovery(None, None, k, float("nan"), float("nan"), "the solution's G = C⁻¹ is singular", null_G, null_E)
    C = torch.linalg.inv(G)
    alpha = float(torch.trace(C)) / Dn
    C, E = C / alpha, E * alpha
    C = 0.5 * (C + C.T)
    residual = float((R - C @ Wd @ E).norm() / R.norm().clamp_min(1e-300))
    return CERecovery(C, E, k, residual, commutation_residual(C, W, E, d), "ok", null_G, null_E)


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


def plot_perturbation(ax, rows_by_model: dict[str, list[dict[str, float]]], key: str = "asym_mean", slope: int = 2):
    """Log–log plot of ``key`` against δ for each model, with a reference line of the given slope."""
    import numpy as np

    for name, rows in rows_by_model.items():
        dl = np.array([r["delta"] for r in rows])
        vals = np.array([r[key] for r in rows], dtype=float)
        ax.loglog(dl, np.where(vals > 0, vals, np.nan), "o-", ms=3, label=name)
    first = next(iter(rows_by_model.values()))
    dl = np.array([r["delta"] for r in first])
    ref = np.median([r[key] for r in first]) * (dl / np.median(dl)) ** slope
    ax.loglog(dl, ref, "k:", lw=1, label=f"slope {slope}")
    ax.set_xlabel("relative size δ of the perturbation of R")
    ax.legend(fontsize=7)
    return ax


def affine_energy_gradient_error(model: AutoEncoder, x: Tensor, pattern: Tensor | None = None) -> float:
    """max |∇F − (r − x)| / max |r − x| over the points for F = :func:`affine_energy` (autograd)."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(affine_energy(model, x, pattern).sum(), x)
    with torch.no_grad():
        f = model.field(x)
        return float((grad - f).abs().max() / f.abs().max().clamp_min(1e-300))


# ----------------------------------------------------------------- what the chapter shows
def family_examples(D: int, H: int, seed: int = 0, n_points: int = 64) -> dict[str, dict[str, object]]:
    """One constructed model per family of eq. (8), with points inside and outside its domain.

    Each entry: ``construction`` (:class:`Construction`), ``inside`` (points of the domain where
    theory says the field is conservative), ``outside`` (points elsewhere, or None when the
    domain is all of ℝ^D), ``loop_radius`` (small enough for loops to stay inside), ``energy``
    (``"closed"`` for eq. 3 with λ, ``"affine"`` for :func:`affine_energy`, None).
    All float64, seeded. Chapter: *When is an untied auto-encoder conservative?*
    """
    from .models import glorot

    dt = torch.float64
    g = torch.Generator().manual_seed(int(seed))
    W = 2 * glorot(D, H, g, dt)
    b = 0.5 * torch.randn(H, generator=g, dtype=dt)
    c = 0.1 * torch.randn(D, generator=g, dtype=dt)
    everywhere = torch.randn(n_points, D, generator=g, dtype=dt)
    far = 2 * torch.randn(n_points, D, generator=g, dtype=dt)
    out: dict[str, dict[str, object]] = {}
    lam = 0.5 + 1.5 * torch.rand(H, generator=g, dtype=dt)
    for act in ("sigmoid", "relu"):
        m = scaled_tied(W, lam, b, c, act)
        out[f"R = W diag(λ), {act}"] = dict(construction=Construction(m, torch.eye(D, dtype=dt), torch.diag(lam), torch.ones(H, dtype=dt), "every x, every h"),
                                             inside=everywhere, outside=None, loop_radius=0.5, energy="closed")
    lin = linear_family(W, b=b, c=c, seed=seed + 1)
    out["R = C W E, linear h"] = dict(construction=lin, inside=everywhere, outside=None, loop_radius=0.5, energy="affine")
    # ReLU region around x0 = 0: biases of size ≥ 0.5 keep the ball of radius min|b_k|/‖w_k‖ inside one region.
    b_relu = torch.sign(torch.randn(H, generator=g, dtype=dt)) * (0.5 + torch.rand(H, generator=g, dtype=dt))
    x0 = torch.zeros(1, D, dtype=dt)
    reg = relu_region_family(W, b_relu, x0, c=c, seed=seed + 2)
    inradius = float((b_relu.abs() / W.norm(dim=0)).min())
    inside = relu_region_points(reg.model, x0, n_points, radius=0.9 * inradius, seed=seed + 3)
    out["R = C W D_s E + Z(I − D_s), ReLU region"] = dict(construction=reg, inside=inside, outside=far,
                                                           loop_radius=0.05 * inradius, energy="affine")
    xp = 0.5 * torch.randn(1, D, generator=g, dtype=dt)
    pw = pointwise_family(W, b, xp, "sigmoid", c=c, seed=seed + 4)
    out["R = C W D_h'(x₀) E, sigmoid"] = dict(construction=pw, inside=xp, outside=everywhere, loop_radius=None, energy=None)
    return out


def family_survey(examples: dict[str, dict[str, object]], n_loops: int = 16, seed: int = 0) -> list[dict[str, object]]:
    """Measure each family's model inside and outside its domain (raw numbers, one dict each)."""
    from .energy import potential_gradient_error

    rows = []
    for name, ex in examples.items():
        con: Construction = ex["construction"]  # type: ignore[assignment]
        m = con.model
        inside: Tensor = ex["inside"]  # type: ignore[assignment]
        row: dict[str, object] = {"family": name, "valid": con.family, "n_inside": len(inside)}
        with torch.no_grad():
            asym_in = 1 - jacobian_symmetricity(m, inside)
        row["asym_inside_max"] = float(asym_in.max())
        row["commutator"] = commutation_residual(con.C, m.W.detach(), con.E, con.d)
        if ex["loop_radius"] is not None and len(inside) > 1:
            chk = check_conservative(m, inside, radius=float(ex["loop_radius"]), n_loops=n_loops, seed=seed)
            row["circulation_max"] = chk["circulation_max"]
            row["path_dependence_max"] = chk["path_dependence_max"]
        else:
            row["circulation_max"] = row["path_dependence_max"] = None
        if ex["energy"] == "closed":
            row["energy_error"] = potential_gradient_error(m, inside)
        elif ex["energy"] == "affine":
            pattern = None if m.activation.name == "linear" else con.d
            row["energy_error"] = affine_energy_gradient_error(m, inside, pattern)
        else:
            row["energy_error"] = None
        outside = ex["outside"]
        if outside is not None:
            with torch.no_grad():
                row["asym_outside_mean"] = float((1 - jacobian_symmetricity(m, outside)).mean())
        else:
            row["asym_outside_mean"] = None
        rows.append(row)
    return rows


def family_table(rows: list[dict[str, object]]):
    """:func:`family_survey` as a table of formatted strings (stable across re-runs)."""
    from .report import fmt_small, frame

    def small(v):
        return "—" if v is None else fmt_small(v, floor=1e-12)

    return frame([{
        "family": r["family"], "conservative where": r["valid"],
        "max 1 − sym (domain)": small(r["asym_inside_max"]),
        "max rel. circulation": small(r["circulation_max"]),
        "max path dependence": small(r["path_dependence_max"]),
        "‖∇F − (r − x)‖ rel.": small(r["energy_error"]),
        "‖[C, W D E D Wᵀ]‖ rel.": small(r["commutator"]),
        "mean 1 − sym (elsewhere)": small(r["asym_outside_mean"]),
    } for r in rows], index="family")


def distance_profile(construction: Construction, x0: Tensor, distances: list[float], n_dirs: int = 16, seed: int = 0) -> list[dict[str, float]]:
    """Mean 1 − sym(∂r/∂x) at points x₀ + t·u for random unit u, for each distance t."""
    g = torch.Generator().manual_seed(int(seed))
    x0 = torch.as_tensor(x0, dtype=construction.model.W.dtype).reshape(1, -1)
    u = torch.randn(n_dirs, x0.shape[1], generator=g, dtype=x0.dtype)
    u = u / u.norm(dim=1, keepdim=True)
    rows = []
    with torch.no_grad():
        for t in distances:
            a = 1 - jacobian_symmetricity(construction.model, x0 + float(t) * u)
            rows.append({"distance": float(t), "asym_mean": float(a.mean())})
    return rows


def dimension_survey(shapes: list[tuple[int, int]], n_points: int = 64, seed: int = 0) -> list[dict[str, object]]:
    """Measured dimension of the conservative decoders (:func:`conservative_decoder_space`) next to
    :func:`expected_decoder_dimension`, for several activations, domains and shapes (D, H)."""
    from .models import glorot

    dt = torch.float64
    rows = []
    for k, (D, H) in enumerate(shapes):
        g = torch.Generator().manual_seed(int(seed) + 100 * k)
        W = 2 * glorot(D, H, g, dt)
        b = 0.5 * torch.randn(H, generator=g, dtype=dt)
        x = 2 * torch.randn(n_points, D, generator=g, dtype=dt)
        b_relu = torch.sign(torch.randn(H, generator=g, dtype=dt)) * (0.5 + torch.rand(H, generator=g, dtype=dt))
        probe = AutoEncoder.from_weights(W, W, b_relu, None, "relu")
        inradius = float((b_relu.abs() / W.norm(dim=0)).min())
        x_region = relu_region_points(probe, torch.zeros(1, D, dtype=dt), n_points, radius=0.9 * inradius, seed=seed + k)
        m_active = int((b_relu > 0).sum())
        cases = [("sigmoid", "ℝ^D", b, x, "nonlinear", None), ("tanh", "ℝ^D", b, x, "nonlinear", None),
                 ("softplus", "ℝ^D", b, x, "nonlinear", None), ("relu", "ℝ^D", b, x, "nonlinear", None),
                 ("relu", f"one region ({m_active} of {H} units on)", b_relu, x_region, "relu_region", m_active),
                 ("linear", "ℝ^D", b, x, "linear", None)]
        for act, domain, bb, pts, fam, m in cases:
            sp = conservative_decoder_space(W, bb, act, pts)
            S = sp.singular_values / sp.singular_values[0]
            rank = len(S) - sp.dim if len(S) >= W.numel() else W.numel() - sp.dim
            rows.append({"D": D, "H": H, "activation": act, "domain": domain, "measured": sp.dim,
                         "expected": expected_decoder_dimension(D, H, fam, m),
                         "smallest_kept": float(S[rank - 1]) if rank > 0 else None,
                         "largest_dropped": float(S[rank]) if rank < len(S) else 0.0})
    return rows


def recovery_survey(D: int, H: int, n_recover: int = 5, seed: int = 0) -> list[dict[str, object]]:
    """:func:`recover_CE` on models built from known (C, E), and on random untied models.

    Per case and over ``n_recover`` random draws: the dimensions of the solution set seen, the
    largest relative residual ‖R − C W D E‖/‖R‖, the largest distance of the *known* (C⁻¹, E)
    from the solution set, and the largest (or, for random models, smallest) commutator.
    """
    from .models import glorot

    dt = torch.float64
    cases: dict[str, list[dict[str, float]]] = {}

    conservative: dict[str, bool] = {}

    def add(name: str, rec: CERecovery, known: tuple[Tensor, Tensor] | None, cons: bool = True) -> None:
        conservative[name] = cons
        cases.setdefault(name, []).append({
            "null_dim": rec.null_dim, "ok": rec.message == "ok", "residual": rec.residual,
            "known": rec.contains(*known) if known is not None and rec.null_dim else None,
            "commutator": rec.commutator,
        })

    for i in range(n_recover):
        g = torch.Generator().manual_seed(int(seed) + 1000 + i)
        for (Dn, Hn) in ((D, H), (H, D)):
            W = 2 * glorot(Dn, Hn, g, dt)
            lin = linear_family(W, seed=seed + i)
            add(f"linear h, C W E  (D={Dn}, H={Hn})", recover_CE(W, lin.model.R.detach()), (lin.C, lin.E))
        W = 2 * glorot(D, H, g, dt)
        b = 0.5 * torch.randn(H, generator=g, dtype=dt)
        lam = 0.5 + 1.5 * torch.rand(H, generator=g, dtype=dt)
        add(f"R = W diag(λ)  (D={D}, H={H})", recover_CE(W, W * lam), (torch.eye(D, dtype=dt), torch.diag(lam)))
        xp = 0.5 * torch.randn(1, D, generator=g, dtype=dt)
        pw = pointwise_family(W, b, xp, "sigmoid", seed=seed + i)
        add(f"sigmoid, D_h'(x₀) frozen  (D={D}, H={H})", recover_CE(W, pw.model.R.detach(), pw.d), (pw.C, pw.E))
        b_relu = torch.sign(torch.randn(H, generator=g, dtype=dt)) * (0.5 + torch.rand(H, generator=g, dtype=dt))
        reg = relu_region_family(W, b_relu, torch.zeros(1, D, dtype=dt), seed=seed + i)
        on = reg.d > 0
        if int(on.sum()) > 0:
            add("ReLU region, active columns", recover_CE(W[:, on], reg.model.R.detach()[:, on]),
                (reg.C, reg.E[on][:, on]))
        # A singular C (rank D − 2) that commutes with W E Wᵀ: G = C⁻¹ does not exist.
        A = torch.randn(H, H, generator=g, dtype=dt)
        Es = A + A.T
        _, U = torch.linalg.eigh(W @ Es @ W.T)
        Cs = U[:, 2:] @ torch.diag(0.5 + torch.rand(D - 2, generator=g, dtype=dt)) @ U[:, 2:].T
        add(f"singular C, linear h  (D={D}, H={H})", recover_CE(W, Cs @ W @ Es), None)
        for (Dn, Hn) in ((D, D), (D, H)):
            Wr = torch.randn(Dn, Hn, generator=g, dtype=dt)
            Rr = torch.randn(Dn, Hn, generator=g, dtype=dt)
            add(f"random untied  (D={Dn}, H={Hn})", recover_CE(Wr, Rr), None, cons=False)
    rows = []
    for name, recs in cases.items():
        ok = [r for r in recs if r["ok"]]
        known = [r["known"] for r in recs if r["known"] is not None]
        comm = [r["commutator"] for r in ok]
        rows.append({
            "case": name, "conservative": conservative[name], "n": len(recs), "n_ok": len(ok),
            "null_dims": sorted({int(r["null_dim"]) for r in recs}),
            "residual_max": max((r["residual"] for r in ok), default=None),
            "known_max": max(known) if known else None,
            "commutator_max": max(comm) if comm else None,
            "commutator_min": min(comm) if comm else None,
        })
    return rows
