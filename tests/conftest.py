"""Shared test set-up: deterministic torch, quiet progress bars, the repository root."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from conservae_lib.tooling import booktools

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TQDM_DISABLE", "1")
torch.set_default_dtype(torch.float32)


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built once per test session in a temporary copy (:func:`booktools.build_book`),
    for the book and browser tests; its HTML folder."""
    try:
        return booktools.build_book(tmp_path_factory.mktemp("book"), ROOT)
    except booktools.BuildError as err:
        pytest.fail(str(err), pytrace=False)
