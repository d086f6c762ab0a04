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
  (:func:`conservae_lib.training.fit`) and records all of the above;
* :func:`summarize_sweep`, :func:`fixed_point_summary`, :func:`findings`, :func:`claim_statistics` —
  what the chapter tabulates, states and hands to the ledger (:mod:`conservae_lib.local_figures`
  draws and formats it).
Chapter: *Proposition 3 — local conservativeness*.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from .densities import GaussianMixture
from .fields import jacobian, symmetricity
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "FixedPoints", "fixed_points", "field_asymmetry", "score_error", "hessian_error", "spectrum",
    "classify", "contraction_sweep", "summarize_sweep", "fixed_point_summary", "SWEEP_KEYS", "findings",
    "ClaimStatistics", "claim_statistics", "run_records",
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
        from .fields import jacobian_symmetricity

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
    from .training import fit

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


def fixed_point_summary(rows: list[dict[str, Any]], min_radius: float) -> list[dict[str, Any]]:
    """Per contraction strength, pooled over seeds: what the fixed points are.

    Fixed points farther than ``min_radius`` from the origin count as "on the ring" (the data
    manifold of :class:`~conservae_lib.densities.NoisyCircle`), the others as "inside". Returns
    counts of sinks/saddles/sources, the fraction with complex eigenvalues, and on the ring the
    fraction whose curvature across the manifold nᵀ(∂r/∂x − I)n is negative, the median ratio of
    that curvature (divided by ε) to the true nᵀ∇² log p n, and the fraction with positive
    tangential curvature.
    """
    out = []
    for eps in sorted({r["eps"] for r in rows}, reverse=True):
        group = [r for r in rows if r["eps"] == eps]
        kinds, radii, ncurv, tcurv, ntrue = [], [], [], [], []
        complex_n = 0
        for r in group:
            k = r.get("fixed_kinds", [])
            kinds += k
            radii += r.get("fixed_radius", [])
            complex_n += round(r.get("fixed_complex_fraction", 0.0) * len(k))
            if eps > 0:
                ncurv += r.get("fixed_normal_curv", [])
                tcurv += r.get("fixed_tangent_curv", [])
                ntrue += r.get("fixed_true_normal_curv", [])
        radii_a = np.array(radii)
        ring = radii_a > min_radius
        kinds_a = np.array(kinds)
        rec: dict[str, Any] = {"eps": eps, "n_seeds": len(group), "n_fixed": len(kinds),
                               "sinks": int((kinds_a == "sink").sum()), "saddles": int((kinds_a == "saddle").sum()),
                               "sources": int((kinds_a == "source").sum()),
                               "complex_fraction": complex_n / max(len(kinds), 1),
                               "n_ring": int(ring.sum()), "ring_sinks": int(((kinds_a == "sink") & ring).sum()),
                               "inside_kinds": sorted(set(kinds_a[~ring].tolist()))}
        if eps > 0 and len(ncurv):
            nc, tc, nt = np.array(ncurv)[ring], np.array(tcurv)[ring], np.array(ntrue)[ring]
            rec["ring_normal_negative"] = float((nc < 0).mean()) if len(nc) else None
            rec["ring_normal_ratio"] = float(np.median(nc / nt)) if len(nc) else None
            rec["ring_tangent_positive"] = float((tc > 0).mean()) if len(tc) else None
        out.append(rec)
    return out


#: The per-run measurements that :func:`summarize_sweep` summarises by default (the sweep's table).
SWEEP_KEYS = ("data_field_asym", "fixed_field_asym", "data_sym_J", "data_score_rel_error", "data_score_cosine",
              "data_score_scale", "data_hessian_error", "final_loss")


def summarize_sweep(rows: list[dict[str, Any]], keys: Sequence[str] = SWEEP_KEYS) -> list[dict[str, Any]]:
    """Mean, standard deviation, min and max over seeds of each key, per contraction strength
    (largest ε first)."""
    out = []
    for eps in sorted({r["eps"] for r in rows}, reverse=True):
        group = [r for r in rows if r["eps"] == eps]
        rec: dict[str, Any] = {"eps": eps, "n_seeds": len(group)}
        for k in keys:
            vals = np.array([r[k] for r in group if r.get(k) is not None], dtype=float)
            if len(vals):
                rec[k] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                          "min": float(vals.min()), "max": float(vals.max())}
        out.append(rec)
    return out


def findings(summary: list[dict[str, Any]], fp_summary: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers the chapter states about the sweep, over the contraction weights ε > 0.

    From :func:`summarize_sweep` (largest ε first) and :func:`fixed_point_summary`: the mean
    asymmetry of the field's Jacobian at the largest and smallest ε and without contraction, the
    exponent of a power law fitted through the means (descriptive: step 3 of the argument predicts
    no rate), where the score's relative error is lowest (step 1), the cosine, scale and Hessian
    error at the smallest ε (step 2), and at the fixed points (step 4) the largest fraction with
    complex eigenvalues, the smallest fraction on the ring contracting across it, and the numbers
    of saddles and sources.
    """
    pos = [s for s in summary if s["eps"] > 0]
    largest, smallest = pos[0], pos[-1]
    score_err = [s["data_score_rel_error"]["mean"] for s in pos]
    best_i = int(np.argmin(score_err))
    fp_pos = [s for s in fp_summary if s["eps"] > 0]
    return {
        "asym_large": largest["data_field_asym"]["mean"], "asym_small": smallest["data_field_asym"]["mean"],
        "asym_base": next((s["data_field_asym"]["mean"] for s in summary if s["eps"] == 0), None),
        "asym_slope": float(np.polyfit(np.log([s["eps"] for s in pos]), np.log([s["data_field_asym"]["mean"] for s in pos]), 1)[0]),
        "eps_large": largest["eps"], "eps_small": smallest["eps"],
        "score_best_eps": pos[best_i]["eps"], "score_best": score_err[best_i], "score_smallest_eps": score_err[-1],
        "cos_small": smallest["data_score_cosine"]["mean"], "scale_small": smallest["data_score_scale"]["mean"],
        "hess_small": smallest["data_hessian_error"]["mean"],
        "complex_max": max(s["complex_fraction"] for s in fp_pos),
        "ring_neg_min": min(s["ring_normal_negative"] for s in fp_pos if s.get("ring_normal_negative") is not None),
        "saddles": sum(s["saddles"] for s in fp_pos), "sources": sum(s["sources"] for s in fp_pos),
        "sym_J_min": min(s["data_sym_J"]["mean"] for s in pos),
        "hess_worse": all(s["data_hessian_error"]["mean"] > s["data_score_rel_error"]["mean"] for s in pos),
        "score_improves_to_end": best_i == len(pos) - 1,
    }


@dataclass
class ClaimStatistics:
    """What :func:`conservae_lib.ledger.judge` gets for the chapter's claims, one entry per seed.

    ``eps_axis``: the contraction weights ε > 0, ascending; ``asymmetry``: per seed, the curve of
    1 − sym(∂r/∂x − I) at the data over ``eps_axis`` (Proposition 3, step 3); ``paper_asymmetry``:
    the same with the paper's 1 − sym(∂r/∂x); ``complex_fraction``, ``sink_fraction``: per seed,
    the fraction of fixed points (all ε > 0 pooled) with complex eigenvalues, and that are sinks
    (step 4); ``ring_contracting``: per seed, the fraction of fixed points on the ring whose
    curvature across it nᵀ(∂r/∂x − I)n is negative; ``too_few``: why a trend cannot be tested
    (fewer than 3 weights), or None.
    """

    eps_axis: list[float]
    asymmetry: list[list[float]]
    paper_asymmetry: list[list[float]]
    complex_fraction: list[float]
    sink_fraction: list[float]
    ring_contracting: list[float]
    too_few: str | None


def claim_statistics(rows: list[dict[str, Any]], seeds: Sequence[int], min_radius: float) -> ClaimStatistics:
    """Per-seed statistics of :func:`contraction_sweep`'s runs with ε > 0 for the ledger.

    Fixed points farther than ``min_radius`` from the origin count as on the ring, as in
    :func:`fixed_point_summary`. A seed without fixed points gets NaN fractions.
    """
    runs = [r for r in rows if r["eps"] > 0]
    eps_axis = sorted({r["eps"] for r in runs})

    def curve(key: str, seed: int) -> list[float]:
        by_eps = {r["eps"]: r[key] for r in runs if r["seed"] == seed}
        return [by_eps[e] for e in eps_axis]

    def fraction(seed: int, count) -> float:
        group = [r for r in runs if r["seed"] == seed and r["n_fixed"]]
        n = sum(r["n_fixed"] for r in group)
        return sum(count(r) for r in group) / n if n else float("nan")

    def ring_contracting(seed: int) -> float:
        neg = total = 0
        for r in runs:
            if r["seed"] == seed:
                ring = [c for c, rad in zip(r.get("fixed_normal_curv", []), r.get("fixed_radius", [])) if rad > min_radius]
                neg, total = neg + sum(c < 0 for c in ring), total + len(ring)
        return neg / max(total, 1)

    return ClaimStatistics(
        eps_axis=eps_axis,
        asymmetry=[curve("data_field_asym", s) for s in seeds],
        paper_asymmetry=[[1 - v for v in curve("data_sym_J", s)] for s in seeds],
        complex_fraction=[fraction(s, lambda r: round(r["fixed_complex_fraction"] * r["n_fixed"])) for s in seeds],
        sink_fraction=[fraction(s, lambda r: r["fixed_sinks"]) for s in seeds],
        ring_contracting=[ring_contracting(s) for s in seeds],
        too_few=f"only {len(eps_axis)} contraction weights: a trend needs at least 3" if len(eps_axis) < 3 else None,
    )


def run_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs without their per-fixed-point lists, for the summary file; runs with ε > 0 also
    carry ``data_asym_J`` = 1 − sym(∂r/∂x) and ``one_minus_cos`` = 1 − cosine, as plotted."""
    out = []
    for r in rows:
        rec = {k: v for k, v in r.items() if not isinstance(v, list)}
        if r["eps"] > 0:
            rec["data_asym_J"] = 1 - r["data_sym_J"]
            rec["one_minus_cos"] = 1 - r["data_score_cosine"]
        out.append(rec)
    return out
