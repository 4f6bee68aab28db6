"""keras.datasets cifar10, cifar100, boston_housing and california_housing on small files in the real formats that
the tests make (a .tar.gz of Python 2 pickled batches; .npz files of x and y): layout, labels, Keras's seeded
split, the cache and checksum, and the arrays-only unpickling. No network."""
import hashlib
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

from chainrule import keras
from chainrule.data.datasets import boston_housing, california_housing, cifar, cifar10, cifar100
from chainrule.data.datasets.loader import DatasetUnavailableError, cache_folder
from chainrule.data.datasets.sources import Folder

RNG = np.random.default_rng(0)


class Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2's str opcodes (SHORT_BINSTRING / BINSTRING), as the real CIFAR files hold them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def batch(n, label_keys=("labels",), classes=10):
    pixels = RNG.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = {key: [int(v) for v in RNG.integers(0, classes, n)] for key in label_keys}
    record = {b"batch_label": b"training batch", b"data": pixels, b"filenames": [b"x.png"] * n}
    record.update({key.encode(): value for key, value in labels.items()})
    return record, pixels, labels


def tar_gz(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def cifar10_files(tmp_path, monkeypatch):
    folder = tmp_path / "files"
    folder.mkdir()
    batches = [batch(4) for _ in range(5)]
    test = batch(3)
    members = {name: py2_pickle(record) for name, (record, _, _) in zip(cifar10.TRAIN_BATCHES, batches)}
    members[cifar10.TEST_BATCH] = py2_pickle(test[0])
    data = tar_gz(members)
    (folder / cifar10.ARCHIVE).write_bytes(data)
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(data).hexdigest())
    return folder, batches, test


def test_cifar10_layout_labels_and_cache(cifar10_files, home):
    folder, batches, test = cifar10_files
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data(sources=[Folder(folder)])
    assert x_train.shape == (20, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (20, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    first = batches[0][1][0]  # 1024 reds, 1024 greens, 1024 blues, each row by row
    assert x_train[0, 0, 1, 0] == first[1] and x_train[0, 0, 0, 1] == first[1024]
    assert x_train[0, 1, 0, 2] == first[2048 + 32]
    assert y_train[:, 0].tolist() == sum((labels["labels"] for _, _, labels in batches), [])
    assert y_test[:, 0].tolist() == test[2]["labels"]
    assert (cache_folder("cifar10") / f"{cifar10.ARCHIVE}.gz").is_file()
    (x_again, _), _ = cifar10.load_data(sources=[])  # from the cache alone
    np.testing.assert_array_equal(x_again, x_train)


def test_cifar10_wrong_checksum_is_refused(cifar10_files, monkeypatch):
    folder, _, _ = cifar10_files
    monkeypatch.setattr(cifar10, "SHA256", "0" * 64)
    with pytest.raises(DatasetUnavailableError, match="is not the expected"):
        cifar10.load_data(sources=[Folder(folder)])


def test_cifar100_fine_and_coarse(tmp_path, monkeypatch):
    train, test = batch(5, ("fine_labels", "coarse_labels"), 100), batch(2, ("fine_labels", "coarse_labels"), 100)
    data = tar_gz({cifar100.TRAIN: py2_pickle(train[0]), cifar100.TEST: py2_pickle(test[0])})
    (tmp_path / cifar100.ARCHIVE).write_bytes(data)
    monkeypatch.setattr(cifar100, "SHA256", hashlib.sha256(data).hexdigest())
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(sources=[Folder(tmp_path)])
    assert x_train.shape == (5, 32, 32, 3) and y_train[:, 0].tolist() == train[2]["fine_labels"]
    _, (_, y_coarse) = cifar100.load_data("coarse", sources=[])
    assert y_coarse[:, 0].tolist() == test[2]["coarse_labels"]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium")


def test_a_batch_that_calls_a_function_is_refused():
    class Evil:
        def __reduce__(self):
            import os
            return os.system, ("true",)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        cifar.read_batch(pickle.dumps({b"data": Evil(), b"labels": []}))


def test_a_batch_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="3072"):
        cifar.read_batch(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=4))
    with pytest.raises(ValueError, match="labels"):
        cifar.read_batch(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, protocol=4))


def test_missing_member_is_named(tmp_path, monkeypatch):
    data = tar_gz({"cifar-10-batches-py/test_batch": py2_pickle(batch(1)[0])})
    (tmp_path / cifar10.ARCHIVE).write_bytes(data)
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match="data_batch_1"):
        cifar10.load_data(sources=[Folder(tmp_path)])


def npz(tmp_path, name, x, y):
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y)
    (tmp_path / name).write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def keras_split(x, y, test_split, seed):
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    cut = int(len(x) * (1 - test_split))
    return (x[indices][:cut], y[indices][:cut]), (x[indices][cut:], y[indices][cut:])


def test_boston_housing_split_as_keras(tmp_path, monkeypatch):
    x, y = RNG.normal(size=(21, 13)), RNG.normal(size=21) * 10 + 20
    monkeypatch.setattr(boston_housing, "SHA256", npz(tmp_path, "boston_housing.npz", x, y))
    got = keras.datasets.boston_housing.load_data(test_split=0.25, seed=7, sources=[Folder(tmp_path)])
    want = keras_split(x, y, 0.25, 7)
    for got_part, want_part in zip(got, want):
        for a, b in zip(got_part, want_part):
            np.testing.assert_array_equal(a, b)
    assert got[0][0].shape == (15, 13)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


def test_california_housing_small_and_large(tmp_path, monkeypatch):
    x, y = RNG.normal(size=(700, 8)), RNG.uniform(2e4, 5e5, 700)
    monkeypatch.setattr(california_housing, "SHA256", npz(tmp_path, "california_housing.npz", x, y))
    (x_train, _), (x_test, _) = california_housing.load_data(sources=[Folder(tmp_path)])
    assert len(x_train) == 560 and len(x_test) == 140
    (x_small, y_small), _ = california_housing.load_data("small", sources=[])
    want = keras_split(x[:600], y[:600], 0.2, 113)
    np.testing.assert_array_equal(x_small, want[0][0])
    np.testing.assert_array_equal(y_small, want[0][1])
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data("medium")
