"""The symmetry measures every Table 1 run records (``conservae_lib.chapters.mnist_symmetricity.symmetry_metrics``), against
autograd Jacobians and closed forms (chapter *Empirical conservativeness on MNIST*)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conservae_lib.core.models import AutoEncoder
from conservae_lib.chapters.mnist_symmetricity.symmetry_metrics import filter_cosines, symmetricity_metrics
from tests.references import autograd_jacobians


def _sym(A: torch.Tensor) -> torch.Tensor:
    """‖(A + Aᵀ)/2‖²_F / ‖A‖²_F, the definition (eq. 5), for a batch of square matrices."""
    return ((A + A.transpose(-1, -2)) / 2).pow(2).sum(dim=(-1, -2)) / A.pow(2).sum(dim=(-1, -2))


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_gram_metrics_equal_the_symmetricity_of_autograd_jacobians(act):
    torch.manual_seed(0)
    m = AutoEncoder(12, 7, act, seed=3, dtype=torch.float64)
    with torch.no_grad():
        m.b.normal_()
    x = torch.randn(9, 12, dtype=torch.float64)
    J = autograd_jacobians(m, x).detach()
    got = symmetricity_metrics(m, x)
    assert math.isclose(got["jac_sym"], float(_sym(J).mean()), rel_tol=1e-10)
    assert math.isclose(got["jac_sym_sd"], float(_sym(J).std()), rel_tol=1e-8)
    assert math.isclose(got["jac_norm2"], float(J.pow(2).sum(dim=(1, 2)).mean()), rel_tol=1e-10)
    assert math.isclose(got["rw_sym"], float(_sym((m.R @ m.W.T).detach())), rel_tol=1e-10)
    assert got["degenerate_frac"] == 0.0


def test_a_tied_model_is_symmetric_and_a_vanishing_jacobian_is_undefined():
    m = AutoEncoder(8, 5, "sigmoid", tied=True, seed=1, dtype=torch.float64)
    got = symmetricity_metrics(m, torch.randn(6, 8, dtype=torch.float64))
    assert got["jac_sym"] == pytest.approx(1.0, abs=1e-12) and got["rw_sym"] == pytest.approx(1.0, abs=1e-12)
    dead = AutoEncoder(8, 5, "relu", seed=1, dtype=torch.float64)
    with torch.no_grad():
        dead.b.fill_(-1e3)
    got = symmetricity_metrics(dead, torch.randn(6, 8, dtype=torch.float64))
    assert math.isnan(got["jac_sym"]) and math.isnan(got["jac_sym_sd"]) and got["degenerate_frac"] == 1.0


def test_filter_cosines_of_known_filters():
    W = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    R = torch.tensor([[2.0, 0.0, 0.0], [0.0, -1.0, 1.0]])  # same direction, opposite, orthogonal
    assert np.allclose(filter_cosines(AutoEncoder.from_weights(W, R)), [1.0, -1.0, 0.0])
