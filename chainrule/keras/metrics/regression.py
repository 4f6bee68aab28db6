"""Regression metrics: mean squared/absolute error and its root."""
from __future__ import annotations

import math

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.metrics.metrics_utils import as_array, same_rank
from chainrule.keras.metrics.reduction import mean_metric_class


def _regression(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_pred = as_array(y_pred)
    y_true = as_array(y_true)
    return same_rank(y_true.astype(y_pred.dtype if y_pred.dtype.kind == "f" else np.float64, copy=False), y_pred)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    return np.square(y_pred - y_true).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    return np.abs(y_pred - y_true).mean(axis=-1)


MeanSquaredError = mean_metric_class("MeanSquaredError", mean_squared_error, "mean_squared_error",
                                 "Mean of the squared errors.")
MeanAbsoluteError = mean_metric_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
                                  "Mean of the absolute errors.")


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over everything seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self) -> Tensor:
        return self._value(math.sqrt(self._mean()))
