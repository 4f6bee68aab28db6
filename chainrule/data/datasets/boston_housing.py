"""The Boston Housing prices, as ``keras.datasets.boston_housing``: 506 districts, 13 features each, the median
home price in k$ as target (Keras warns of the dataset's ethical problem: its "B" feature; prefer
california_housing). Files as in housing.py, cached in ``$CHAINRULE_HOME/datasets/boston_housing/``.

>>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
>>> x_train.shape, x_test.shape  # doctest: +SKIP
((404, 13), (102, 13))
"""
from __future__ import annotations

from collections.abc import Sequence

from chainrule.data.datasets import housing
from chainrule.data.datasets.sources import Source

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # as Keras publishes


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113,
              sources: Sequence[Source] | None = None):
    """``(x_train, y_train), (x_test, y_test)``: float arrays (N, 13) and (N,), the rows shuffled by ``seed``."""
    housing.check_test_split(test_split)
    x, y = housing.load_xy("boston_housing", path, "boston_housing.npz", SHA256, sources)
    return housing.shuffled_split(x, y, test_split, seed)
