"""Every conservative decoder, and C and E recovered from a decoder (the sufficient condition, eq. 8–9).

* :func:`conservative_decoder_space` — every decoder R that makes r conservative at a set of
  points, as a linear subspace (its dimension classifies the families of
  :mod:`conservae_lib.core.sufficient`), and :func:`expected_decoder_dimension`, the dimensions derived in
  the chapter.
* :func:`recover_CE` — recover symmetric C, E with R = C W D E from W and R (the paper's
  supplementary §1.2, which we derive anew), with the dimension of the solution set, and
  :func:`generic_solution_dimension`, that dimension for a generic (W, R).

Chapter: *When is an untied auto-encoder conservative?* (``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field as _dc_field

import torch

from .activations import Activation, get_activation
from .sufficient import as_matrix, commutation_residual

Tensor = torch.Tensor

__all__ = ["DecoderSpace", "conservative_decoder_space", "expected_decoder_dimension", "CERecovery", "recover_CE",
           "generic_solution_dimension"]


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
    W = as_matrix("W", W)
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


def generic_solution_dimension(D: int, H: int) -> int:
    """Dimension ((D − H)² + D + H)/2 of the solution set {(G, E): G R = W D E, G, E symmetric} when
    the map (G, E) ↦ G R − W D E has full rank D H, the generic case: D(D+1)/2 + H(H+1)/2 unknowns
    less D H equations (derived in the chapter, *What the recovery can and cannot tell*)."""
    return ((D - H) ** 2 + D + H) // 2


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
    W = as_matrix("W", W)
    Dn, H = W.shape
    R = as_matrix("R", torch.as_tensor(R, dtype=W.dtype), (Dn, H))
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
