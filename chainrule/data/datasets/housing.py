"""What ``keras.datasets.boston_housing`` and ``california_housing`` share: an ``.npz`` of ``x`` (features) and
``y`` (prices) from Keras's bucket (or ``sources``), checked against Keras's SHA-256 and cached like MNIST, read
without pickles, then shuffled by ``RandomState(seed)`` and split, the last ``test_split`` being the test data.

>>> import numpy as np
>>> (x_train, y_train), (x_test, y_test) = shuffled_split(np.arange(10.0)[:, None], np.arange(10.0), 0.2, 113)
>>> x_train.shape, x_test.shape
((8, 1), (2, 1))
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.data.datasets.npz import read_npz
from chainrule.data.datasets.sources import Source
from chainrule.data.datasets.word_sequences import fetch_file, shuffled


def load_xy(dataset: str, path: str, default_name: str, digest: str,
            sources: Sequence[Source] | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``x`` and ``y`` arrays of a dataset's ``.npz``."""
    arrays = read_npz(fetch_file(dataset, path, default_name, digest, sources))
    if "x" not in arrays or "y" not in arrays:
        raise ValueError(f"{default_name} of the {dataset} dataset must hold arrays 'x' and 'y'; found "
                         f"{sorted(arrays)}")
    return arrays["x"], arrays["y"]


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 (exclusive of 1).")


def shuffled_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """``(x_train, y_train), (x_test, y_test)`` after Keras's seeded shuffle; the first ``1 - test_split`` of the
    rows train."""
    x, y = shuffled(np.random.RandomState(seed), x, y)
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
