"""Conditions for conservativeness and a test for any model (Propositions 1–2).

* :func:`check_conservative` — the measurements of Propositions 1–2 on a set of points for any
  model: symmetricity of ∂r/∂x, relative circulation around small loops, and path dependence
  of the line integral.
* :func:`scaled_tied` — the untied but conservative decoder R = W diag(λ) (sufficient condition
  of eq. 8 with C = I and a diagonal E that commutes with D_h'): conservative for every h.
* :func:`symmetric_mixing` — R = W S with S symmetric: conservative for linear h (R Wᵀ = W S Wᵀ
  is symmetric, eq. 7 with D_h' = I) but in general not for a nonlinear h, which shows that the
  condition depends on the activation function.
* :func:`proposition_examples` — the models of chapter *Conservative auto-encoders* (measured there
  by :func:`conservae_lib.chapters.conservative_autoencoders.propositions.survey`).

The families of the sufficient condition R = C W D_h' E (eq. 8–9) live in
:mod:`conservae_lib.core.sufficient`. Chapter: *Conservative auto-encoders*.
"""
from __future__ import annotations

import torch

from .activations import Activation
from .energy import line_potential, path_dependence
from .fields import FieldLike, circulation, jacobian_symmetricity
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = ["check_conservative", "scaled_tied", "symmetric_mixing", "proposition_examples"]


def check_conservative(
    model: FieldLike, x: Tensor, radius: float = 0.5, n_loops: int | None = None, seed: int = 0,
    n_nodes: int = 64,
) -> dict[str, float]:
    """Measure how conservative a model (or any field) is around the points ``x`` (N × D).

    Returns a dict of floats:

    * ``sym_mean``, ``asym_max`` — mean of sym(∂r/∂x) and max of 1 − sym over the points where
      ∂r/∂x ≠ 0 (sym is 0/0, NaN, where the Jacobian vanishes — a dead ReLU point: such points are
      left out, as chapter 04 does; both are NaN when every point is);
    * ``circulation_mean``, ``circulation_max`` — mean and largest relative circulation (see
      :func:`~conservae_lib.core.fields.circulation`) around circles of ``radius`` centred at (up to
      ``n_loops``) of the points, each in a random 2-plane;
    * ``path_dependence_max`` — over the same (up to ``n_loops``) points, the largest
      |∫_{x₀→x} − ∫_{x₀→v→x}| relative to the mean |∫_{x₀→x}|, with x₀ the first point and v
      another of the points (Gauss–Legendre quadrature with ``n_nodes`` nodes per segment).

    A conservative field gives 1, 0, 0, 0 up to rounding (and quadrature error for kinked h).
    """
    n_loops = len(x) if n_loops is None else min(n_loops, len(x))
    with torch.no_grad():
        sym = jacobian_symmetricity(model, x) if isinstance(model, torch.nn.Module) else None
        loops = x[:n_loops]
        circ = circulation(model, loops, radius=radius, seed=seed, relative=True)
        g = torch.Generator().manual_seed(seed)
        via = loops[torch.randperm(len(loops), generator=g)]
        x0 = x[:1]
        pd = path_dependence(model, loops, via, x0=x0, n_nodes=n_nodes)
        scale = line_potential(model, loops, x0=x0, n_nodes=n_nodes).abs().mean().clamp_min(1e-30)
    out = {
        "circulation_mean": float(circ.mean()),
        "circulation_max": float(circ.max()),
        "path_dependence_max": float((pd.abs() / scale).max()),
    }
    if sym is not None:
        defined = sym[~torch.isnan(sym)]
        nan = float("nan")
        out.update(sym_mean=float(defined.mean()) if len(defined) else nan,
                   asym_max=float((1 - defined).max()) if len(defined) else nan)
    return out


def scaled_tied(
    W: Tensor, lam: Tensor, b: Tensor | None = None, c: Tensor | None = None,
    activation: str | Activation = "sigmoid",
) -> AutoEncoder:
    """Untied model with R = W diag(λ): each decoder filter a scaled copy of its encoder filter.

    J = W diag(λ) D_h' Wᵀ is symmetric for every x and every h (diagonal matrices commute), and
    the energy Σ_k λ_k H(W_kᵀx + b_k) − ½‖x − c‖² exists in closed form (see
    :func:`conservae_lib.core.energy.potential`).
    """
    W = torch.as_tensor(W)
    lam = torch.as_tensor(lam, dtype=W.dtype).reshape(1, -1)
    return AutoEncoder.from_weights(W, W * lam, b, c, activation)


def symmetric_mixing(
    W: Tensor, S: Tensor, b: Tensor | None = None, c: Tensor | None = None,
    activation: str | Activation = "linear",
) -> AutoEncoder:
    """Untied model with R = W S for a symmetric H × H matrix S.

    With linear h the Jacobian W S Wᵀ is symmetric; with a nonlinear h it is W S D_h' Wᵀ, which
    is symmetric only where S D_h' is, so the model is generally *not* conservative.
    """
    W = torch.as_tensor(W)
    S = torch.as_tensor(S, dtype=W.dtype)
    if S.shape != (W.shape[1], W.shape[1]) or not torch.allclose(S, S.T):
        raise ValueError(f"S must be a symmetric {W.shape[1]} × {W.shape[1]} matrix.")
    return AutoEncoder.from_weights(W, W @ S, b, c, activation)



def proposition_examples(D: int, H: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> dict[str, tuple[torch.nn.Module, bool]]:
    """The models of the chapter *Conservative auto-encoders*, each with whether theory says
    it is conservative.

    One-layer: tied models of every activation (Corollary 1); random untied models; the
    untied R = W diag(λ) (conservative for any h); R = W S with S symmetric (conservative for
    linear h only). Deep (Proposition 1): a mirrored model A₁A₂ h(A₂ᵀA₁ᵀx) whose outer layers
    are linear (conservative), the same mirror with nonlinear outer layers (not conservative:
    tying does not carry over to deep models) and a random deep model.
    """
    from .activations import ACTIVATIONS
    from .models import DeepAutoEncoder, glorot

    g = torch.Generator().manual_seed(int(seed))
    out: dict[str, tuple[torch.nn.Module, bool]] = {}
    for k, act in enumerate(ACTIVATIONS):
        m = AutoEncoder(D, H, act, tied=True, seed=seed + k, dtype=dtype)
        with torch.no_grad():
            m.b.normal_(0, 0.5, generator=g)
            m.c.normal_(0, 0.5, generator=g)
        out[f"tied, {act}"] = (m, True)
    for k, act in enumerate(("sigmoid", "relu")):
        out[f"untied random, {act}"] = (AutoEncoder(D, H, act, tied=False, seed=seed + 10 + k, dtype=dtype), False)
    W = glorot(D, H, g, dtype)
    lam = torch.rand(H, generator=g, dtype=dtype) * 2 - 0.5
    for act in ("sigmoid", "relu"):
        out[f"R = W diag(λ), {act}"] = (scaled_tied(W, lam, activation=act), True)
    A = torch.randn(H, H, generator=g, dtype=dtype) / H**0.5
    S = A + A.T
    out["R = W S, linear"] = (symmetric_mixing(W, S, activation="linear"), True)
    out["R = W S, sigmoid"] = (symmetric_mixing(W, S, activation="sigmoid"), False)
    sizes = [D, max(H // 2, 2), max(H // 8, 2)]
    enc = [glorot(a, b, g, dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    out["deep mirrored, linear outer layers"] = (DeepAutoEncoder.mirrored(enc, ["linear", "sigmoid", "linear"]), True)
    out["deep mirrored, sigmoid everywhere"] = (DeepAutoEncoder.mirrored(enc, ["sigmoid", "sigmoid", "sigmoid"]), False)
    out["deep random, sigmoid"] = (DeepAutoEncoder.random(sizes + sizes[-2::-1], "sigmoid", seed=seed + 20, dtype=dtype), False)
    return out
