"""The optimisers a trainer offers and the arguments it accepts (``conservae_lib.training.optimizers``)."""
from __future__ import annotations

import pytest
import torch

from conservae_lib.training.optimizers import OPTIMIZERS, check_fit_args, make_optimizer, optimizer_implementation


def test_adam_runs_the_fused_kernel_where_the_device_has_one():
    params = [torch.nn.Parameter(torch.zeros(3))]
    opt = make_optimizer("adam", params, 1e-3)
    try:
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)
    except (RuntimeError, TypeError, ValueError):
        assert opt.defaults.get("foreach")
    else:
        assert opt.defaults.get("fused")
    assert optimizer_implementation(opt) in ("fused", "foreach")


@pytest.mark.parametrize("name, kind, momentum", [("sgd", torch.optim.SGD, 0.9), ("sgd_plain", torch.optim.SGD, 0),
                                                   ("lbfgs", torch.optim.LBFGS, None)])
def test_every_named_optimizer_is_built_with_its_documented_settings(name, kind, momentum):
    opt = make_optimizer(name, [torch.nn.Parameter(torch.zeros(2))], 0.1)
    assert isinstance(opt, kind) and opt.defaults["lr"] == 0.1
    if momentum is not None:
        assert opt.defaults["momentum"] == momentum
    else:
        assert opt.defaults["max_iter"] == 20 and opt.defaults["line_search_fn"] == "strong_wolfe"
    assert name in OPTIMIZERS


def test_one_sgd_step_is_the_textbook_update():
    # plain SGD: p ← p − lr ∇f; for f(p) = ½‖p‖², ∇f = p, so one step scales p by 1 − lr.
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 4.0]))
    opt = make_optimizer("sgd_plain", [p], 0.25)
    (0.5 * (p ** 2).sum()).backward()
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.75, -1.5, 3.0]))


def test_the_default_kernel_is_named_default():
    assert optimizer_implementation(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, foreach=False)) == "default"


@pytest.mark.parametrize("changes, message", [
    (dict(epochs=1.5), "epochs must be an integer"),
    (dict(batch_size=True), "batch_size must be a positive integer"),
    (dict(lr=float("inf")), "lr must be a positive number"),
    (dict(optimizer="rmsprop"), "optimizer must be one of adam, sgd, lbfgs, sgd_plain"),
    (dict(contraction=-1.0), "contraction must be a number ≥ 0"),
    (dict(weight_length=-2.0), "weight_length must be a positive number or None"),
    (dict(n=0), "no training data"),
])
def test_bad_arguments_are_refused_in_one_sentence(changes, message):
    args = dict(epochs=1, batch_size=None, lr=0.1, optimizer="adam", n=10, contraction=0.0, encoder_contraction_=0.0,
                noise=0.0, weight_length=None)
    check_fit_args(**args)  # the defaults are fine
    with pytest.raises(ValueError, match=message):
        check_fit_args(**{**args, **changes})
