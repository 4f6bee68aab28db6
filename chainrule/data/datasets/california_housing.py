"""The California Housing prices, as ``keras.datasets.california_housing``: 20,640 block groups (``version=
"large"``) or their first 600 (``"small"``), 8 features each (median income, house age, average rooms and
bedrooms, population, average occupancy, latitude, longitude), the median house value in dollars as target. Files
as in housing.py, cached in ``$CHAINRULE_HOME/datasets/california_housing/``.

>>> load_data(version="medium")
Traceback (most recent call last):
ValueError: Argument `version` must be one of 'small', 'large'. Received: version=medium
"""
from __future__ import annotations

from collections.abc import Sequence

from chainrule.data.datasets import housing
from chainrule.data.datasets.sources import Source

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"  # as Keras publishes


def load_data(version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2,
              seed: int = 113, sources: Sequence[Source] | None = None):
    """``(x_train, y_train), (x_test, y_test)``: float arrays (N, 8) and (N,), the rows shuffled by ``seed``."""
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: version={version}")
    housing.check_test_split(test_split)
    x, y = housing.load_xy("california_housing", path, "california_housing.npz", SHA256, sources)
    if version == "small":
        x, y = x[:600], y[:600]
    return housing.shuffled_split(x, y, test_split, seed)
