"""Regression metrics: mean squared/absolute error and its root, the percentage, logarithmic and log-cosh errors,
cosine similarity, and the R² score.

>>> m = R2Score()
>>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
>>> round(float(m.result()), 6)  # Keras's documented example
0.571429
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule import backend
from chainrule.engine.autograd import no_grad
from chainrule.engine.tensor import Tensor
from chainrule.keras import losses
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.metrics_utils import as_values, same_rank, to_state_device
from chainrule.keras.metrics.reduction import STATE_DTYPE, loss_metric_class, mean_metric_class


def _regression(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions where they live, of the predictions' float dtype (float64 for integer predictions)."""
    y_true, y_pred = as_values(y_true, y_pred)
    xp = backend.array_namespace(y_true, y_pred)
    dtype = y_pred.dtype if backend.dtype_kind(y_pred.dtype) == "f" else np.float64
    return same_rank(xp.astype(y_true, dtype, copy=False), xp.astype(y_pred, dtype, copy=False))


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    xp = backend.array_namespace(y_pred)
    return xp.mean(xp.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    xp = backend.array_namespace(y_pred)
    return xp.mean(xp.abs(y_pred - y_true), axis=-1)


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


MeanAbsolutePercentageError = loss_metric_class(__name__, "MeanAbsolutePercentageError",
                                                losses.mean_absolute_percentage_error,
                                                "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = loss_metric_class(__name__, "MeanSquaredLogarithmicError",
                                                losses.mean_squared_logarithmic_error,
                                                "mean_squared_logarithmic_error")
LogCoshError = loss_metric_class(__name__, "LogCoshError", losses.log_cosh, "logcosh")


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """``sum(normalize(y_true) * normalize(y_pred), axis)``: 1 when the vectors point the same way (the loss of
    that name is its negative)."""
    with no_grad():
        return -losses.cosine_similarity(y_true, y_pred, axis=axis).data


CosineSimilarity = mean_metric_class("CosineSimilarity", cosine_similarity, "cosine_similarity",
                                     "The mean cosine similarity between labels and predictions along ``axis``.",
                                     axis=-1)


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output column of 2-D data, aggregated by
    ``class_aggregation`` ('uniform_average', 'variance_weighted_average', or None for one score per column);
    ``num_regressors`` > 0 gives the adjusted R² ``1 - (1 - R²)(n - 1) / (n - p - 1)``."""

    AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype=None):
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {self.AGGREGATIONS}. "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), "zeros", dtype=STATE_DTYPE, name="num_samples")
        self._built = False

    def _build(self, columns: int) -> None:
        for attribute, name in (("squared_sum", "squared_sum"), ("sum", "sum"), ("total_mse", "residual"),
                                ("count", "count")):
            setattr(self, attribute, self.add_variable((columns,), "zeros", dtype=STATE_DTYPE, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, *weight = to_state_device(y_true, y_pred, *(() if sample_weight is None else (sample_weight,)))
        xp = backend.array_namespace(y_true, y_pred)
        y_true, y_pred = same_rank(xp.astype(y_true, np.float64), xp.astype(y_pred, np.float64))
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(f"R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                             f"shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}.")
        if not self._built:
            self._build(y_pred.shape[-1])
        weight = xp.ones((), dtype=np.float64) if sample_weight is None else xp.astype(weight[0], np.float64)
        if weight.ndim == 1:
            weight = weight[:, None]  # one weight per sample
        weight = xp.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.sum.data += xp.sum(weighted, axis=0)
        self.squared_sum.data += xp.sum(y_true * weighted, axis=0)
        self.total_mse.data += xp.sum((y_true - y_pred) ** 2 * weight, axis=0)
        self.count.data += xp.sum(weight, axis=0)
        # a sample counts once, whatever its columns
        self.num_samples.data += xp.sum(xp.astype(xp.any(weight != 0, axis=-1), np.float64))

    def result(self) -> Tensor:
        if not self._built:
            return self._value(0.0)
        # the score's few divisions and the adjustment's branches read the state on the host, once per result
        total_mse, squared_sum, sum_, count = (backend.to_host(v.data) for v in (self.total_mse, self.squared_sum,
                                                                                   self.sum, self.count))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sum_ / count
            total = squared_sum - sum_ * mean
            scores = 1.0 - total_mse / total
        scores = np.where(np.isinf(scores), 0.0, scores)
        if self.class_aggregation == "uniform_average":
            score = scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * scores).sum() / total.sum()
        else:
            score = scores
        n, p = float(self.num_samples.data), self.num_regressors
        if p:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                              stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return self._value(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
