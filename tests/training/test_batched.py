"""Batched training (conservae_lib.training.batched.fit_many) gives the numbers of one-at-a-time training."""
from __future__ import annotations

import copy

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.training.batched import fit_many
from conservae_lib.training.trainer import DivergenceError, fit, renormalize_columns

D, H, N = 24, 10, 90  # N not a multiple of the batch size: a short last batch


def _data(seed: int = 0, k: int | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = (N, D) if k is None else (k, N, D)
    return torch.rand(shape, generator=g)


def _models(activation: str, tied: bool, seeds, alphas=None) -> list[AutoEncoder]:
    out = []
    for i, s in enumerate(seeds):
        m = AutoEncoder(D, H, activation, tied=tied, seed=s)
        if alphas is not None and alphas[i] is not None:
            renormalize_columns(m, alphas[i])
        out.append(m)
    return out


def _separately(models, inputs, targets, seeds, per_model: dict, **common):
    """Each model trained alone with training.fit (copies; the originals stay untouched)."""
    out = []
    for i, (m, s) in enumerate(zip(models, seeds)):
        m = copy.deepcopy(m)
        x = inputs[i] if inputs.ndim == 3 else inputs
        t = None if targets is None else (targets[i] if targets.ndim == 3 else targets)
        kw = {name: (v[i] if isinstance(v, list) else v) for name, v in per_model.items()}
        hist = fit(m, x, t, seed=s, device="cpu", progress=False, **kw, **common)
        out.append((m, hist))
    return out


def _assert_same(batched_models, batched_hist, separate, rtol=2e-4, atol=2e-5):
    for i, (m_b, h_b, (m_s, h_s)) in enumerate(zip(batched_models, batched_hist, separate)):
        for name in ("W", "R", "b", "c"):
            torch.testing.assert_close(getattr(m_b, name).detach(), getattr(m_s, name).detach(), rtol=rtol, atol=atol,
                                       msg=lambda s, i=i, name=name: f"model {i}, parameter {name}: {s}")
        assert h_b.column("epoch") == h_s.column("epoch")
        torch.testing.assert_close(torch.tensor(h_b.column("loss"), dtype=torch.float64),
                                   torch.tensor(h_s.column("loss"), dtype=torch.float64), rtol=rtol, atol=atol)


CASES = {
    # name: (activation, tied, per-model settings, common settings)
    "untied sigmoid AE": ("sigmoid", False, {}, {}),
    "untied relu, weight length on some models, CAE on others": (
        "relu", False, {"weight_length": [1.0, None, 1.0, None], "encoder_contraction_weight": [0.0, 0.0, 0.1, 0.1]}, {}),
    "tied sigmoid with the eq.-10 contraction": ("sigmoid", True, {"contraction": [0.05, 0.2, 0.0, 0.1]}, {}),
    "untied sigmoid, denoising, weight length 2": ("sigmoid", False, {"noise": [0.1, 0.0, 0.3, 0.1]}, {"weight_length": 2.0}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_many_equals_separate_fit_under_adam(case):
    activation, tied, per_model, common = CASES[case]
    seeds = [0, 1, 2, 7]
    alphas = per_model.get("weight_length") or [common.get("weight_length")] * len(seeds)
    models = _models(activation, tied, seeds, alphas)
    x = _data()
    settings = dict(epochs=3, batch_size=16, lr=3e-3, optimizer="adam", metrics_every=2)
    separate = _separately(models, x, None, seeds, per_model, **common, **settings)
    hist = fit_many(models, x, seeds=seeds, device="cpu", progress=False, **per_model, **common, **settings)
    _assert_same(models, hist, separate)
    # The runs really differ from each other (different seeds and settings), so the check above can fail.
    assert not torch.allclose(models[0].W, models[1].W, atol=1e-3)


def test_fit_many_with_one_target_set_per_model_equals_separate_fit():
    seeds = [3, 4, 5]
    models = _models("sigmoid", True, [0, 0, 0])  # one initialisation, three fields (as chapter 07's β)
    x = _data(1)
    targets = x + 0.1 * _data(2, k=3)
    settings = dict(epochs=2, batch_size=32, lr=1e-2, optimizer="adam")
    separate = _separately(models, x, targets, seeds, {}, **settings)
    hist = fit_many(models, x, targets, seeds=seeds, device="cpu", progress=False, **settings)
    _assert_same(models, hist, separate)


def test_fit_many_under_sgd_and_full_batch_equals_separate_fit():
    seeds = [0, 1]
    models = _models("relu", False, seeds)
    x = _data(3)
    settings = dict(epochs=4, batch_size=None, lr=1e-2, optimizer="sgd")
    separate = _separately(models, x, None, seeds, {}, **settings)
    hist = fit_many(models, x, seeds=seeds, device="cpu", progress=False, **settings)
    _assert_same(models, hist, separate)


def test_fit_many_records_metrics_of_each_model():
    models = _models("sigmoid", False, [0, 1])
    hist = fit_many(models, _data(), seeds=[0, 1], epochs=3, batch_size=30, metrics_every=2, device="cpu",
                    progress=False, metrics=lambda m: {"w_norm": float(m.W.norm())})
    for h in hist:
        assert h.column("epoch") == [0, 2, 3]
        assert all(v is not None for v in h.column("w_norm"))
    assert hist[0].column("w_norm") != hist[1].column("w_norm")
    assert hist[0].last("w_norm") == pytest.approx(float(models[0].W.detach().norm()))


def test_fit_many_takes_one_metrics_function_per_model():
    models = _models("sigmoid", False, [0, 1])
    fns = [lambda m: {"who": 0.0}, lambda m: {"who": 1.0}]
    hist = fit_many(models, _data(), seeds=[0, 1], epochs=1, batch_size=30, device="cpu", progress=False, metrics=fns)
    assert hist[0].column("who") == [0.0, 0.0] and hist[1].column("who") == [1.0, 1.0]


def test_fit_many_is_deterministic():
    runs = []
    for _ in range(2):
        models = _models("relu", False, [0, 1, 2])
        fit_many(models, _data(), seeds=[0, 1, 2], epochs=2, batch_size=20, device="cpu", progress=False,
                 noise=0.1, encoder_contraction_weight=0.1)
        runs.append(torch.stack([m.W.detach() for m in models]))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize("bad, match", [
    (dict(seeds=[0]), "one seed per model"),
    (dict(optimizer="lbfgs"), "for batched training"),
    (dict(weight_length=[1.0]), "one per model"),
    (dict(epochs=-1), "epochs"),
])
def test_fit_many_rejects_bad_arguments_in_one_sentence(bad, match):
    kwargs = dict(seeds=[0, 1], epochs=1, batch_size=10, device="cpu", progress=False)
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        fit_many(_models("sigmoid", False, [0, 1]), _data(), **kwargs)


def test_fit_many_refuses_models_of_different_kinds():
    models = [AutoEncoder(D, H, "sigmoid", seed=0), AutoEncoder(D, H, "relu", seed=1)]
    with pytest.raises(ValueError, match="model 1"):
        fit_many(models, _data(), seeds=[0, 1], epochs=1, device="cpu", progress=False)


def test_fit_many_raises_naming_the_model_that_diverged():
    models = _models("relu", False, [0, 1])
    with pytest.raises(DivergenceError, match="model 0: training diverged"):
        fit_many(models, _data() * 1e20, seeds=[0, 1], epochs=2, batch_size=30, lr=1e10, device="cpu",
                 progress=False, on_divergence="raise")


def test_a_diverging_model_stops_alone_and_the_others_train_as_if_alone():
    seeds = [0, 1, 2]
    models = _models("relu", False, seeds)
    x = _data(k=3)
    x[1] *= 1e30  # model 1's data make its loss overflow; models 0 and 2 train normally
    settings = dict(epochs=3, batch_size=30, lr=1e-2, optimizer="adam")
    separate = _separately(models, x, None, seeds, {}, **settings)
    hist = fit_many(models, x, seeds=seeds, device="cpu", progress=False, **settings)
    assert hist[1].degenerate is not None and "diverged" in hist[1].degenerate
    assert hist[1].stopped_at == separate[1][1].stopped_at
    assert hist[0].degenerate is None and hist[2].degenerate is None
    _assert_same([models[0], models[2]], [hist[0], hist[2]], [separate[0], separate[2]])
