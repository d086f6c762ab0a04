"""The numbers chapter 07 hands to the claim ledger (:func:`conservae_lib.claims.ledger.judge`).

Table 2's cells under both readings of x̃ (:func:`table2_cell`, with the learned energy's own
quadratic term as the control and no verdict where a learner did not fit), the trend over β and
the "below 1" sentence (:func:`trend_values`, :func:`below_one_values`), the "93 %" sentence,
Figure 5's final losses (:func:`fig5_values`), Algorithm 1 itself, measured by the tied
learner's distance to the target's conservative part (:func:`alg1_values`), and the book's own findings
(:func:`psd_reachable_values`, :func:`learned_vs_quadratic_values`, :func:`fits_where_scored_values`);
:func:`claim_inputs` lists them all, :func:`reading_gaps` says which reading of x̃ comes closer to the paper's
numbers. A Table 2 cell whose learner missed the fit rule is measured and shown, and capped at "partly".
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from conservae_lib.claims import ledger
from .corruption import READINGS
from .field_fit import FIT_MARGIN
from .table2 import CVF_ROWS, seed_values

__all__ = ["paper_fraction", "unusable", "DIVERGED_ERROR", "table2_cell", "trend_values", "below_one_values", "fig5_values",
           "alg1_values", "learned_vs_quadratic_values", "psd_reachable_values", "fits_where_scored_values",
           "claim_inputs", "reading_gaps"]


def paper_fraction(row: str, beta: float) -> float | None:
    """Table 2's fraction E(x) > E(x̃) for one row and β, from the ledger (None: not reported)."""
    cid = f"table2.{row}.b{beta:.1f}"
    return ledger.CLAIMS[cid].paper if cid in ledger.CLAIMS else None


def _unfit_cap(runs: Sequence[Mapping[str, Any]], row: str, betas: Sequence[float]) -> tuple[str, str] | None:
    """``(partly, why)`` when a seed's tied learner of ``row`` at one of ``betas`` did not fit its field
    (:func:`conservae_lib.chapters.mnist_conservative_part.field_fit.learner_fits`), else None: the cell is
    measured and shown, but an energy whose learner missed its field is not the energy of that field, so the
    cell can support the paper's number at most partly (the ledger's ``cap``)."""
    reason = _not_fitted(runs, row, betas)
    return None if reason is None else (ledger.PARTLY, reason + ", so this energy is not quite that field's")


def _not_fitted(runs: Sequence[Mapping[str, Any]], row: str, betas: Sequence[float]) -> str | None:
    """Which seeds' tied learners of ``row`` at ``betas`` missed the fit rule, or None when every one fitted."""
    bad = []
    for b in betas:
        for run, err, floor, fits in zip(runs, *(seed_values(runs, row, f"learners/tied/{q}")[b]
                                                  for q in ("rel_error_uniform", "floor", "fits"))):
            if not fits:
                bad.append(f"β = {b:.1f}, seed {run['seed']}: {err:.3f} > {floor:.3f} + {FIT_MARGIN}")
    if not bad:
        return None
    return "the learner did not fit (held-out relative error above the tied floor + margin: " + "; ".join(bad[:3]) + \
        (f"; {len(bad) - 3} more" if len(bad) > 3 else "") + ")"


#: A learner whose relative error on the field exceeds this (or is not finite) diverged: its numbers are not results.
DIVERGED_ERROR = 1e3


def unusable(runs: Sequence[Mapping[str, Any]], row: str, learner: str = "tied") -> str | None:
    """Why the ``learner`` learners of ``row`` cannot carry a claim about how they learn, or None: one of them
    diverged (a final loss or relative error that is not finite, or an error above :data:`DIVERGED_ERROR` × the
    field's size), or none of them, at any β and seed, fits the field (:func:`_not_fitted`'s rule) — a learner
    too small or too badly trained to represent any target says nothing about the targets."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    loss = seed_values(runs, row, f"learners/{learner}/final_loss")
    err = seed_values(runs, row, f"learners/{learner}/rel_error_uniform")
    for b in betas:
        for i, run in enumerate(runs):
            if not (np.isfinite(loss[b][i]) and np.isfinite(err[b][i]) and err[b][i] <= DIVERGED_ERROR):
                return (f"the {learner} learner diverged (β = {b:.1f}, seed {run['seed']}: final loss {loss[b][i]:.3g}, "
                        f"relative error {err[b][i]:.3g})")
    fits = seed_values(runs, row, f"learners/{learner}/fits")
    if not any(bool(f) for b in betas for f in fits[b]):
        return f"no {learner} learner fits its field at any β or seed: it cannot represent the targets"
    return None


def _beta(runs: Sequence[Mapping[str, Any]], row: str, beta: float) -> float:
    """The β of the run equal to ``beta`` (to 1e-9), or ValueError when it was not run."""
    for entry in runs[0]["cvf"][row]["rows"]:
        if abs(entry["beta"] - beta) < 1e-9:
            return entry["beta"]
    raise ValueError(f"β = {beta} was not run; the run has β in {[e['beta'] for e in runs[0]['cvf'][row]['rows']]}.")


def table2_cell(runs: Sequence[Mapping[str, Any]], row: str, beta: float, corruption: str = "salt_and_pepper") -> dict[str, Any]:
    """What the chapter hands to ``ledger.judge`` for one Table 2 cell: ``values`` (the tied
    learner's fraction E(x) > E(x̃), one per seed), ``control`` (the same fraction for the learned
    energy's own quadratic term −½‖x − c‖² alone, which knows nothing of how the field varies) and
    ``cap`` (at most partly when a seed's learner did not fit, :func:`_unfit_cap`)."""
    b = _beta(runs, row, beta)
    return {"values": seed_values(runs, row, f"learners/tied/fraction/{corruption}")[b],
            "control": seed_values(runs, row, f"learners/tied/quadratic_term/{corruption}")[b],
            "cap": _unfit_cap(runs, row, [b])}


def _curves(runs: Sequence[Mapping[str, Any]], row: str, path: str, betas: Sequence[float]) -> list[list[float]]:
    """One curve per seed of ``path`` over ``betas`` (the ledger's trend statistics)."""
    vals = seed_values(runs, row, path)
    return [[float(vals[b][i]) for b in betas] for i in range(len(runs))]


def trend_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper", row: str = "tied") -> dict[str, Any]:
    """For ``table2.trend``: one curve per seed of the tied learner's fraction over β, the control
    curves of its quadratic term, the axis, and ``cap`` as in :func:`table2_cell`."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    return {"values": _curves(runs, row, f"learners/tied/fraction/{corruption}", betas),
            "control": _curves(runs, row, f"learners/tied/quadratic_term/{corruption}", betas),
            "axis": betas, "cap": _unfit_cap(runs, row, betas)}


def below_one_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper", row: str = "tied") -> dict[str, Any]:
    """For ``table2.below-1``: one boolean per β < 1 and seed — fraction at β < fraction at β = 1 —
    for the tied learner and (control) for its quadratic term; ``cap`` as above."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    top = _beta(runs, row, 1.0)

    def bools(path: str) -> list[bool]:
        v = seed_values(runs, row, path)
        return [bool(v[b][i] < v[top][i]) for b in betas if b < top for i in range(len(runs))]

    return {"values": bools(f"learners/tied/fraction/{corruption}"),
            "control": bools(f"learners/tied/quadratic_term/{corruption}"),
            "n_seeds": len(runs), "cap": _unfit_cap(runs, row, betas)}


def fig5_values(runs: Sequence[Mapping[str, Any]], learner: str = "tied") -> dict[str, Any]:
    """For ``fig5``: one curve per seed and row of Table 2 (both ways of training F_K) of a learner's final
    training loss over β, and the axis; ``not_tested`` when the learners of either row are :func:`unusable`."""
    betas = [e["beta"] for e in runs[0]["cvf"][CVF_ROWS[0]]["rows"]]
    bad = [why for row in CVF_ROWS if (why := unusable(runs, row, learner))]
    return {"not_tested": "; ".join(bad)} if bad else {
        "values": [c for row in CVF_ROWS for c in _curves(runs, row, f"learners/{learner}/final_loss", betas)],
        "axis": betas}


def alg1_values(runs: Sequence[Mapping[str, Any]], row: str = "tied", part: str = "representable") -> dict[str, Any]:
    """For ``alg1``: per seed, the tied learner's relative squared distance to the target's conservative part
    averaged over β (:func:`conservae_lib.chapters.mnist_conservative_part.field_fit.conservative_part_distances`;
    ``part``: ``representable``, the part a tied sigmoid auto-encoder can represent, or ``symmetric``, the whole);
    ``not_tested`` when the tied learners are :func:`unusable`."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    bad = unusable(runs, row, "tied")
    return {"not_tested": bad} if bad else {
        "values": [float(np.mean(c)) for c in _curves(runs, row, f"learners/tied/conservative_part_distance/{part}", betas)]}


# ------------------------------------------------------------------------------------ the book's own findings
def learned_vs_quadratic_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper") -> dict[str, Any]:
    """For the finding ``alg1.learned-vs-quadratic``: one boolean per row, β and seed — the tied learner's
    fraction E(x) > E(x̃) above that of its own quadratic term −½‖x − c‖² alone."""
    out = []
    for row in CVF_ROWS:
        full = seed_values(runs, row, f"learners/tied/fraction/{corruption}")
        quad = seed_values(runs, row, f"learners/tied/quadratic_term/{corruption}")
        out += [bool(f > q) for b in full for f, q in zip(full[b], quad[b])]
    return {"values": out, "n_seeds": len(runs)}


def psd_reachable_values(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """For the finding ``alg1.psd-reachable``: one boolean per row, β and seed — the best field with a positive
    semi-definite Jacobian (what a tied sigmoid auto-encoder is) comes within the fit margin of the best
    conservative field: tied floor − symmetric error ≤ :data:`FIT_MARGIN` (held-out cube points)."""
    out = []
    for row in CVF_ROWS:
        floor = seed_values(runs, row, "references/tied_floor")
        sym = seed_values(runs, row, "references/symmetric")
        out += [bool(f - s <= FIT_MARGIN) for b in floor for f, s in zip(floor[b], sym[b])]
    return {"values": out, "n_seeds": len(runs)}


def fits_where_scored_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper") -> dict[str, Any]:
    """For the finding ``alg1.fits-where-scored``: one boolean per row, β and seed whose tied learner fits on the
    cube — it also fits (same rule, its own floor there) at the MNIST test images and at their corrupted copies,
    where Table 2 scores the energy."""
    out = []
    for row in CVF_ROWS:
        cube = seed_values(runs, row, "learners/tied/fits")
        digits = seed_values(runs, row, "learners/tied/fits_mnist")
        noisy = seed_values(runs, row, f"learners/tied/fits_corrupted/{corruption}")
        out += [bool(d and n) for b in cube for c, d, n in zip(cube[b], digits[b], noisy[b]) if c]
    return {"values": out, "n_seeds": len(runs)} if out else {
        "not_tested": "no tied learner fits its field on the cube, so none can be checked where the energy is scored"}


def claim_inputs(runs: Sequence[Mapping[str, Any]], table_section: str = "sec-alg1-table2",
                 learned_section: str = "sec-alg1-learned", fig_section: str = "sec-alg1-fig5") -> list[dict[str, Any]]:
    """Everything chapter 07 hands to :func:`conservae_lib.claims.ledger.judge`, one dict of keyword
    arguments per judgement (``id``, ``values``, and where they apply ``control``, ``not_tested``,
    ``axis``, ``n_seeds``, ``reading``, ``section``): every Table 2 cell of both rows under both
    readings of x̃ (:data:`READINGS`), the trend and "below 1" sentences, the "93 %" sentence
    (primary: Table 2's β = 0.4, the formula's β = 0.6; reading ``table-beta``: Table 2's β = 0.6),
    Figure 5 (both rows), Algorithm 1 (primary: row CVF = Tied AE, the representable conservative part;
    readings ``symmetric-part`` and ``cvf-untied``) and the book's own findings (``alg1.psd-reachable``,
    ``alg1.learned-vs-quadratic``, ``alg1.fits-where-scored``)."""
    out: list[dict[str, Any]] = []
    for corruption, reading in READINGS.items():
        for row in CVF_ROWS:
            for entry in runs[0]["cvf"][row]["rows"]:
                b = entry["beta"]
                if f"table2.{row}.b{b:.1f}" not in ledger.CLAIMS:  # a β that Table 2 does not report
                    continue
                out.append({"id": f"table2.{row}.b{b:.1f}", **table2_cell(runs, row, b, corruption),
                            "reading": reading, "section": table_section})
        out.append({"id": "table2.trend", **trend_values(runs, corruption), "reading": reading, "section": table_section})
        out.append({"id": "table2.below-1", **below_one_values(runs, corruption), "reading": reading,
                    "section": table_section})
        out.append({"id": "recover-93", **table2_cell(runs, "tied", 0.4, corruption), "reading": reading,
                    "section": table_section})
    out.append({"id": "recover-93", **table2_cell(runs, "tied", 0.6), "reading": "table-beta", "section": table_section})
    out.append({"id": "fig5", **fig5_values(runs), "section": fig_section})
    out.append({"id": "alg1", **alg1_values(runs, "tied"), "section": learned_section})
    out.append({"id": "alg1", **alg1_values(runs, "tied", "symmetric"), "reading": "symmetric-part",
                "section": learned_section})
    out.append({"id": "alg1", **alg1_values(runs, "untied"), "reading": "cvf-untied", "section": learned_section})
    out.append({"id": "alg1.psd-reachable", **psd_reachable_values(runs), "section": learned_section})
    for corruption, reading in READINGS.items():
        out.append({"id": "alg1.learned-vs-quadratic", **learned_vs_quadratic_values(runs, corruption),
                    "reading": reading, "section": table_section})
        out.append({"id": "alg1.fits-where-scored", **fits_where_scored_values(runs, corruption), "reading": reading,
                    "section": learned_section})
    return out


def reading_gaps(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per reading of x̃ (:data:`READINGS`) and row, the mean |ours − paper| over Table 2's cells
    (tied learner, mean over seeds), and ``"both rows"``: which reading comes closer to the
    paper's numbers."""
    out: dict[str, dict[str, float]] = {}
    for k in READINGS:
        gaps = {}
        for row in CVF_ROWS:
            d = [abs(summary[f"{row}:learners/tied/fraction/{k}"][b][0] - p)
                 for b in summary["betas"] if (p := paper_fraction(row, b)) is not None]
            gaps[row] = float(np.mean(d))
        gaps["both rows"] = float(np.mean([gaps[r] for r in CVF_ROWS]))
        out[k] = gaps
    return out
