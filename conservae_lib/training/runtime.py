"""Run-time choices shared by every chapter: the device, seeds and deterministic kernels.

``select_device("auto")`` picks CUDA when present (Colab with a GPU), else the CPU; every
chapter's ``device`` parameter goes through it, and :func:`device_label` names it (:func:`machine` adds
torch's threads and version). :func:`seed_everything` fixes every random stream a chapter uses, so the
same parameters give the same numbers on the same machine.
"""
from __future__ import annotations

import os
import platform
import random
from typing import Any

import numpy as np
import torch

__all__ = ["select_device", "seed_everything", "device_label", "machine", "determinism_settings"]

_DEVICE_CHOICES = ("auto", "cpu", "cuda")


def select_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA if available else CPU; ``cpu``/``cuda``/``cuda:N`` are taken as given.

    Asking for CUDA on a machine without it is an error that says so, not a silent CPU run.
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str) or not (device in _DEVICE_CHOICES or device.startswith("cuda:")):
        raise ValueError(f"device must be one of auto, cpu, cuda or cuda:N; got {device!r}.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but this machine has no CUDA GPU; use device='auto' or 'cpu'.")
    return torch.device(device)


def device_label(device: torch.device | str = "cpu") -> str:
    """The machine a number was computed on, in words: the GPU's model (``cuda``), else the CPU as
    ``CPU (N cores, architecture)``. The one label of the book: the performance page's measurements and device
    records, the reproducibility page's GPU comparison."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores, {platform.machine()})"


def machine(device: torch.device | str = "cpu") -> dict[str, Any]:
    """What timings were measured on: the device's :func:`device_label`, torch's threads and version."""
    return {"device": device_label(device), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, ask torch for deterministic kernels; return a torch Generator."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False  # benchmarking picks kernels by timing: not repeatable
    return torch.Generator().manual_seed(seed)


def determinism_settings() -> dict[str, object]:
    """The settings that decide whether a re-run repeats its numbers bit for bit, as they are now."""
    return {
        "torch version": torch.__version__,
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "only warn on non-deterministic ops": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cuDNN benchmark": torch.backends.cudnn.benchmark,
        "float32 matmul precision": torch.get_float32_matmul_precision(),
        "default dtype": str(torch.get_default_dtype()).replace("torch.", ""),
        "CPU threads (intra-op)": torch.get_num_threads(),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
    }
