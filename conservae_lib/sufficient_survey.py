"""Chapter 02's experiments: the families of the sufficient condition measured inside and outside
their domain, the dimension of the space of conservative decoders, the recovery of C and E, the
perturbation figure, and their tables (experiments layer). The constructions are in
:mod:`conservae_lib.sufficient`, the decoder space in :mod:`conservae_lib.decoder_space`.
Chapter: *When is an untied auto-encoder conservative?* (``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

import torch

from .conditions import check_conservative, scaled_tied
from .decoder_space import CERecovery, conservative_decoder_space, expected_decoder_dimension, recover_CE
from .fields import jacobian_symmetricity
from .models import AutoEncoder
from .sufficient import (Construction, affine_energy_gradient_error, commutation_residual, linear_family,
                         pointwise_family, relu_region_family, relu_region_points)

Tensor = torch.Tensor

__all__ = ["plot_perturbation", "family_examples", "family_survey", "family_table", "distance_profile",
           "dimension_survey", "recovery_survey"]


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
