"""Local conservativeness of trained auto-encoders (Proposition 3): fixed points, Jacobian
spectra, score matching and the contraction sweep.

Proposition 3 says that an untied one-layer auto-encoder trained with the contraction-regularised
loss of eq. (10) becomes conservative near its fixed points as the contraction weight ε → 0. Its
argument: by Alain & Bengio (2014), r(x) − x ≈ ε ∇ log p(x), so the field's Jacobian
∂r/∂x − I ≈ ε ∇² log p(x) is (nearly) symmetric. This module measures each link:

* :func:`fixed_points` — solutions of r(x) = x by damped Newton iterations from given starts;
* :func:`field_asymmetry` — 1 − sym(∂r/∂x − I), the asymmetry of the *field's* Jacobian, which
  (unlike sym(∂r/∂x)) is not pulled to 1 by the identity as r → x;
* :func:`score_error`, :func:`hessian_error` — how far (r(x) − x)/ε and (∂r/∂x − I)/ε are from
  ∇ log p and ∇² log p;
* :func:`spectrum` — eigenvalues of ∂r/∂x (their imaginary parts, and whether a fixed point is a
  sink, source or saddle), with the curvature of the field across the data manifold;
* :func:`contraction_sweep` — trains untied auto-encoders for several ε and seeds
  (:func:`conservae_lib.training.trainer.fit`) and records all of the above;
* ``PARAMETERS`` — the chapter's parameters;
:mod:`conservae_lib.chapters.local_conservativeness.local_summary` reduces the sweep to what the chapter tabulates, states and hands
to the ledger, and :mod:`conservae_lib.chapters.local_conservativeness.figures` draws and formats it.
Chapter: *Proposition 3 — local conservativeness*.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from conservae_lib.data.densities import GaussianMixture
from conservae_lib.core.fields import jacobian, symmetricity
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "FixedPoints", "fixed_points", "field_asymmetry", "score_error", "hessian_error", "spectrum",
    "classify", "contraction_sweep", "PARAMETERS",
]


@dataclass
class FixedPoints:
    """Result of :func:`fixed_points`: the converged points (M × D), their residuals ‖r(x) − x‖
    and how many of the starts converged."""

    points: Tensor
    residuals: Tensor
    n_starts: int

    @property
    def n(self) -> int:
        return len(self.points)


def fixed_points(
    model: AutoEncoder, starts: Tensor, tol: float = 1e-10, max_iter: int = 100, max_step: float = 0.5,
    merge: float = 1e-6,
) -> FixedPoints:
    """Solve r(x) = x from each start by Newton's method on g(x) = r(x) − x.

    Step x ← x − (∂r/∂x − I)⁻¹ g(x), its length clipped to ``max_step``. Starts whose residual
    ‖g‖ ends below ``tol`` count as converged; converged points closer than ``merge`` are kept
    once. Newton finds sinks, sources and saddles alike (iterating x ← r(x) would find sinks
    only, biasing the spectrum statistics).
    """
    x = torch.as_tensor(starts, dtype=model.W.dtype).detach().clone()
    if x.ndim != 2 or x.shape[1] != model.D:
        raise ValueError(f"starts must be an N × {model.D} batch; got shape {tuple(x.shape)}.")
    eye = torch.eye(model.D, dtype=x.dtype)
    with torch.no_grad():
        for _ in range(max_iter):
            g = model(x) - x
            if float(g.norm(dim=1).max()) < tol:
                break
            J = jacobian(model, x) - eye
            try:
                step = torch.linalg.solve(J, g.unsqueeze(2)).squeeze(2)
            except RuntimeError:
                step = torch.linalg.lstsq(J, g.unsqueeze(2)).solution.squeeze(2)
            length = step.norm(dim=1, keepdim=True)
            step = step * torch.clamp(max_step / length.clamp_min(1e-300), max=1.0)
            x = torch.where(torch.isfinite(step).all(dim=1, keepdim=True), x - step, x)
        res = (model(x) - x).norm(dim=1)
    ok = res < tol
    pts, rs = x[ok], res[ok]
    keep: list[int] = []
    for i in range(len(pts)):
        if all(float((pts[i] - pts[j]).norm()) > merge for j in keep):
            keep.append(i)
    idx = torch.as_tensor(keep, dtype=torch.long)
    return FixedPoints(pts[idx], rs[idx], len(x))


def _field_jacobian(model: AutoEncoder, x: Tensor) -> Tensor:
    return jacobian(model, x).detach() - torch.eye(model.D, dtype=model.W.dtype)


def field_asymmetry(model: AutoEncoder, x: Tensor) -> Tensor:
    """1 − sym(∂r/∂x − I) at each point: ‖antisymmetric part‖²_F / ‖∂r/∂x − I‖²_F, in [0, 1].

    The paper's sym(∂r/∂x) tends to 1 whenever r tends to the identity (as it does when ε → 0),
    conservative or not; the field's Jacobian removes that identity.
    """
    with torch.no_grad():
        return 1 - symmetricity(_field_jacobian(model, x))


def score_error(model: AutoEncoder, density: GaussianMixture, x: Tensor, eps: float) -> dict[str, float]:
    """How well (r(x) − x)/ε estimates the score ∇ log p(x) at the points (Alain & Bengio).

    ``rel_error`` = Σ‖(r − x)/ε − s‖² / Σ‖s‖²; ``cosine`` = mean cosine between r − x and s;
    ``scale`` = the least-squares α in r − x ≈ α ε s (1 when the magnitude is right).
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps!r}.")
    with torch.no_grad():
        v = (model(x) - x).detach()
    s = density.score(x)
    est = v / eps
    cos = (v * s).sum(1) / (v.norm(dim=1) * s.norm(dim=1)).clamp_min(1e-300)
    return {"rel_error": float(((est - s) ** 2).sum() / (s**2).sum()), "cosine": float(cos.mean()),
            "scale": float((est * s).sum() / (s**2).sum())}


def hessian_error(model: AutoEncoder, density: GaussianMixture, x: Tensor, eps: float) -> float:
    """Σ‖(∂r/∂x − I)/ε − ∇² log p‖²_F / Σ‖∇² log p‖²_F over the points (eq. 13–14)."""
    Jf = _field_jacobian(model, x) / eps
    Hs = density.hessian(x)
    return float(((Jf - Hs) ** 2).sum() / (Hs**2).sum())


def spectrum(model: AutoEncoder, x: Tensor) -> Tensor:
    """Eigenvalues of ∂r/∂x at each point, N × D complex."""
    with torch.no_grad():
        return torch.linalg.eigvals(jacobian(model, x).detach())


def classify(eigenvalues: Tensor) -> list[str]:
    """'sink' if every eigenvalue of ∂r/∂x − I has negative real part, 'source' if every one is
    positive, 'saddle' otherwise (linearised dynamics dx/dt = r(x) − x)."""
    re = eigenvalues.real - 1
    return ["sink" if bool((r < 0).all()) else "source" if bool((r > 0).all()) else "saddle" for r in re]


def _measure(model: AutoEncoder, density: GaussianMixture, eps: float, x_eval: Tensor, starts: Tensor) -> dict[str, Any]:
    out: dict[str, Any] = {}
    asym = field_asymmetry(model, x_eval)
    with torch.no_grad():
        from conservae_lib.core.fields import jacobian_symmetricity

        out["data_sym_J"] = float(jacobian_symmetricity(model, x_eval).mean())
    out["data_field_asym"] = float(asym.mean())
    if eps > 0:
        out.update({f"data_score_{k}": v for k, v in score_error(model, density, x_eval, eps).items()})
        out["data_hessian_error"] = hessian_error(model, density, x_eval, eps)
    fp = fixed_points(model, starts)
    out["n_fixed"] = fp.n
    if fp.n:
        ev = spectrum(model, fp.points)
        kinds = classify(ev)
        Jf = _field_jacobian(model, fp.points)
        out["fixed_field_asym"] = float(field_asymmetry(model, fp.points).mean())
        out["fixed_sym_J"] = float(symmetricity(Jf + torch.eye(model.D, dtype=Jf.dtype)).mean())
        out["fixed_max_imag"] = float(ev.imag.abs().max())
        out["fixed_rel_imag"] = float((ev.imag.abs().max(dim=1).values / (ev - 1).abs().max(dim=1).values.clamp_min(1e-300)).max())
        out["fixed_complex_fraction"] = float((ev.imag.abs().max(dim=1).values > 1e-9).double().mean())
        out["fixed_kinds"] = kinds
        out["fixed_points"] = fp.points.tolist()
        out["fixed_sinks"] = kinds.count("sink")
        out["fixed_saddles"] = kinds.count("saddle")
        out["fixed_sources"] = kinds.count("source")
        out["fixed_log_density"] = density.log_prob(fp.points).tolist()
        out["fixed_radius"] = fp.points.norm(dim=1).tolist()
        if hasattr(density, "normal") and eps > 0:
            n = density.normal(fp.points)
            t = torch.stack([-n[:, 1], n[:, 0]], 1)
            Hs = density.hessian(fp.points)
            out["fixed_normal_curv"] = ((n[:, None, :] @ Jf @ n[:, :, None]).reshape(-1) / eps).tolist()
            out["fixed_tangent_curv"] = ((t[:, None, :] @ Jf @ t[:, :, None]).reshape(-1) / eps).tolist()
            out["fixed_true_normal_curv"] = (n[:, None, :] @ Hs @ n[:, :, None]).reshape(-1).tolist()
            out["fixed_true_tangent_curv"] = (t[:, None, :] @ Hs @ t[:, :, None]).reshape(-1).tolist()
    return out


def contraction_sweep(
    density: GaussianMixture, strengths: Sequence[float], seeds: Sequence[int], *, hidden: int,
    activation: str = "sigmoid", n_train: int = 1000, n_eval: int = 400, n_starts: int = 200,
    epochs: int = 100, penalty: str = "reconstruction", data_seed: int = 0, device: str = "cpu",
    keep_models: bool = False, baseline: bool = False,
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], dict[tuple[float, int], AutoEncoder]]:
    """Train one untied auto-encoder per (ε, seed) and measure it at the data and its fixed points.

    ε = 0 trains a plain untied auto-encoder (the baseline); its score and curvature
    measurements, which divide by ε, are omitted. ``baseline=True`` puts ε = 0 before
    ``strengths``.

    ``penalty="reconstruction"``: loss ‖r(x) − x‖² + ε‖∂r/∂x‖²_F (eq. 10); ``"encoder"``: the
    classic CAE penalty ε‖∂h/∂x‖²_F. Training data (``n_train`` samples, seed ``data_seed``), the
    evaluation sample (``n_eval``, seed ``data_seed + 1``) and the Newton starts (``n_starts``
    samples, seed ``data_seed + 2``) are the same for every run; the seed sets the
    initialisation and the optimiser's randomness. Full-batch L-BFGS (``epochs`` steps of up to
    20 iterations), float64. Returns one dict per run (see :func:`_measure` for the keys), and
    with ``keep_models=True`` also the trained models keyed by (ε, seed).
    """
    from conservae_lib.training.trainer import fit

    strengths = ([0.0] if baseline else []) + list(strengths)
    if penalty not in ("reconstruction", "encoder"):
        raise ValueError(f"penalty must be reconstruction or encoder; got {penalty!r}.")
    if not strengths or any(not e >= 0 for e in strengths):
        raise ValueError(f"strengths must be numbers ≥ 0 (0: no contraction, the baseline); got {list(strengths)!r}.")
    x_train = density.sample(n_train, seed=data_seed)
    x_eval = density.sample(n_eval, seed=data_seed + 1)
    starts = density.sample(n_starts, seed=data_seed + 2)
    rows = []
    kept: dict[tuple[float, int], AutoEncoder] = {}
    for eps in strengths:
        for seed in seeds:
            model = AutoEncoder(density.dim, hidden, activation, tied=False, seed=seed, dtype=torch.float64)
            kw = {"contraction": eps} if penalty == "reconstruction" else {"encoder_contraction_weight": eps}
            hist = fit(model, x_train, epochs=epochs, optimizer="lbfgs", lr=1.0, seed=seed, device=device,
                       progress=False, **kw)
            model = model.cpu()
            row = {"penalty": penalty, "eps": float(eps), "seed": int(seed), "final_loss": float(hist.last("loss"))}
            row.update(_measure(model, density, float(eps), x_eval, starts))
            rows.append(row)
            if keep_models:
                kept[(float(eps), int(seed))] = model
    return (rows, kept) if keep_models else rows


# ------------------------------------------------------------------------- chapter 03's parameters
