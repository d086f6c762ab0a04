"""Tests of conservae_lib.chapters.mnist_conservative_part.field_fit (chapter 07: what a learner of Algorithm 1 can learn, and when it has)."""
from __future__ import annotations

import pytest
import torch

from conservae_lib.chapters.mnist_conservative_part import field_fit as ff
from conservae_lib.chapters.mnist_conservative_part.algorithm1 import sample_uniform_points
from conservae_lib.core.models import AutoEncoder


def test_relative_field_error_is_one_for_the_best_constant():
    rand = AutoEncoder(12, 7, "sigmoid", tied=False, seed=4, dtype=torch.float64)
    x = torch.rand(400, 12, dtype=torch.float64)
    with torch.no_grad():
        const = AutoEncoder.from_weights(torch.zeros(12, 7, dtype=torch.float64), torch.zeros(12, 7, dtype=torch.float64),
                                         c=rand(x).mean(0), activation="sigmoid")
    assert ff.relative_field_error(const, rand, x) == pytest.approx(1.0, abs=1e-12)
    assert ff.relative_field_error(rand, rand, x) == 0.0


def test_conservative_references_of_a_linear_field_are_its_symmetric_part():
    # r(x) = R(Wᵀx + b) + c is linear, J = R Wᵀ. Over the cube (covariance I/12) the symmetric part
    # leaves exactly the antisymmetric part's share ‖A‖²/‖J‖² of the variation.
    model = AutoEncoder(6, 6, "linear", tied=False, seed=3, dtype=torch.float64)
    x_fit, x_eval = sample_uniform_points(20000, 6, 0), sample_uniform_points(20000, 6, 1)
    refs = ff.conservative_references(model, x_fit, x_eval, H=6)
    J = (model.R @ model.W.T).detach()
    A = 0.5 * (J - J.T)
    assert refs["linear"] < 1e-12
    assert refs["symmetric"] == pytest.approx(float((A ** 2).sum() / (J ** 2).sum()), rel=0.05)
    assert refs["tied_floor"] >= refs["symmetric"] - 1e-12


def test_tied_floor_is_zero_for_a_tied_linear_field_and_not_for_a_negative_one():
    tied = AutoEncoder(6, 4, "linear", tied=True, seed=3, dtype=torch.float64)   # J = W Wᵀ, PSD
    x_fit, x_eval = sample_uniform_points(5000, 6, 0), sample_uniform_points(5000, 6, 1)
    refs = ff.conservative_references(tied, x_fit, x_eval, H=4)
    assert refs["tied_floor"] < 1e-12 and refs["negative_share"] < 1e-12
    neg = AutoEncoder.from_weights(tied.W.detach(), -tied.W.detach(), activation="linear")  # J = −W Wᵀ
    refs = ff.conservative_references(neg, x_fit, x_eval, H=4)
    assert refs["symmetric"] < 1e-12              # conservative ...
    assert refs["tied_floor"] == pytest.approx(1.0, abs=1e-3)  # ... but out of a tied sigmoid AE's reach


def test_learner_fits_rule_passes_and_fails():
    assert ff.learner_fits(0.30, 0.25)
    assert not ff.learner_fits(0.40, 0.25)
    assert not ff.learner_fits(float("nan"), 0.25)


def test_plateau_detection_passes_and_fails():
    assert ff.plateaued([1.0, 0.5, 0.3, 0.3, 0.3, 0.299])
    assert not ff.plateaued([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])
