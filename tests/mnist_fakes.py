"""Fake finished runs for the tests of chapter 04's modules (empirical, table1,
readings, table1_figures): records written by hand, so the statistics they feed are known."""
from __future__ import annotations

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.core.models import AutoEncoder


#: Every field of a :class:`~conservae_lib.chapters.mnist_symmetricity.empirical.Settings`, given explicitly
#: (Settings has no defaults: the chapter's declaration gives them, through ``table1_jobs.settings_from``).
SETTINGS = dict(H=500, epochs=100, batch_size=200, lr=1e-3, optimizer="adam", cae_weight=0.1, alpha=1.0, n_eval=1000,
                metrics_every=2, checkpoint_every=10, device="cpu", contraction="eq10", weight_decay=0.0)


def settings(**changes) -> E.Settings:
    """:data:`SETTINGS` with ``changes``."""
    return E.Settings(**{**SETTINGS, **changes})


def fake_run(key: str, seed: int, start: float, end: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": start, "rw_sym": start, "filter_cos": 0.0},
            {"epoch": 10, "jac_sym": end, "rw_sym": end, "filter_cos": 0.6}]
    return E.RunResult(spec, seed, settings(), recs, AutoEncoder(784, 4, spec.activation))


def fake_records(jac_sym: float, frac: float, loss: float = 5.0) -> list[dict]:
    return [{"epoch": 0, "loss": 50.0, "jac_sym": 0.5, "rw_sym": 0.5, "degenerate_frac": 0.0},
            {"epoch": 10, "loss": loss, "jac_sym": jac_sym, "rw_sym": 0.6, "degenerate_frac": frac}]


def fake_eps_run(key: str, eps: float, rec: float, sym: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": 0.5}, {"epoch": 5, "jac_sym": sym, "rec_err": rec}]
    return E.RunResult(spec, 0, settings(cae_weight=eps, epochs=5), recs, AutoEncoder(784, 4, spec.activation))
