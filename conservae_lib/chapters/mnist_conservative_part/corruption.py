"""The corrupted images x̃ of Algorithm 1 (step 8) and of the text under Table 2.

Table 2 scores an energy by how often a clean MNIST test digit x gets a higher energy than its
corrupted copy x̃. The paper gives two readings of x̃ (:data:`READINGS`; errata
*algorithm1-noise*): the text's salt-and-pepper noise (:func:`salt_and_pepper`) and step 8's
x̃ ~ Binomial, read as binary images of independent Bernoulli pixels whose probability is the mean
intensity ("ink") of the training images (:func:`binomial_images`, :func:`ink`). Two controls keep
the digit's norm: a pixel permutation (:func:`permute_pixels`) and salt and pepper rescaled to the
digit's norm (:func:`rescale_to_norm`). :func:`corrupt` dispatches on :data:`CORRUPTIONS`.
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

from typing import Sequence

import torch

Tensor = torch.Tensor

__all__ = ["CORRUPTIONS", "READINGS", "salt_and_pepper", "ink", "binomial_images", "permute_pixels",
           "rescale_to_norm", "corrupt"]

#: Corruptions x → x̃. ``salt_and_pepper`` (the text) and ``binomial`` (Algorithm 1, step 8) are the
#: paper's two readings; ``permuted`` and ``salt_and_pepper_same_norm`` are controls.
CORRUPTIONS: tuple[str, ...] = ("salt_and_pepper", "binomial", "permuted", "salt_and_pepper_same_norm")

#: The paper's readings of x̃ and the name the ledger records them under (None: the primary one,
#: the corruption named in the text and in the ledger's statistic).
READINGS: dict[str, str | None] = {"salt_and_pepper": None, "binomial": "binomial"}


def salt_and_pepper(x: Tensor, level: float, seed: int) -> Tensor:
    """x̃: each pixel, with probability ``level``, replaced by 0 or 1 (equally likely) — the
    corruption the paper's text names."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"corruption_level must be in [0, 1]; got {level!r}.")
    g = torch.Generator().manual_seed(int(seed))
    hit = torch.rand(x.shape, generator=g) < level
    value = (torch.rand(x.shape, generator=g) < 0.5).to(x.dtype)
    return torch.where(hit, value, x)


def ink(x: Tensor) -> float:
    """The mean pixel intensity of a set of images (for MNIST in [0, 1], about 0.13)."""
    return float(x.double().mean())


def binomial_images(shape: Sequence[int], p: float, seed: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """x̃ ~ Binomial of Algorithm 1, step 8, read as binary images of independent Bernoulli(p)
    pixels (Binomial(1, p) per pixel), drawn independently of the clean images."""
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"the pixel probability p must be in [0, 1]; got {p!r}.")
    g = torch.Generator().manual_seed(int(seed))
    return (torch.rand(tuple(shape), generator=g, dtype=torch.float64) < p).to(dtype)


def permute_pixels(x: Tensor, seed: int) -> Tensor:
    """Each image's pixels in an independent random order: the same norm and the same intensity
    histogram, none of the spatial structure of a digit."""
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.argsort(torch.rand(x.shape, generator=g), dim=1)
    return torch.gather(x, 1, idx)


def rescale_to_norm(x_tilde: Tensor, x: Tensor) -> Tensor:
    """x̃ scaled, image by image, to the Euclidean norm of x."""
    n_t = x_tilde.norm(dim=1, keepdim=True)
    return x_tilde * (x.norm(dim=1, keepdim=True) / n_t.clamp_min(1e-30))


def corrupt(x: Tensor, kind: str, level: float, seed: int, p: float | None = None) -> Tensor:
    """The corrupted images x̃ for one of :data:`CORRUPTIONS` (``p``: the pixel probability of
    ``binomial``, by default the mean intensity of x)."""
    if kind == "salt_and_pepper":
        return salt_and_pepper(x, level, seed)
    if kind == "binomial":
        return binomial_images(x.shape, ink(x) if p is None else p, seed, x.dtype)
    if kind == "permuted":
        return permute_pixels(x, seed)
    if kind == "salt_and_pepper_same_norm":
        return rescale_to_norm(salt_and_pepper(x, level, seed), x)
    raise ValueError(f"corruption must be one of {', '.join(CORRUPTIONS)}; got {kind!r}.")

