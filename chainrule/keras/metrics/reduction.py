"""Metrics that reduce values over batches: ``Mean``, ``Sum`` and ``MeanMetricWrapper`` (the running mean of a
per-sample function), and the factories that make a Keras metric class out of such a function or out of one of
:mod:`chainrule.keras.losses`'s per-sample losses."""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.autograd import no_grad
from chainrule.engine.tensor import Tensor
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.metrics_utils import as_values, same_rank


STATE_DTYPE = "float64"  # running totals and counts: in float32 a count stops growing at 2**24 samples


def samplewise(values: np.ndarray, sample_weight, reduce: str = "mean") -> tuple[np.ndarray, np.ndarray | None]:
    """Keras's ``reduce_to_samplewise_values``: one value per sample (``reduce``, 'mean' or 'sum', over the other
    axes), weighted by ``sample_weight``; and the weight of each sample (None without weights). On the device of the
    values: a GPU's stay there."""
    values, *weight = as_values(values, *(() if sample_weight is None else (sample_weight,)))
    xp = backend.array_namespace(values)
    over = getattr(xp, reduce)
    values = xp.astype(values, np.float64)
    if sample_weight is None:
        weight = None
    else:
        weight = xp.astype(weight[0], np.float64)
        values, weight = same_rank(values, weight)
        if values.ndim > weight.ndim:
            values = over(values, axis=tuple(range(weight.ndim, values.ndim)))
        try:
            weight = xp.broadcast_to(weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {weight.shape} does not match values of shape "
                             f"{values.shape}") from None
        values = values * weight
        if weight.ndim > 1:
            weight = over(weight, axis=tuple(range(1, weight.ndim)))
    if values.ndim > 1:
        values = over(values, axis=tuple(range(1, values.ndim)))
    return values, weight


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.number))


def _is_device_scalar(x) -> bool:
    """A 0-d array of a device backend (a step's loss on a GPU)."""
    return backend.is_device_array(x) and x.ndim == 0


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight=None)``; its state is the
    variables ``total`` and ``count``.

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result()), [v.name for v in m.variables]
    (2.0, ['mean/total', 'mean/count'])
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", dtype=STATE_DTYPE, name="total")
        self.count = self.add_variable((), "zeros", dtype=STATE_DTYPE, name="count")

    def update_state(self, values, sample_weight=None) -> None:
        if (_is_number(values) or _is_device_scalar(values)) and (sample_weight is None or _is_number(sample_weight)):
            # a Python number (the loss of a batch, weighted by its size) skips the array conversions; so does a
            # loss still on its device, added there
            weight = 1.0 if sample_weight is None else sample_weight
            self.total.data += values * weight
            self.count.data += weight
            return
        values, weight = samplewise(as_values(values)[0], sample_weight)
        xp = backend.array_namespace(values)
        self.total.data += xp.sum(values)
        self.count.data += xp.sum(weight) if weight is not None else (values.shape[0] if values.ndim else 1)

    def _mean(self) -> float:
        count = float(self.count.data)
        return float(self.total.data) / count if count else 0.0

    def result(self) -> Tensor:
        return self._value(self._mean())


class Sum(Metric):
    """The (weighted) sum of every value given; its state is the variable ``total``.

    >>> m = Sum()
    >>> m.update_state([[1, 3], [5, 7]], sample_weight=[1, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", dtype=STATE_DTYPE, name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = samplewise(as_values(values)[0], sample_weight, reduce="sum")
        self.total.data += backend.array_namespace(values).sum(values)

    def result(self) -> Tensor:
        return self._value(self.total.data)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` (one value per sample) over all batches; ``fn`` gets the
    labels and predictions as they were given (Tensors from ``fit``) and may return a Tensor or an array."""

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(as_values(self._fn(y_true, y_pred, **self._fn_kwargs))[0], sample_weight)

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


def loss_metric_class(module: str, name: str, loss_fn, default_name: str, **options) -> type:
    """A metric class (living in ``module``) that averages one of :mod:`chainrule.keras.losses`'s per-sample losses,
    computed without a graph."""
    def fn(y_true, y_pred, **kwargs):
        with no_grad():
            return loss_fn(y_true, y_pred, **kwargs).data  # on its device: the mean accumulates there
    fn.__name__, fn.__module__ = loss_fn.__name__, module
    return mean_metric_class(name, fn, default_name, f"The mean of ``losses.{loss_fn.__name__}`` over all batches.",
                             **options)
