"""Tests of conservae_lib.algorithm1 (chapter 07: Algorithm 1, Table 2, Figure 5)."""
from __future__ import annotations

import copy

import pytest
import torch

from conservae_lib import algorithm1 as a1
from conservae_lib import energy, fields, profiles
from conservae_lib.models import AutoEncoder


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


# ----------------------------------------------------------------------------- energies
def test_segment_integral_equals_closed_form_energy_difference_for_tied_models():
    tied, _ = _pair()
    x, y = torch.rand(40, 12, dtype=torch.float64), torch.rand(40, 12, dtype=torch.float64)
    closed = energy.potential(tied, x) - energy.potential(tied, y)
    assert torch.allclose(a1.segment_integral(tied, y, x, 32), closed, atol=1e-11)
    assert torch.allclose(a1.energy_difference(tied, x, y), closed, atol=1e-12)


def test_segment_integral_matches_generic_line_integral_for_untied_models():
    # the affine-preactivation shortcut must give the same numbers as integrating r(x) − x directly
    _, rand = _pair()
    x, x0 = torch.rand(30, 12, dtype=torch.float64), torch.rand(1, 12, dtype=torch.float64)
    generic = energy.line_potential(rand, x, x0=x0, n_nodes=32)
    ours = a1.segment_integral(rand, x0.expand_as(x), x, 32, chunk_elements=50)  # several chunks
    assert torch.allclose(ours, generic, atol=1e-11)


def test_untied_energy_difference_is_path_dependent_and_tied_is_not():
    tied, rand = _pair(D=20, H=15)
    x, y = torch.rand(25, 20, dtype=torch.float64), torch.rand(25, 20, dtype=torch.float64)
    assert a1.path_dependence_ratio(tied, x, y, 32) < 1e-10
    assert a1.path_dependence_ratio(rand, x, y, 32) > 1e-3


def test_fraction_higher_counts_ties_as_half():
    assert a1.fraction_higher(torch.tensor([1.0, -1.0, 2.0, 3.0])) == 0.75
    assert a1.fraction_higher(torch.tensor([0.0, 0.0, 1.0, -1.0])) == 0.5
    assert a1.fraction_higher(torch.tensor([1e-12, 1.0]), scale=torch.tensor([10.0, 10.0])) == 0.75


# ----------------------------------------------------------------------------- corruptions and the trivial-energy control
def test_permutation_keeps_norm_and_histogram():
    x = torch.rand(5, 50, dtype=torch.float64)
    p = a1.permute_pixels(x, 0)
    assert torch.equal(p.sort(dim=1).values, x.sort(dim=1).values)
    assert not torch.equal(p, x)


def test_salt_and_pepper_levels_and_same_norm_rescaling():
    x = torch.full((200, 100), 0.3, dtype=torch.float64)
    assert torch.equal(a1.salt_and_pepper(x, 0.0, 0), x)
    full = a1.salt_and_pepper(x, 1.0, 0)
    assert set(full.unique().tolist()) <= {0.0, 1.0}
    changed = (a1.salt_and_pepper(x, 0.1, 0) != x).double().mean()
    assert 0.08 < float(changed) < 0.12
    r = a1.rescale_to_norm(a1.salt_and_pepper(x, 0.1, 0), x)
    assert torch.allclose(r.norm(dim=1), x.norm(dim=1))
    with pytest.raises(ValueError, match="corruption"):
        a1.corrupt(x, "blur", 0.1, 0)


def test_trivial_energy_separates_salt_and_pepper_but_not_permutations():
    # The control of the chapter: on sparse, digit-like images, −½‖x‖² alone prefers the clean image
    # to its salt-and-pepper copy, and is blind to a pixel permutation (fraction exactly ½).
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(300, 784, dtype=torch.float64)
    x[:, 300:420] = torch.rand(300, 120, generator=g, dtype=torch.float64)
    for kind, lo, hi in (("salt_and_pepper", 0.9, 1.0), ("permuted", 0.5, 0.5)):
        xc = a1.corrupt(x, kind, 0.1, 1)
        e, ec = a1.quadratic_energy(x), a1.quadratic_energy(xc)
        assert lo <= a1.fraction_higher(e - ec, e.abs() + ec.abs()) <= hi


# ----------------------------------------------------------------------------- learning a field
def test_tied_learner_fits_a_conservative_field():
    target = AutoEncoder(10, 8, "sigmoid", tied=True, seed=5)
    x = a1.sample_uniform_points(400, 10, 0)
    x_eval = a1.sample_uniform_points(200, 10, 1)
    learned, hist = a1.fit_to_field(target, x, tied=True, H=16, activation="sigmoid", epochs=60, batch_size=50,
                                    lr=1e-2, seed=0, x_eval=x_eval, progress=False, device="cpu")
    curve = hist.column("rel_error")
    assert curve[-1] < 0.1 * curve[0]
    assert a1.relative_field_error(learned, target, x_eval) < 0.05


def test_relative_field_error_is_one_for_the_best_constant():
    _, rand = _pair()
    x = torch.rand(400, 12, dtype=torch.float64)
    with torch.no_grad():
        const = AutoEncoder.from_weights(torch.zeros(12, 7, dtype=torch.float64), torch.zeros(12, 7, dtype=torch.float64),
                                         c=rand(x).mean(0), activation="sigmoid")
    assert a1.relative_field_error(const, rand, x) == pytest.approx(1.0, abs=1e-12)
    assert a1.relative_field_error(rand, rand, x) == 0.0


def test_field_targets_are_the_reconstruction():
    _, rand = _pair()
    x = torch.rand(10, 12, dtype=torch.float64)
    assert torch.allclose(a1.field_targets(rand, x), rand(x))


def test_subsample_is_seeded_without_replacement():
    x = torch.arange(50.0).reshape(50, 1)
    a, b = a1.subsample(x, 20, 3), a1.subsample(x, 20, 3)
    assert torch.equal(a, b) and len(a.unique()) == 20
    assert len(a1.subsample(x, 500, 3)) == 50


# ----------------------------------------------------------------------------- the binomial reading of x̃
def test_binomial_images_are_independent_bernoulli_pixels_at_the_data_ink():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(400, 784, dtype=torch.float64)
    x[:, 300:420] = torch.rand(400, 120, generator=g, dtype=torch.float64)
    xb = a1.corrupt(x, "binomial", 0.1, 7)
    assert set(xb.unique().tolist()) == {0.0, 1.0}
    assert float(xb.mean()) == pytest.approx(a1.ink(x), abs=0.005)
    # independent of the clean image: the background (always 0 in x) is as often 1 as the digit's pixels
    assert float(xb[:, :300].mean()) == pytest.approx(float(xb[:, 300:420].mean()), abs=0.01)
    assert torch.equal(xb, a1.corrupt(x, "binomial", 0.1, 7))
    with pytest.raises(ValueError, match="probability"):
        a1.binomial_images((2, 3), 1.5, 0)


# ----------------------------------------------------------------------------- what a conservative field can do
def test_conservative_references_of_a_linear_field_are_its_symmetric_part():
    # r(x) = R(Wᵀx + b) + c is linear, J = R Wᵀ. Over the cube (covariance I/12) the symmetric part
    # leaves exactly the antisymmetric part's share ‖A‖²/‖J‖² of the variation.
    model = AutoEncoder(6, 6, "linear", tied=False, seed=3, dtype=torch.float64)
    x_fit, x_eval = a1.sample_uniform_points(20000, 6, 0), a1.sample_uniform_points(20000, 6, 1)
    refs = a1.conservative_references(model, x_fit, x_eval, H=6)
    J = (model.R @ model.W.T).detach()
    A = 0.5 * (J - J.T)
    assert refs["linear"] < 1e-12
    assert refs["symmetric"] == pytest.approx(float((A ** 2).sum() / (J ** 2).sum()), rel=0.05)
    assert refs["tied_floor"] >= refs["symmetric"] - 1e-12


def test_tied_floor_is_zero_for_a_tied_linear_field_and_not_for_a_negative_one():
    tied = AutoEncoder(6, 4, "linear", tied=True, seed=3, dtype=torch.float64)   # J = W Wᵀ, PSD
    x_fit, x_eval = a1.sample_uniform_points(5000, 6, 0), a1.sample_uniform_points(5000, 6, 1)
    refs = a1.conservative_references(tied, x_fit, x_eval, H=4)
    assert refs["tied_floor"] < 1e-12 and refs["negative_share"] < 1e-12
    neg = AutoEncoder.from_weights(tied.W.detach(), -tied.W.detach(), activation="linear")  # J = −W Wᵀ
    refs = a1.conservative_references(neg, x_fit, x_eval, H=4)
    assert refs["symmetric"] < 1e-12              # conservative ...
    assert refs["tied_floor"] == pytest.approx(1.0, abs=1e-3)  # ... but out of a tied sigmoid AE's reach


def test_learner_fits_rule_passes_and_fails():
    assert a1.learner_fits(0.30, 0.25)
    assert not a1.learner_fits(0.40, 0.25)
    assert not a1.learner_fits(float("nan"), 0.25)


def test_plateau_detection_passes_and_fails():
    assert a1.plateaued([1.0, 0.5, 0.3, 0.3, 0.3, 0.299])
    assert not a1.plateaued([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])


# ----------------------------------------------------------------------------- numbers handed to the ledger
def _fake_runs(fits: bool):
    def entry(beta, frac):
        learner = {"rel_error_uniform": 0.2 if fits else 0.9, "floor": 0.15, "fits": fits, "final_loss": 1.0 - beta,
                   "symmetric_part_distance": 0.05, "fraction": {"salt_and_pepper": frac, "binomial": frac},
                   "quadratic_term": {"salt_and_pepper": 1.0, "binomial": 0.5}}
        return {"beta": beta, "learners": {"tied": learner}}
    return [{"seed": s, "cvf": {row: {"rows": [entry(b, 0.5 + 0.4 * b) for b in (0.0, 0.4, 1.0)]} for row in a1.CVF_ROWS}}
            for s in (0, 1)]


def test_table2_cell_withholds_cells_of_learners_that_did_not_fit():
    cell = a1.table2_cell(_fake_runs(fits=True), "tied", 0.4)
    assert cell == {"values": [0.66, 0.66], "control": [1.0, 1.0], "not_tested": None}
    cell = a1.table2_cell(_fake_runs(fits=False), "untied", 0.4, "binomial")
    assert cell["not_tested"].startswith("the learner did not fit") and "0.900" in cell["not_tested"]
    assert cell["control"] == [0.5, 0.5]
    with pytest.raises(ValueError, match="β"):
        a1.table2_cell(_fake_runs(fits=True), "tied", 0.6)


def test_trend_and_below_one_and_fig5_values_follow_beta():
    runs = _fake_runs(fits=True)
    t = a1.trend_values(runs)
    assert t["axis"] == [0.0, 0.4, 1.0] and t["values"][0] == pytest.approx([0.5, 0.66, 0.9])
    assert a1.below_one_values(runs)["values"] == [True] * 4
    assert a1.fig5_values(runs)["values"][1] == pytest.approx([1.0, 0.6, 0.0])
    assert a1.alg1_values(runs)["values"] == pytest.approx([0.05, 0.05])


# ----------------------------------------------------------------------------- end to end
def _tiny_cfg(**kw):
    cfg = profiles.configure("mnist_conservative_part", "smoke", seeds=[0, 1], n_train=60, n_test=30, H=6,
                             mnist_epochs=1, field_epochs=2, n_field_points=40, n_eval_points=20, device="cpu",
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
    run_dir = a1.run_directory(cfg, tmp_path)
    first = a1.run_experiment(cfg, xtr, xte, run_dir, progress=False)
    # two MNIST models, a tied learner per row and β, an untied learner per β on the tied row
    assert len(list(run_dir.glob("seed0/*.pt"))) == 2 + 3 * len(cfg["betas"])
    again = a1.run_experiment(cfg, xtr, xte, run_dir, progress=False)
    assert again == first
    # other parameters never read these checkpoints; threads and workers do not change the folder
    assert a1.run_directory(_tiny_cfg(seeds=[0], betas=[0.0, 1.0], field_epochs=3), tmp_path) != run_dir
    assert a1.run_directory(dict(cfg, workers=2, cpu_threads=1, seeds=[0, 1]), tmp_path) == run_dir


def test_both_rows_use_tied_learners_with_closed_form_energy_and_both_readings():
    cfg = _tiny_cfg()
    xtr, xte = _tiny_data()
    runs = a1.run_experiment(cfg, xtr, xte, None, progress=False)
    for row in a1.CVF_ROWS:
        for entry in runs[0]["cvf"][row]["rows"]:
            tied = entry["learners"]["tied"]
            assert tied["closed_form_energy"] and tied["quadrature_error"] < 1e-8
            assert set(tied["fraction"]) == set(a1.CORRUPTIONS) >= set(a1.READINGS)
            assert set(entry["references"]) == {"linear", "symmetric", "tied_floor", "negative_share"}
    assert set(runs[0]["cvf"]["tied"]["rows"][0]["learners"]) == {"tied", "untied"}
    assert not runs[0]["cvf"]["tied"]["rows"][0]["learners"]["untied"]["closed_form_energy"]
    # the tied row's target at β = 1 is the tied MNIST model (conservative); the untied row's is not tied
    assert runs[0]["cvf"]["tied"]["rows"][-1]["target_symmetricity"] == pytest.approx(1.0, abs=1e-9)
    s = a1.summarize(runs)
    t2 = a1.table2(s)
    assert list(t2.columns) == [f"β = {b:.1f}" for b in cfg["betas"]]
    assert len(t2) == 2 * (2 + len(a1.READINGS))
    assert len(a1.fit_table(s)) == 2 * len(cfg["betas"])
    fig = a1.plot_learning_curves(runs)
    assert len(fig.axes) == 2


def test_claim_inputs_cover_every_registered_claim_of_the_chapter_and_the_ledger_accepts_them():
    from conservae_lib import ledger

    runs = _fake_runs(fits=True)
    for r in runs:  # a full β axis
        for row in a1.CVF_ROWS:
            rows = r["cvf"][row]["rows"]
            r["cvf"][row]["rows"] = [dict(copy.deepcopy(rows[0]), beta=b) for b in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    inputs = a1.claim_inputs(runs)
    assert {c["id"] for c in inputs} == set(ledger.ids_of_chapter("mnist_conservative_part"))
    assert {c["reading"] for c in inputs if c["id"].startswith("table2.")} == {None, "binomial"}
    records = [ledger.judge(**c, data="fake") for c in inputs]
    assert all(r["verdict"] in ledger.VERDICTS for r in records)
    # the control (the learned energy's quadratic term scores 1.0 under salt and pepper) decides
    top = next(r for r in records if r["id"] == "table2.tied.b1.0" and r["reading"] is None)
    assert top["control"] == 1.0
