"""Claims of conservae_lib.data.toy_data (chapter 05_curl_2d): seeded noisy curves."""
import math

import pytest
import torch

from conservae_lib.data import toy_data


@pytest.mark.parametrize("name", toy_data.DATASETS)
def test_same_seed_gives_same_points_and_other_seed_other_points(name):
    a = toy_data.make_dataset(name, 50, 0.03, seed=3)
    b = toy_data.make_dataset(name, 50, 0.03, seed=3)
    c = toy_data.make_dataset(name, 50, 0.03, seed=4)
    assert a.shape == (50, 2) and a.dtype == torch.float64
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("name", toy_data.DATASETS)
def test_noise_free_samples_lie_on_the_curve_inside_the_unit_box(name):
    pts = toy_data.make_dataset(name, 300, 0.0, seed=0)
    assert toy_data.distance_to_curve(name, pts, n_curve=20000).max() < 2e-3
    assert pts.abs().max() <= 1.0


def test_noise_has_the_requested_standard_deviation():
    # Perpendicular distance to a straight line of isotropic N(0, σ²I) noise is |N(0, σ²)|:
    # its mean is σ √(2/π) (end effects are negligible for σ ≪ the segment's length).
    sigma = 0.02
    pts = toy_data.make_dataset("line", 20000, sigma, seed=1)
    mean_dist = float(toy_data.distance_to_curve("line", pts, n_curve=5000).mean())
    assert mean_dist == pytest.approx(sigma * math.sqrt(2 / math.pi), rel=0.05)


@pytest.mark.parametrize("kwargs, word", [
    (dict(name="square"), "unknown data set"),
    (dict(name="line", n=0), "n must be"),
    (dict(name="line", noise=-0.1), "noise must be"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, word):
    with pytest.raises(ValueError, match=word):
        toy_data.make_dataset(**kwargs)
