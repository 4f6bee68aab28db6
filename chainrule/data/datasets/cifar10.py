"""CIFAR-10, as ``keras.datasets.cifar10``: 50,000 training and 10,000 test 32x32 colour images in 10 classes
(airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck; ``LABEL_NAMES``).

The archive ``cifar-10-python.tar.gz`` comes from the CIFAR homepage (or ``sources``), is checked against Keras's
SHA-256 and cached in ``$CHAINRULE_HOME/datasets/cifar10/`` (cifar.py).

>>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
>>> x_train.shape, y_train.shape  # doctest: +SKIP
((50000, 32, 32, 3), (50000, 1))
>>> LABEL_NAMES[3]
'cat'
"""
from __future__ import annotations

from collections.abc import Sequence

from chainrule.data.datasets import cifar
from chainrule.data.datasets.sources import Source

ARCHIVE = "cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # as Keras publishes
TRAIN_BATCHES = tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "cifar-10-batches-py/test_batch"
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_data(sources: Sequence[Source] | None = None) -> cifar.Splits:
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (50000, 32, 32, 3), (50000, 1),
    (10000, 32, 32, 3), (10000, 1). ``sources`` replaces the CIFAR homepage (tried after the cache)."""
    files = cifar.archive_members("cifar10", ARCHIVE, SHA256, [*TRAIN_BATCHES, TEST_BATCH], sources)
    return cifar.splits([cifar.read_batch(files[name]) for name in TRAIN_BATCHES], cifar.read_batch(files[TEST_BATCH]))
