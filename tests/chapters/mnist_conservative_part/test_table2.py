"""Tests of conservae_lib.chapters.mnist_conservative_part.table2 (chapter 07: Table 2's statistic, the fraction E(x) > E(x̃))."""
from __future__ import annotations

import torch

from conservae_lib.chapters.mnist_conservative_part import corruption as cr
from conservae_lib.core import energy
from conservae_lib.chapters.mnist_conservative_part import table2 as t2
from conservae_lib.core.models import AutoEncoder


def _tied(D: int = 12, H: int = 7) -> AutoEncoder:
    """A conservative model with a closed-form energy: the decoder is the encoder, biases random."""
    g = torch.Generator().manual_seed(1)
    W = torch.randn(D, H, generator=g, dtype=torch.float64) / D ** 0.5
    b, c = 0.5 * torch.randn(H, generator=g, dtype=torch.float64), 0.5 * torch.randn(D, generator=g, dtype=torch.float64)
    return AutoEncoder.from_weights(W, None, b, c, activation="sigmoid")


def _untied(D: int = 12, H: int = 7) -> AutoEncoder:
    """A random untied model: no energy, a path-dependent line integral."""
    return AutoEncoder(D, H, "sigmoid", tied=False, seed=4, dtype=torch.float64)


def test_segment_integral_equals_closed_form_energy_difference_for_tied_models():
    tied = _tied()
    x, y = torch.rand(40, 12, dtype=torch.float64), torch.rand(40, 12, dtype=torch.float64)
    closed = energy.potential(tied, x) - energy.potential(tied, y)
    assert torch.allclose(t2.segment_integral(tied, y, x, 32), closed, atol=1e-11)
    assert torch.allclose(t2.energy_difference(tied, x, y), closed, atol=1e-12)


def test_segment_integral_matches_generic_line_integral_for_untied_models():
    # the affine-preactivation shortcut must give the same numbers as integrating r(x) − x directly
    rand = _untied()
    x, x0 = torch.rand(30, 12, dtype=torch.float64), torch.rand(1, 12, dtype=torch.float64)
    generic = energy.line_potential(rand, x, x0=x0, n_nodes=32)
    ours = t2.segment_integral(rand, x0.expand_as(x), x, 32, chunk_elements=50)  # several chunks
    assert torch.allclose(ours, generic, atol=1e-11)


def test_untied_energy_difference_is_path_dependent_and_tied_is_not():
    tied, rand = _tied(D=20, H=15), _untied(D=20, H=15)
    x, y = torch.rand(25, 20, dtype=torch.float64), torch.rand(25, 20, dtype=torch.float64)
    assert t2.path_dependence_ratio(tied, x, y, 32) < 1e-10
    assert t2.path_dependence_ratio(rand, x, y, 32) > 1e-3


def test_fraction_higher_counts_ties_as_half():
    assert t2.fraction_higher(torch.tensor([1.0, -1.0, 2.0, 3.0])) == 0.75
    assert t2.fraction_higher(torch.tensor([0.0, 0.0, 1.0, -1.0])) == 0.5
    assert t2.fraction_higher(torch.tensor([1e-12, 1.0]), scale=torch.tensor([10.0, 10.0])) == 0.75


def test_trivial_energy_separates_salt_and_pepper_but_not_permutations():
    # The control of the chapter: on sparse, digit-like images, −½‖x‖² alone prefers the clean image
    # to its salt-and-pepper copy, and is blind to a pixel permutation (fraction exactly ½).
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(300, 784, dtype=torch.float64)
    x[:, 300:420] = torch.rand(300, 120, generator=g, dtype=torch.float64)
    for kind, lo, hi in (("salt_and_pepper", 0.9, 1.0), ("permuted", 0.5, 0.5)):
        xc = cr.corrupt(x, kind, 0.1, 1)
        e, ec = t2.quadratic_energy(x), t2.quadratic_energy(xc)
        assert lo <= t2.fraction_higher(e - ec, e.abs() + ec.abs()) <= hi
