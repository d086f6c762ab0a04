"""Tests of conservae_lib.chapters.mnist_conservative_part.algorithm1 (chapter 07: Algorithm 1 — the continuum of fields, the learners,
the checkpointed runs) and, end to end, of the tables and Figure 5 of conservae_lib.chapters.mnist_conservative_part.report."""
from __future__ import annotations

import pytest
import torch

from conservae_lib.chapters.mnist_conservative_part import report as rp
from conservae_lib.chapters.mnist_conservative_part import alg1_runs, algorithm1 as a1
from conservae_lib.chapters.mnist_conservative_part import corruption as cr
from conservae_lib.chapters.mnist_conservative_part import field_fit as ff
from conservae_lib.core import fields
from conservae_lib.tooling import profiles
from conservae_lib.chapters.mnist_conservative_part import table2 as t2
from conservae_lib.core.models import AutoEncoder


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: on a shared, oversubscribed CPU, two threads spin and run many times slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _pair(D: int = 12, H: int = 7, dtype=torch.float64):
    tied = AutoEncoder(D, H, "sigmoid", tied=True, seed=1, dtype=dtype)
    with torch.no_grad():
        tied.b.normal_(0, 0.5, generator=torch.Generator().manual_seed(2))
        tied.c.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    rand = AutoEncoder(D, H, "sigmoid", tied=False, seed=4, dtype=dtype)
    return tied, rand


# ----------------------------------------------------------------------------- interpolation (Algorithm 1, step 4)
def test_interpolation_endpoints_are_the_two_models():
    tied, rand = _pair()
    x = torch.rand(20, 12, dtype=torch.float64)
    assert torch.allclose(a1.interpolate_parameters(tied, rand, 1.0).field(x), tied.field(x), atol=1e-14)
    assert torch.allclose(a1.interpolate_parameters(tied, rand, 0.0).field(x), rand.field(x), atol=1e-14)


def test_interpolation_mixes_every_parameter_linearly():
    tied, rand = _pair()
    m = a1.interpolate_parameters(tied, rand, 0.25)
    for got, k, r in ((m.W, tied.W, rand.W), (m.R, tied.R, rand.R), (m.b, tied.b, rand.b), (m.c, tied.c, rand.c)):
        assert torch.allclose(got, 0.25 * k + 0.75 * r, atol=1e-15)


def test_interpolation_is_conservative_only_at_beta_one():
    tied, rand = _pair(D=30, H=20)
    x = torch.rand(50, 30, dtype=torch.float64)
    with torch.no_grad():
        sym = {b: float(fields.jacobian_symmetricity(a1.interpolate_parameters(tied, rand, b), x).mean()) for b in (0.0, 0.5, 1.0)}
    assert sym[1.0] == pytest.approx(1.0, abs=1e-12)
    assert sym[0.0] < 0.8 and sym[0.0] < sym[0.5] < sym[1.0]


@pytest.mark.parametrize("beta", [-0.1, 1.5, True, "0.5"])
def test_interpolation_rejects_beta_outside_unit_interval(beta):
    tied, rand = _pair()
    with pytest.raises(ValueError, match="beta"):
        a1.interpolate_parameters(tied, rand, beta)


# ----------------------------------------------------------------------------- learning a field
def test_tied_learner_fits_a_conservative_field():
    target = AutoEncoder(10, 8, "sigmoid", tied=True, seed=5)
    x = a1.sample_uniform_points(400, 10, 0)
    x_eval = a1.sample_uniform_points(200, 10, 1)
    learned, hist = a1.fit_to_field(target, x, tied=True, H=16, activation="sigmoid", epochs=60, batch_size=50,
                                    lr=1e-2, seed=0, x_eval=x_eval, progress=False, device="cpu")
    curve = hist.column("rel_error")
    assert curve[-1] < 0.1 * curve[0]
    assert ff.relative_field_error(learned, target, x_eval) < 0.05


def test_field_targets_are_the_reconstruction():
    _, rand = _pair()
    x = torch.rand(10, 12, dtype=torch.float64)
    assert torch.allclose(a1.field_targets(rand, x), rand(x))


def test_subsample_is_seeded_without_replacement():
    x = torch.arange(50.0).reshape(50, 1)
    a, b = a1.subsample(x, 20, 3), a1.subsample(x, 20, 3)
    assert torch.equal(a, b) and len(a.unique()) == 20
    assert len(a1.subsample(x, 500, 3)) == 50


# ----------------------------------------------------------------------------- end to end
def _tiny_cfg(**kw):
    cfg = profiles.configure("mnist_conservative_part", "smoke", seeds=[0, 1], n_train=60, n_test=30, H=6,
                             mnist_epochs=1, field_epochs=2, n_field_points=40, n_eval_points=50, device="cpu",
                             workers=1)
    cfg.update(kw)
    return cfg


def _tiny_data():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(90, 784)
    x[:, 350:450] = torch.rand(90, 100, generator=g)
    return x[:60], x[60:]


def test_experiment_resumes_from_checkpoints_with_identical_numbers(tmp_path):
    cfg = _tiny_cfg(seeds=[0], betas=[0.0, 1.0])
    xtr, xte = _tiny_data()
    run_dir = alg1_runs.run_directory(cfg, tmp_path)
    first = alg1_runs.run_experiment(cfg, xtr, xte, run_dir, progress=False)
    # two MNIST models, a tied learner per row and β, an untied learner per β on the tied row
    assert len(list(run_dir.glob("seed0/*.pt"))) == 2 + 3 * len(cfg.betas)
    again = alg1_runs.run_experiment(cfg, xtr, xte, run_dir, progress=False)
    assert again == first
    # other parameters never read these checkpoints; threads and workers do not change the folder
    assert alg1_runs.run_directory(_tiny_cfg(seeds=[0], betas=[0.0, 1.0], field_epochs=3), tmp_path) != run_dir
    assert alg1_runs.run_directory(dict(cfg, workers=2, cpu_threads=1, seeds=[0, 1]), tmp_path) == run_dir


def test_learners_trained_in_a_pool_of_processes_match_learners_trained_in_process(tmp_path):
    # two processes with one thread each against this process with one thread: the same learners
    cfg = _tiny_cfg(seeds=[0], betas=[0.0, 1.0], cpu_threads=1)
    xtr, xte = _tiny_data()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone = alg1_runs.run_experiment(cfg, xtr, xte, tmp_path / "a", progress=False)
        pooled = alg1_runs.run_experiment(_tiny_cfg(seeds=[0], betas=[0.0, 1.0], cpu_threads=1, workers=2), xtr, xte,
                                          tmp_path / "b", progress=False)
    finally:
        torch.set_num_threads(threads)
    assert len(list((tmp_path / "b").glob("seed0/*.pt"))) == 2 + 3 * len(cfg.betas)  # the workers' checkpoints
    for a, b in zip(alone[0]["cvf"]["tied"]["rows"], pooled[0]["cvf"]["tied"]["rows"]):
        assert b["learners"]["tied"]["final_loss"] == pytest.approx(a["learners"]["tied"]["final_loss"], rel=1e-5)


def test_both_rows_use_tied_learners_with_closed_form_energy_and_both_readings():
    cfg = _tiny_cfg()
    xtr, xte = _tiny_data()
    runs = alg1_runs.run_experiment(cfg, xtr, xte, None, progress=False)
    for row in t2.CVF_ROWS:
        for entry in runs[0]["cvf"][row]["rows"]:
            tied = entry["learners"]["tied"]
            assert tied["closed_form_energy"] and tied["quadrature_error"] < 1e-8
            assert set(tied["fraction"]) == set(cr.CORRUPTIONS) >= set(cr.READINGS)
            assert set(entry["references"]) == {"linear", "symmetric", "tied_floor", "negative_share"}
    assert set(runs[0]["cvf"]["tied"]["rows"][0]["learners"]) == {"tied", "untied"}
    assert not runs[0]["cvf"]["tied"]["rows"][0]["learners"]["untied"]["closed_form_energy"]
    # the tied row's target at β = 1 is the tied MNIST model (conservative); the untied row's is not tied
    assert runs[0]["cvf"]["tied"]["rows"][-1]["target_symmetricity"] == pytest.approx(1.0, abs=1e-9)
    s = t2.summarize(runs)
    table = rp.table2(s)
    assert list(table.columns) == [f"β = {b:.1f}" for b in cfg.betas]
    assert len(table) == 2 * (2 + len(cr.READINGS))
    assert len(rp.fit_table(s)) == 2 * len(cfg.betas)
    assert len(rp.final_loss_table(s)) == len(cfg.betas)
    # the trivial energies, then per β the target, the tied learner, its quadratic term and the untied learner
    assert len(rp.controls_table(s, "tied")) == len(s["trivial"]) + 4 * len(cfg.betas)
    fitted, learners = rp.fit_count(s)
    assert 0 <= fitted <= learners == len(t2.CVF_ROWS) * len(cfg.betas) * len(cfg.seeds)
    numbers = rp.prose_numbers(s)
    assert {f"quad_min_{k}" for k in cr.READINGS} <= set(numbers) and all(d in (2, 3) for _, d in numbers.values())
    fig = rp.plot_learning_curves(runs)
    assert len(fig.axes) == 2
