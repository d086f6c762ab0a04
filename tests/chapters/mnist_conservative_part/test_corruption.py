"""Tests of conservae_lib.chapters.mnist_conservative_part.corruption (chapter 07: the corrupted images x̃ of Table 2 and Algorithm 1, step 8)."""
from __future__ import annotations

import pytest
import torch

from conservae_lib.chapters.mnist_conservative_part import corruption as cr


def test_permutation_keeps_norm_and_histogram():
    x = torch.rand(5, 50, dtype=torch.float64)
    p = cr.permute_pixels(x, 0)
    assert torch.equal(p.sort(dim=1).values, x.sort(dim=1).values)
    assert not torch.equal(p, x)


def test_salt_and_pepper_levels_and_same_norm_rescaling():
    x = torch.full((200, 100), 0.3, dtype=torch.float64)
    assert torch.equal(cr.salt_and_pepper(x, 0.0, 0), x)
    full = cr.salt_and_pepper(x, 1.0, 0)
    assert set(full.unique().tolist()) <= {0.0, 1.0}
    changed = (cr.salt_and_pepper(x, 0.1, 0) != x).double().mean()
    assert 0.08 < float(changed) < 0.12
    r = cr.rescale_to_norm(cr.salt_and_pepper(x, 0.1, 0), x)
    assert torch.allclose(r.norm(dim=1), x.norm(dim=1))
    with pytest.raises(ValueError, match="corruption"):
        cr.corrupt(x, "blur", 0.1, 0)


# ----------------------------------------------------------------------------- the binomial reading of x̃
def test_binomial_images_are_independent_bernoulli_pixels_at_the_data_ink():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(400, 784, dtype=torch.float64)
    x[:, 300:420] = torch.rand(400, 120, generator=g, dtype=torch.float64)
    xb = cr.corrupt(x, "binomial", 0.1, 7)
    assert set(xb.unique().tolist()) == {0.0, 1.0}
    assert float(xb.mean()) == pytest.approx(cr.ink(x), abs=0.005)
    # independent of the clean image: the background (always 0 in x) is as often 1 as the digit's pixels
    assert float(xb[:, :300].mean()) == pytest.approx(float(xb[:, 300:420].mean()), abs=0.01)
    assert torch.equal(xb, cr.corrupt(x, "binomial", 0.1, 7))
    with pytest.raises(ValueError, match="probability"):
        cr.binomial_images((2, 3), 1.5, 0)
