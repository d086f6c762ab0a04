"""The trainer: learning, constraints, penalties and determinism."""
from __future__ import annotations

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.core import fields
from conservae_lib.training import trainer
from conservae_lib.training.collapse import collapse_reason


def _data(n=256, D=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(3, D, generator=g)
    return torch.sigmoid(torch.randn(n, 3, generator=g) @ basis)


def test_training_reduces_the_reconstruction_error():
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    h = trainer.fit(m, x, epochs=30, batch_size=32, lr=1e-2, progress=False)
    assert h.last("loss") < 0.2 * h.records[0]["loss"]


def test_same_seed_gives_identical_training_runs():
    x = _data()
    runs = []
    for _ in range(2):
        m = AutoEncoder(10, 6, "relu", seed=3)
        trainer.fit(m, x, epochs=3, batch_size=16, lr=1e-2, noise=0.1, seed=11, progress=False)
        runs.append(torch.cat([p.detach().flatten() for p in m.parameters()]))
    assert torch.equal(runs[0], runs[1])


def test_weight_length_constraint_holds_after_every_step():
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    trainer.fit(m, x, epochs=2, batch_size=32, lr=1e-2, weight_length=0.7, progress=False)
    torch.testing.assert_close((m.W**2).sum(0), torch.full((6,), 0.7))


def test_metrics_are_recorded_before_training_and_at_the_requested_epochs():
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    h = trainer.fit(m, x, epochs=5, metrics_every=2, lr=1e-2, progress=False,
                     metrics=lambda mm: {"sym": float(fields.jacobian_symmetricity(mm, x[:20]).mean())})
    assert h.column("epoch") == [0, 2, 4, 5]
    assert all(0 <= s <= 1 for s in h.column("sym"))


def test_contraction_penalty_shrinks_the_jacobian():
    x = _data()
    norms = []
    for eps in (0.0, 1.0):
        m = AutoEncoder(10, 6, "sigmoid", seed=0)
        trainer.fit(m, x, epochs=20, batch_size=64, lr=1e-2, contraction=eps, progress=False)
        with torch.no_grad():
            norms.append(float(fields.jacobian_norm2(m, x).mean()))
    assert norms[1] < 0.5 * norms[0]


def test_fitting_a_field_with_targets_and_lbfgs():
    """r(x) − x learns a linear gradient field F(x) = −x/2 (targets x + F(x))."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(400, 2, generator=g, dtype=torch.float64) * 2 - 1
    m = AutoEncoder(2, 16, "linear", tied=True, seed=0, dtype=torch.float64)
    trainer.fit(m, x, x + (-0.5 * x), epochs=20, optimizer="lbfgs", lr=1.0, progress=False)
    with torch.no_grad():
        err = (m.field(x) - (-0.5 * x)).norm() / (0.5 * x).norm()
    assert err < 1e-3


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=-1), "epochs must be an integer"),
    (dict(epochs=1, lr=0), "lr must be a positive number"),
    (dict(epochs=1, batch_size=0), "batch_size must be a positive integer"),
    (dict(epochs=1, optimizer="rmsprop"), "optimizer must be one of adam, sgd, lbfgs"),
    (dict(epochs=1, noise=-0.1), "noise must be a number ≥ 0"),
    (dict(epochs=1, weight_length=0), "weight_length must be a positive number"),
])
def test_bad_training_arguments_give_one_clear_sentence(kwargs, message):
    with pytest.raises(ValueError, match=message):
        trainer.fit(AutoEncoder(10, 6), _data(), progress=False, **kwargs)


def test_a_diverging_run_stops_with_an_error_naming_the_epoch():
    x = _data() * 1e3
    m = AutoEncoder(10, 6, "relu", seed=0)
    with pytest.raises(trainer.DivergenceError, match=r"diverged at epoch \d+.*learning rate"):
        trainer.fit(m, x, epochs=50, batch_size=32, lr=1e6, optimizer="sgd", progress=False, on_divergence="raise")


def test_a_diverging_run_stops_at_once_and_records_why_in_one_line(capsys):
    """Issue 17, case 2: divergence is recorded in the History, training stops at that epoch
    (not after all 50), and exactly one line is printed."""
    x = _data() * 1e3
    m = AutoEncoder(10, 6, "relu", seed=0)
    h = trainer.fit(m, x, epochs=50, batch_size=32, lr=1e6, optimizer="sgd", progress=False)
    assert h.degenerate is not None and h.degenerate.startswith(f"training diverged at epoch {h.stopped_at}:")
    assert "\n" not in h.degenerate
    assert h.stopped_at is not None and h.stopped_at < 50
    assert h.column("epoch")[-1] < h.stopped_at  # the diverged epoch is not recorded as a result
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "diverged" in err
    assert collapse_reason(m, x[:20]) == "the network's parameters are not finite (training diverged)."


def test_a_healthy_run_is_not_degenerate(capsys):
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    h = trainer.fit(m, x, epochs=5, batch_size=32, lr=1e-2, progress=False)
    assert h.degenerate is None and h.stopped_at is None
    assert collapse_reason(m, x) is None
    assert capsys.readouterr().err == ""


def test_a_loss_that_never_fell_is_recorded():
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    h = trainer.fit(m, x, epochs=2, batch_size=None, lr=1e-30, optimizer="sgd", progress=False)
    assert h.degenerate is not None and "never fell" in h.degenerate


def test_the_epoch_loss_is_the_size_weighted_mean_of_the_step_losses():
    # With a vanishing learning rate the parameters stay put, so the epoch's mean of step losses
    # (batches of 100, 100 and 50) must equal the loss over all the data before training.
    x = _data(n=250)
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    h = trainer.fit(m, x, epochs=1, batch_size=100, lr=1e-12, optimizer="sgd", progress=False)
    assert h.records[1]["loss"] == pytest.approx(h.records[0]["loss"], rel=1e-5)


def test_the_cae_objective_is_the_reconstruction_error_plus_the_encoder_penalty():
    # The trainer computes both terms from one forward pass. Reference, independent of the library:
    # eq. (1) written with torch.sigmoid, and ‖∂h/∂x‖²_F from autograd Jacobians of h.
    x = _data(n=64)
    m = AutoEncoder(10, 6, "sigmoid", seed=1)
    W, R, b, c = (t.detach().clone() for t in (m.W, m.R, m.b, m.c))
    hidden = lambda v: torch.sigmoid(v @ W + b)  # noqa: E731
    dh_dx = torch.func.vmap(torch.func.jacrev(hidden))(x)  # N × H × D
    reconstruction = ((hidden(x) @ R.T + c - x) ** 2).sum(dim=1).mean()
    expected = float(reconstruction + 0.3 * (dh_dx ** 2).sum(dim=(1, 2)).mean())
    h = trainer.fit(m, x, epochs=1, batch_size=None, lr=1e-12, optimizer="sgd", encoder_contraction_weight=0.3,
                     progress=False)
    assert h.records[0]["loss"] == pytest.approx(expected, rel=1e-6)
    assert h.records[1]["loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("activation,lr", [("sigmoid", 1e6), ("sigmoid", 10.0), ("relu", 10.0)])
def test_a_real_run_with_an_absurd_learning_rate_is_caught_by_the_trainer_and_the_collapse_check(activation, lr):
    """Issue 17, case 2, as it happened: Adam with a huge step saturates every sigmoid (chapter 04,
    lr 1e6) or kills every ReLU (chapter 05); the loss never falls and no unit is active."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(512, 50, generator=g)
    m = AutoEncoder(50, 30, activation, seed=0)
    h = trainer.fit(m, x, epochs=3, batch_size=64, lr=lr, optimizer="adam", progress=False)
    assert h.degenerate is not None
    reason = collapse_reason(m, x)
    assert reason is not None and "dead or saturated" in reason


# ----------------------------------------------------------------------------- weight decay (issue 24 §2)
def test_weight_decay_is_an_l2_penalty_on_the_weight_matrices_only():
    x = _data()
    m = AutoEncoder(10, 6, "sigmoid", seed=0)
    with torch.no_grad():
        l2 = float(m.W.pow(2).sum() + m.R.pow(2).sum())
        plain = float(((m(x) - x) ** 2).sum(dim=1).mean())
    h = trainer.fit(m, x, epochs=0, batch_size=None, weight_decay=0.5, progress=False)
    assert h.records[0]["loss"] == pytest.approx(plain + 0.5 * l2, rel=1e-5)


def test_weight_decay_shrinks_the_weights_and_zero_leaves_training_unchanged():
    x = _data()
    norms, params = {}, {}
    for wd in (0.0, 0.0, 0.05):
        m = AutoEncoder(10, 6, "sigmoid", seed=0)
        trainer.fit(m, x, epochs=20, batch_size=32, lr=1e-2, weight_decay=wd, progress=False)
        norms[wd] = float(m.W.detach().pow(2).sum() + m.R.detach().pow(2).sum())
        params.setdefault(wd, []).append(torch.cat([p.detach().flatten() for p in m.parameters()]))
    assert norms[0.05] < 0.8 * norms[0.0]
    assert torch.equal(params[0.0][0], params[0.0][1])


def test_a_checkpoint_without_weight_decay_keeps_the_fingerprint_it_had_before(tmp_path):
    """weight_decay = 0 adds nothing to the checkpoint's fingerprint, so runs checkpointed before the option
    existed still resume; a non-zero one is recorded."""
    x = _data()
    for wd in (0.0, 0.1):
        ckpt = tmp_path / f"run{wd}.pt"
        trainer.fit(AutoEncoder(10, 6, "sigmoid", seed=0), x, epochs=1, batch_size=32, weight_decay=wd,
                    checkpoint=ckpt, progress=False)
        state = torch.load(ckpt, weights_only=False)
        assert ("weight_decay" in state["fingerprint"]) == (wd > 0)


@pytest.mark.parametrize("wd", [-1.0, float("nan"), "0.1"])
def test_a_bad_weight_decay_is_refused_in_one_sentence(wd):
    with pytest.raises(ValueError, match="weight_decay must be a number ≥ 0"):
        trainer.fit(AutoEncoder(10, 6, "sigmoid", seed=0), _data(), epochs=1, weight_decay=wd, progress=False)
