"""Chapter 01's experiment: Propositions 1–2 and Corollary 1 checked on constructed auto-encoders.

:func:`survey` measures, for each model of :func:`conservae_lib.core.conditions.proposition_examples`,
the asymmetry of its Jacobian, the path dependence of its line integrals and its circulation around
closed loops (:func:`conservae_lib.core.conditions.check_conservative`); :func:`claims` turns those rows
into the ledger's records; :mod:`conservae_lib.chapters.conservative_autoencoders.report` tabulates them. ``PARAMETERS``
declares the chapter's parameters.
Chapter: *Conservative auto-encoders* (01).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from conservae_lib.claims import ledger
from conservae_lib.core.conditions import check_conservative
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor


#: Points at which the deep models' explicit D × D Jacobians are formed (they cost D² numbers each).
MAX_EXPLICIT = 32


def survey(
    models: dict[str, tuple[torch.nn.Module, bool]], x: Tensor, n_loops: int = 64,
    max_explicit: int = MAX_EXPLICIT, seed: int = 0,
) -> list[dict[str, object]]:
    """:func:`check_conservative` on each model, plus the energy-gradient check where a closed
    form exists. Deep models form explicit Jacobians, so they use the first ``max_explicit``
    points only. Returns one dict of raw numbers per model.
    """
    from conservae_lib.core.energy import decoder_scales, potential_gradient_error

    rows = []
    for name, (model, expected) in models.items():
        pts = x if isinstance(model, AutoEncoder) else x[:max_explicit]
        row: dict[str, object] = {"model": name, "theory": expected}
        row.update(check_conservative(model, pts, n_loops=n_loops, seed=seed))
        closed = isinstance(model, AutoEncoder) and decoder_scales(model) is not None
        row["energy_grad_error"] = potential_gradient_error(model, pts) if closed else None
        rows.append(row)
    return rows


def claims(rows: Sequence[Mapping[str, Any]], D: int) -> list[dict[str, Any]]:
    """The ledger's records of Propositions 1–2, Corollary 1 and "tied is not necessary" from the
    survey's rows: the models the theory calls conservative must pass, the others are the controls."""
    data = f"random points in [0, 1]^{D} and random weights (no data set)"
    smooth = [r for r in rows if "relu" not in r["model"]]
    one_layer = [r for r in smooth if not r["model"].startswith("deep")]
    tied = [r for r in rows if r["model"].startswith("tied")]
    untied_cons = [r for r in rows if r["theory"] and not r["model"].startswith("tied")]
    return [
        ledger.judge("prop1", [r["path_dependence_max"] for r in smooth if r["theory"]],
                     control=min(r["path_dependence_max"] for r in smooth if not r["theory"]),
                     data=data, section="sec-cons-survey"),
        ledger.judge("prop2", [r["circulation_max"] for r in one_layer if r["theory"]],
                     control=min(r["circulation_mean"] for r in one_layer if not r["theory"]),
                     data=data, section="sec-cons-survey"),
        ledger.judge("cor1", [max(r["asym_max"], r["energy_grad_error"]) for r in tied],
                     data=data, section="sec-cons-survey"),
        ledger.judge("tied-strict", [r["asym_max"] for r in untied_cons], data=data, section="sec-cons-survey"),
    ]
