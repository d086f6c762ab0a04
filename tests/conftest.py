"""Shared test set-up: deterministic torch, quiet progress bars, the repository root."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TQDM_DISABLE", "1")
torch.set_default_dtype(torch.float32)


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
