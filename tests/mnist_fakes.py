"""Fake finished runs for the tests of chapter 04's modules (empirical, table1,
readings, table1_figures): records written by hand, so the statistics they feed are known."""
from __future__ import annotations

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.core.models import AutoEncoder


def fake_run(key: str, seed: int, start: float, end: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": start, "rw_sym": start, "filter_cos": 0.0},
            {"epoch": 10, "jac_sym": end, "rw_sym": end, "filter_cos": 0.6}]
    return E.RunResult(spec, seed, E.Settings(), recs, AutoEncoder(784, 4, spec.activation))


def fake_records(jac_sym: float, frac: float, loss: float = 5.0) -> list[dict]:
    return [{"epoch": 0, "loss": 50.0, "jac_sym": 0.5, "rw_sym": 0.5, "degenerate_frac": 0.0},
            {"epoch": 10, "loss": loss, "jac_sym": jac_sym, "rw_sym": 0.6, "degenerate_frac": frac}]


def fake_eps_run(key: str, eps: float, rec: float, sym: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": 0.5}, {"epoch": 5, "jac_sym": sym, "rec_err": rec}]
    return E.RunResult(spec, 0, E.Settings(cae_weight=eps, epochs=5), recs, AutoEncoder(784, 4, spec.activation))
