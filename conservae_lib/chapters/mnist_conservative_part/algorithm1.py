"""Algorithm 1 in high dimension: learning the conservative part of a continuum of MNIST fields.

The paper's section *Extracting the conservative vector field through learning* (Algorithm 1,
Table 2, Figure 5), as its text states it:

1. a conservative field F_K — an auto-encoder (W_K, R_K) trained on MNIST — and a non-conservative
   one — an untied auto-encoder with random parameters (W_0, R_0) (:func:`train_mnist_autoencoder`,
   :func:`random_untied_autoencoder`). Table 2 has two rows: "CVF = Tied AE" (F_K trained as a
   tied auto-encoder) and "CVF = Untied AE" (F_K trained as an untied one) —
   :data:`conservae_lib.chapters.mnist_conservative_part.table2.CVF_ROWS`;
2. the interpolated models θ_β = β θ_K + (1 − β) θ_0 (:func:`interpolate_parameters`), in Table 2's
   convention (β = 1 is the trained model; Algorithm 1's formula writes the weights the other way
   round, see the errata);
3. for each β, points sampled uniformly in the data space [0, 1]^D (:func:`sample_uniform_points`)
   with the field's values there, and a fresh **tied** auto-encoder trained to reproduce that field
   (Algorithm 1, step 6; :func:`fit_to_field`, targets x + F(x) = r_β(x)) — in both rows; on the
   tied row also an untied learner, an extra (:data:`LEARNERS`);
4. the energy of eq. (3)/(4) of each learned model at MNIST test images x and at corrupted copies x̃
   (:mod:`conservae_lib.chapters.mnist_conservative_part.corruption`), and the fraction of pairs with E(x) > E(x̃)
   (:mod:`conservae_lib.chapters.mnist_conservative_part.table2`); how well each learner fitted (:mod:`conservae_lib.chapters.mnist_conservative_part.field_fit`).

:mod:`conservae_lib.chapters.mnist_conservative_part.alg1_runs` runs the whole experiment (every seed, checkpointed, learners in a
pool of processes on CPU) and declares the chapter's parameters. The numbers handed to the ledger come from
:mod:`conservae_lib.chapters.mnist_conservative_part.alg1_claims`, the tables and Figure 5 from :mod:`conservae_lib.chapters.mnist_conservative_part.report`.
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import torch

from conservae_lib.training import trainer
from .field_fit import variation
from conservae_lib.core.models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "LEARNERS", "derive_seed", "interpolate_parameters", "random_untied_autoencoder", "train_mnist_autoencoder",
    "subsample", "sample_uniform_points", "field_targets", "fit_to_field",
]

#: Learners trained on each row: the paper's tied learner on both rows; the untied learner (an
#: extra, Figure 5's solid curves) on the tied row only.
LEARNERS: dict[str, tuple[str, ...]] = {"tied": ("tied", "untied"), "untied": ("tied",)}


# ------------------------------------------------------------------------------ seeds
def derive_seed(seed: int, *tags: Any) -> int:
    """A reproducible sub-seed for one random stream of one repetition (e.g. ``(0, "uniform")``).

    Every random object of a repetition — models, samples, corruptions — gets its own stream, so
    changing how many of one are drawn never shifts another.
    """
    text = json.dumps([int(seed), *[str(t) for t in tags]])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


# ------------------------------------------------------------------------------ the continuum of fields
def interpolate_parameters(conservative: AutoEncoder, random: AutoEncoder, beta: float) -> AutoEncoder:
    """The model θ_β = β θ_K + (1 − β) θ_0 of Algorithm 1, step 4 (W, R, b and c alike).

    ``conservative`` is θ_K (trained on the data, tied or untied), ``random`` θ_0. β = 1 gives the
    trained model, β = 0 the random one: Table 2's convention (Algorithm 1's formula writes
    β θ_0 + (1 − β) θ_K; see the errata). The result is an untied model.
    """
    if not (isinstance(beta, (int, float)) and not isinstance(beta, bool) and 0.0 <= beta <= 1.0):
        raise ValueError(f"beta must be a number in [0, 1]; got {beta!r}.")
    if conservative.W.shape != random.W.shape:
        raise ValueError(f"the two models must have the same shape; got {tuple(conservative.W.shape)} and {tuple(random.W.shape)}.")
    if conservative.activation.name != random.activation.name:
        raise ValueError("the two models must use the same activation.")
    b = float(beta)
    with torch.no_grad():
        mix = [b * p.detach() + (1.0 - b) * q.detach() for p, q in (
            (conservative.W, random.W), (conservative.R, random.R), (conservative.b, random.b), (conservative.c, random.c))]
    return AutoEncoder.from_weights(*mix, activation=conservative.activation)


def random_untied_autoencoder(D: int, H: int, activation: str, seed: int) -> AutoEncoder:
    """θ_0 of Algorithm 1, step 2: an untied model with Glorot-uniform W and R and zero biases."""
    return AutoEncoder(D, H, activation=activation, tied=False, seed=seed)


def train_mnist_autoencoder(
    x_train: Tensor, H: int, activation: str, *, tied: bool, epochs: int, batch_size: int, lr: float, seed: int,
    checkpoint: Path | None = None, device: str = "auto", progress: bool = True,
) -> tuple[AutoEncoder, trainer.History]:
    """θ_K of Algorithm 1, step 3: an auto-encoder trained to reconstruct the data set — tied for
    Table 2's row "CVF = Tied AE", untied for "CVF = Untied AE"."""
    model = AutoEncoder(x_train.shape[1], H, activation=activation, tied=tied, seed=seed)
    hist = trainer.fit(model, x_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                        progress=progress, desc=f"{'tied' if tied else 'untied'} AE on MNIST", checkpoint=checkpoint)
    return model.cpu(), hist


def subsample(x: Tensor, n: int, seed: int) -> Tensor:
    """n rows of x chosen at random without replacement (all of them, in a random order, when
    n ≥ len(x)); the MNIST files are sorted by digit, so the first n rows would not do."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    g = torch.Generator().manual_seed(int(seed))
    return x[torch.randperm(len(x), generator=g)[:n]]


def sample_uniform_points(n: int, D: int, seed: int, low: float = 0.0, high: float = 1.0) -> Tensor:
    """n points drawn uniformly from the data space [low, high]^D (Algorithm 1, step 4)."""
    if n <= 0 or D <= 0:
        raise ValueError(f"need n > 0 points in D > 0 dimensions; got n={n}, D={D}.")
    g = torch.Generator().manual_seed(int(seed))
    return low + (high - low) * torch.rand(n, D, generator=g)


# ------------------------------------------------------------------------------ the learners
@torch.no_grad()
def field_targets(target: AutoEncoder, x: Tensor) -> Tensor:
    """Training targets x + F(x) = r(x) for learning the field F = r − x (Algorithm 1, step 4)."""
    return x + target.cpu().field(x)


def fit_to_field(
    target: AutoEncoder, x: Tensor, *, tied: bool, H: int, activation: str, epochs: int, batch_size: int,
    lr: float, seed: int, x_eval: Tensor | None = None, checkpoint: Path | None = None,
    device: str = "auto", progress: bool = True, desc: str = "fit field",
) -> tuple[AutoEncoder, trainer.History]:
    """Train a fresh auto-encoder so that its field r(x) − x reproduces ``target``'s at the points x
    (Algorithm 1, step 6; the paper's learner is tied, ``tied=False`` is the chapter's extra).

    The loss is the trainer's ‖r(x) − (x + F(x))‖², the squared distance between the two fields at
    x. The output bias c starts at the mean target (the constant part of the field, which any
    learner matches in its first steps anyway). With ``x_eval`` each epoch also records
    ``rel_error``, :func:`relative_field_error` on those held-out points.
    """
    target = copy.deepcopy(target).cpu().float()
    model = AutoEncoder(x.shape[1], H, activation=activation, tied=tied, seed=seed)
    targets = field_targets(target, x)
    with torch.no_grad():
        model.c.copy_(targets.mean(dim=0))
    metrics: Callable[[AutoEncoder], dict[str, float]] | None = None
    if x_eval is not None:
        with torch.no_grad():
            t_eval = target(x_eval)
            scale = float(variation(t_eval))

        def held_out_error(m: AutoEncoder) -> dict[str, float]:
            dev = next(m.parameters()).device
            out = m(x_eval.to(dev)).cpu()
            return {"rel_error": float(((out - t_eval) ** 2).sum()) / scale}

        metrics = held_out_error

    hist = trainer.fit(model, x, targets, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, metrics=metrics,
                        device=device, progress=progress, desc=desc, checkpoint=checkpoint)
    return model.cpu(), hist
