"""Metrics that reduce values over batches: ``Mean``, ``Sum`` and ``MeanMetricWrapper`` (the running mean of a
per-sample function), and the factory that makes a Keras metric class out of such a function."""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.metrics_utils import as_array, same_rank


def samplewise(values: np.ndarray, sample_weight) -> tuple[np.ndarray, np.ndarray | None]:
    """Keras's ``reduce_to_samplewise_values``: per-sample means of ``values``, weighted by ``sample_weight``."""
    values = np.asarray(values, dtype=np.float64)
    weight = None
    if sample_weight is not None:
        weight = as_array(sample_weight).astype(np.float64)
        values, weight = same_rank(values, weight)
        if values.ndim > weight.ndim:
            values = values.mean(axis=tuple(range(weight.ndim, values.ndim)))
        try:
            weight = np.broadcast_to(weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {weight.shape} does not match values of shape "
                             f"{values.shape}") from None
        values = values * weight
        if weight.ndim > 1:
            weight = weight.mean(axis=tuple(range(1, weight.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, weight


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight=None)``."""

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, weight = samplewise(as_array(values), sample_weight)
        self.total += float(values.sum())
        self.count += float(weight.sum()) if weight is not None else (values.shape[0] if values.ndim else 1)

    def result(self) -> Tensor:
        return self._value(self.total / self.count if self.count else 0.0)


class Sum(Mean):
    """The (weighted) sum of every value given."""

    def result(self) -> Tensor:
        return self._value(self.total)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` (per-sample values, NumPy in and out) over all batches."""

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self._fn(as_array(y_true), as_array(y_pred), **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


def mean_metric_class(name: str, fn, default_name: str, doc: str, **options) -> type:
    """A Keras metric class: the running mean of ``fn`` with constructor ``options`` (these defaults), living in
    ``fn``'s module."""
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        settings = dict(options)
        settings.update(zip(options, args))
        if set(kwargs) - set(options) or len(args) > len(options):
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(set(kwargs) - set(options))}")
        settings.update(kwargs)
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **settings)
    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": fn.__module__,
                                             "function": staticmethod(fn)})
