"""Chapter 02's experiments: the families of the sufficient condition measured inside and outside
their domain, the loss of symmetry away from a frozen point, the dimension of the space of
conservative decoders, the perturbation sweeps and the recovery of C and E (experiments layer);
the checks the page's numbers must pass (:func:`failed_checks`) and what it hands to the claim
ledger (:func:`claim_inputs`). The constructions are in :mod:`conservae_lib.core.sufficient`, the
decoder space in :mod:`conservae_lib.core.decoder_space`, the tables and figures in
:mod:`conservae_lib.chapters.sufficient_condition.report`.
Chapter: *When is an untied auto-encoder conservative?* (``notebooks/02_sufficient_condition.md``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from conservae_lib.core.conditions import check_conservative, scaled_tied
from conservae_lib.core.decoder_space import (CERecovery, conservative_decoder_space, expected_decoder_dimension, generic_solution_dimension, recover_CE)
from conservae_lib.core.fields import jacobian_symmetricity
from conservae_lib.core.models import AutoEncoder
from conservae_lib.core.sufficient import (Construction, affine_energy_gradient_error, commutation_residual, linear_family, perturbation_sweep, pointwise_family, relu_region_family, relu_region_points)

Tensor = torch.Tensor

__all__ = ["FROZEN_POINT", "family_examples", "family_survey", "distance_profile", "frozen_point_profile",
           "dimension_survey", "perturbation_sweeps", "recovery_survey", "failed_checks", "claim_inputs"]

#: The family of :func:`family_examples` whose D_h' is frozen at one point x₀ (the literal reading of eq. 8).
FROZEN_POINT = "R = C W D_h'(x₀) E, sigmoid"


# ----------------------------------------------------------------- what the chapter shows
def family_examples(D: int, H: int, seed: int = 0, n_points: int = 64) -> dict[str, dict[str, object]]:
    """One constructed model per family of eq. (8), with points inside and outside its domain.

    Each entry: ``construction`` (:class:`Construction`), ``inside`` (points of the domain where
    theory says the field is conservative), ``outside`` (points elsewhere, or None when the
    domain is all of ℝ^D), ``loop_radius`` (small enough for loops to stay inside), ``energy``
    (``"closed"`` for eq. 3 with λ, ``"affine"`` for :func:`affine_energy`, None).
    All float64, seeded. Chapter: *When is an untied auto-encoder conservative?*
    """
    from conservae_lib.core.models import glorot

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
    out[FROZEN_POINT] = dict(construction=pw, inside=xp, outside=everywhere, loop_radius=None, energy=None)
    return out


def _defined(asym: Tensor) -> Tensor:
    """1 − sym at the points where it is defined: a point where ∂r/∂x = 0 (a ReLU model with every unit off)
    has no symmetricity (0/0, NaN) and is left out; NaN when no point has one."""
    kept = asym[~torch.isnan(asym)]
    return kept if len(kept) else torch.full((1,), float("nan"), dtype=asym.dtype)


def family_survey(examples: dict[str, dict[str, object]], n_loops: int = 16, seed: int = 0) -> list[dict[str, object]]:
    """Measure each family's model inside and outside its domain (raw numbers, one dict each)."""
    from conservae_lib.core.energy import potential_gradient_error

    rows = []
    for name, ex in examples.items():
        con: Construction = ex["construction"]  # type: ignore[assignment]
        m = con.model
        inside: Tensor = ex["inside"]  # type: ignore[assignment]
        row: dict[str, object] = {"family": name, "valid": con.family, "n_inside": len(inside)}
        with torch.no_grad():
            asym_in = 1 - jacobian_symmetricity(m, inside)
        row["asym_inside_max"] = float(_defined(asym_in).max())
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
                row["asym_outside_mean"] = float(_defined(1 - jacobian_symmetricity(m, outside)).mean())
        else:
            row["asym_outside_mean"] = None
        rows.append(row)
    return rows


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
            rows.append({"distance": float(t), "asym_mean": float(_defined(a).mean())})
    return rows


def frozen_point_profile(examples: Mapping[str, Mapping[str, Any]], distances: Sequence[float] | None = None,
                         seed: int = 0) -> list[dict[str, float]]:
    """:func:`distance_profile` of the :data:`FROZEN_POINT` family of :func:`family_examples` around
    its x₀, at ``distances`` (default: ten from 10⁻⁴ to 10^0.5, log-spaced)."""
    ex = examples[FROZEN_POINT]
    distances = np.logspace(-4, 0.5, 10).tolist() if distances is None else list(distances)
    return distance_profile(ex["construction"], ex["inside"], distances, seed=seed)  # type: ignore[arg-type]


def dimension_survey(shapes: list[tuple[int, int]], n_points: int = 64, seed: int = 0) -> list[dict[str, object]]:
    """Measured dimension of the conservative decoders (:func:`conservative_decoder_space`) next to
    :func:`expected_decoder_dimension`, for several activations, domains and shapes (D, H)."""
    from conservae_lib.core.models import glorot

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


def perturbation_sweeps(examples: Mapping[str, Mapping[str, Any]], n_deltas: int, n_loops: int = 16,
                        seed: int = 0) -> dict[str, list[dict[str, float]]]:
    """:func:`~conservae_lib.core.sufficient.perturbation_sweep` of every family of :func:`family_examples`
    that has loops (all but the frozen point), on its own domain, at ``n_deltas`` relative sizes
    δ log-spaced from 10⁻⁸ to 1: one list of rows per family."""
    deltas = np.logspace(-8, 0, n_deltas).tolist()
    return {name: perturbation_sweep(ex["construction"].model, ex["inside"], deltas, seed=seed, n_loops=n_loops,
                                     radius=float(ex["loop_radius"]))
            for name, ex in examples.items() if ex["loop_radius"] is not None}


def recovery_survey(D: int, H: int, n_recover: int = 5, seed: int = 0) -> list[dict[str, object]]:
    """:func:`recover_CE` on models built from known (C, E), and on random untied models.

    Per case and over ``n_recover`` random draws: the dimensions of the solution set seen, the
    largest relative residual ‖R − C W D E‖/‖R‖, the largest distance of the *known* (C⁻¹, E)
    from the solution set, and the largest (or, for random models, smallest) commutator; and
    ``generic_dim``, the generic dimension of the solution set for the case's shape
    (:func:`generic_solution_dimension`), None where it does not apply (the ReLU case's active
    columns vary between draws, a singular C has a larger set). Not shown in the chapter's table.

    Long because all cases of one round draw from one generator in a fixed order: split into functions,
    that order (and so every published number) would hang on the call order of several helpers.
    """
    from conservae_lib.core.models import glorot

    dt = torch.float64
    cases: dict[str, list[dict[str, float]]] = {}

    conservative: dict[str, bool] = {}
    generic: dict[str, int | None] = {}

    def add(name: str, rec: CERecovery, known: tuple[Tensor, Tensor] | None, cons: bool = True,
            shape: tuple[int, int] | None = None) -> None:
        """Record one draw of case ``name``; ``shape`` is the (D, H) of a case whose solution set has
        the generic dimension, None for the others (varying active columns, a singular C)."""
        conservative[name] = cons
        generic[name] = generic_solution_dimension(*shape) if shape is not None else None
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
            add(f"linear h, C W E  (D={Dn}, H={Hn})", recover_CE(W, lin.model.R.detach()), (lin.C, lin.E),
                shape=(Dn, Hn))
        W = 2 * glorot(D, H, g, dt)
        b = 0.5 * torch.randn(H, generator=g, dtype=dt)
        lam = 0.5 + 1.5 * torch.rand(H, generator=g, dtype=dt)
        add(f"R = W diag(λ)  (D={D}, H={H})", recover_CE(W, W * lam), (torch.eye(D, dtype=dt), torch.diag(lam)),
            shape=(D, H))
        xp = 0.5 * torch.randn(1, D, generator=g, dtype=dt)
        pw = pointwise_family(W, b, xp, "sigmoid", seed=seed + i)
        add(f"sigmoid, D_h'(x₀) frozen  (D={D}, H={H})", recover_CE(W, pw.model.R.detach(), pw.d), (pw.C, pw.E),
            shape=(D, H))
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
            add(f"random untied  (D={Dn}, H={Hn})", recover_CE(Wr, Rr), None, cons=False, shape=(Dn, Hn))
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
            "generic_dim": generic[name],
        })
    return rows


# ----------------------------------------------------------------- what the page asserts, what the ledger gets
def failed_checks(family_rows: Sequence[Mapping[str, Any]], dim_rows: Sequence[Mapping[str, Any]],
                  sweeps: Mapping[str, Sequence[Mapping[str, float]]],
                  rec_rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The statements of chapter 02 that its numbers contradict, one line each (empty when all hold).

    * every family of :func:`family_survey` is symmetric (1 − sym < 10⁻¹²) and its C commutes on its
      domain, its energy (if any) has the field as gradient (10⁻¹⁰), and it is not symmetric
      elsewhere (mean 1 − sym > 10⁻⁴);
    * every measured dimension of :func:`dimension_survey` is the derived one, with a clear gap in
      the singular values (largest dropped < 10⁻¹², smallest kept > 10⁻⁴);
    * for every family of :func:`perturbation_sweeps`, 1 − sym grows like δ² (fitted slope within
      0.1 of 2 for δ ≤ 10⁻²) and is above 10⁻³ at the largest δ;
    * every draw of :func:`recovery_survey` decomposes, reproduces R (10⁻¹⁰) and contains the known
      pair; the commutator is below 10⁻¹⁰ for conservative models and above 10⁻² for random ones,
      and the solution set has the generic dimension for the cases that give one (``generic_dim``).
    """
    out: list[str] = []

    def check(ok: bool, what: str, row: Any) -> None:
        if not ok:
            out.append(f"{what}: {row}")

    def below(v: float | None, bound: float) -> bool:
        return v is not None and v < bound

    for r in family_rows:
        check(below(r["asym_inside_max"], 1e-12), "not symmetric on its domain", r)
        check(below(r["commutator"], 1e-12), "C does not commute", r)
        check(r["energy_error"] is None or below(r["energy_error"], 1e-10), "the energy's gradient is not the field", r)
        check(r["asym_outside_mean"] is None or r["asym_outside_mean"] > 1e-4, "symmetric outside its domain", r)
    for r in dim_rows:
        check(r["measured"] == r["expected"], "measured dimension differs from the derived one", r)
        check(below(r["largest_dropped"], 1e-12) and r["smallest_kept"] is not None and r["smallest_kept"] > 1e-4,
              "no clear gap in the singular values", r)
    for name, rows in sweeps.items():
        a = np.array([r["asym_mean"] for r in rows])
        dl = np.array([r["delta"] for r in rows])
        mid = dl <= 1e-2
        slope = np.polyfit(np.log(dl[mid]), np.log(a[mid]), 1)[0]
        check(abs(slope - 2) < 0.1, "1 − sym does not grow like δ²", (name, slope))
        check(rows[-1]["asym_mean"] > 1e-3, "the largest perturbation leaves the model symmetric", name)
    for r in rec_rows:
        check(r["n_ok"] == r["n"], "a draw did not decompose", r)
        check(below(r["residual_max"], 1e-10), "the recovered pair does not reproduce R", r)
        check(r["known_max"] is None or below(r["known_max"], 1e-10), "the known pair is not in the solution set", r)
        if r["conservative"]:
            check(below(r["commutator_max"], 1e-10), "the commutation fails for a conservative model", r)
        else:
            check(r["commutator_min"] is not None and r["commutator_min"] > 1e-2, "a random model passes the commutation", r)
        if r["generic_dim"] is not None:
            check(r["null_dims"] == [r["generic_dim"]], "the solution set does not have the generic dimension", r)
    return out


def _recovery_residual(r: Mapping[str, Any]) -> float:
    """A case's largest residual ‖R − C W D E‖/‖R‖; a draw that did not decompose counts as a failed
    recovery (residual 1)."""
    return r["residual_max"] if r["n_ok"] == r["n"] and r["residual_max"] is not None else 1.0


def claim_inputs(family_rows: Sequence[Mapping[str, Any]], rec_rows: Sequence[Mapping[str, Any]],
                 families_section: str = "sec-suff-families",
                 recover_section: str = "sec-suff-recover") -> list[dict[str, Any]]:
    """Everything chapter 02 hands to :func:`conservae_lib.claims.ledger.judge`, one dict of keyword
    arguments per judgement (``id``, ``values``, and where they apply ``control``, ``reading``,
    ``section``):

    * ``eq8`` — eq. (8) as algebra: per family, the larger of 1 − sym on its domain and its
      commutator; control: the smallest mean 1 − sym off the domains;
    * ``eq8``, reading ``every-x, sigmoid`` — eq. (8) read for every x with a smooth h: the frozen
      point family's mean 1 − sym away from x₀;
    * ``supp-CE`` — the supplement's recovery of C and E: the residual of each conservative case
      (1 where a draw did not decompose); control: the smallest residual of a random model;
    * ``supp-CE``, reading ``with the commutation`` — the recovery with eq. (8)'s commutation: the
      conservative cases' largest commutator; control: the random models' smallest.
    """
    off_domain = [r["asym_outside_mean"] for r in family_rows if r["asym_outside_mean"] is not None]
    frozen = next(r for r in family_rows if r["family"] == FROZEN_POINT)
    conservative = [r for r in rec_rows if r["conservative"]]
    random = [r for r in rec_rows if not r["conservative"]]
    return [
        {"id": "eq8", "values": [max(r["asym_inside_max"], r["commutator"]) for r in family_rows],
         "control": min(off_domain), "section": families_section},
        {"id": "eq8", "values": [frozen["asym_outside_mean"]], "reading": "every-x, sigmoid", "section": families_section},
        {"id": "supp-CE", "values": [_recovery_residual(r) for r in conservative],
         "control": min(_recovery_residual(r) for r in random), "section": recover_section},
        {"id": "supp-CE", "values": [r["commutator_max"] for r in conservative],
         "control": min(r["commutator_min"] for r in random), "reading": "with the commutation",
         "section": recover_section},
    ]


# ------------------------------------------------------------------------- chapter 02's parameters
