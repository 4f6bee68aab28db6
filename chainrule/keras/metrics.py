"""Metrics (``keras.metrics``): stateful summaries updated batch by batch on plain NumPy values (no graph).

Every metric has ``update_state(y_true, y_pred, sample_weight=None)`` (``Mean`` takes ``update_state(values)``),
``result()`` (a 0-d float32 Tensor, or a vector for per-class results: ``float(m.result())`` and
``m.result().numpy()`` both work), ``reset_state()`` and ``name``. Calling a metric updates it and returns the result.

>>> import numpy as np
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.keras import configurable as _config
from chainrule.keras import losses
from chainrule.keras.configurable import serialize
from chainrule.engine.autograd import no_grad
from chainrule.keras.losses import EPSILON, _snake_case, same_rank_shapes
from chainrule.engine.tensor import Tensor, TensorLike


def _array(x: TensorLike) -> np.ndarray:
    """The values as a NumPy array (a Tensor's data without copying; off the GPU if need be)."""
    if isinstance(x, Tensor):
        return x.numpy()
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true_shape, pred_shape = same_rank_shapes(y_true.shape, y_pred.shape)
    return y_true.reshape(true_shape), y_pred.reshape(pred_shape)


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


class Metric(_config.Configurable):
    """Base class: subclasses define ``update_state``, ``result`` and ``reset_state`` (state in NumPy)."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = np.dtype(backend.floatx() if dtype is None else dtype)
        self.reset_state()

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define result")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define reset_state")

    def reset_states(self) -> None:
        """The TF 2.x name of :meth:`reset_state`."""
        self.reset_state()

    def _value(self, x) -> Tensor:
        """A result as a Tensor of the metric's dtype."""
        return Tensor._wrap(backend.xp.asarray(np.asarray(x, dtype=self.dtype)))

    def __call__(self, *args, **kwargs) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


# --- means ------------------------------------------------------------------------------------------------------------
def _samplewise(values: np.ndarray, sample_weight) -> tuple[np.ndarray, np.ndarray | None]:
    """Keras's ``reduce_to_samplewise_values``: per-sample means of ``values``, weighted by ``sample_weight``."""
    values = np.asarray(values, dtype=np.float64)
    weight = None
    if sample_weight is not None:
        weight = _array(sample_weight).astype(np.float64)
        values, weight = _same_rank(values, weight)
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
        values, weight = _samplewise(_array(values), sample_weight)
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
        super().update_state(self._fn(_array(y_true), _array(y_pred), **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


# --- per-sample metric functions (NumPy) ------------------------------------------------------------------------------
def accuracy(y_true, y_pred) -> np.ndarray:
    """1 where ``y_pred == y_true`` exactly, else 0."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1 where ``(y_pred > threshold)`` equals the 0/1 label."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return (y_true == (y_pred > threshold)).astype(np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where the largest prediction is the one-hot label's class (one value per sample)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"categorical_accuracy expects one-hot labels shaped like y_pred {y_pred.shape}, got "
                         f"{y_true.shape} (use sparse_categorical_accuracy for integer class ids)")
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float32)


def _sparse_ids(y_true: np.ndarray, y_pred: np.ndarray, name: str) -> np.ndarray:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{name} expects integer labels of shape {y_pred.shape[:-1]} for predictions of shape "
                         f"{y_pred.shape}, got {y_true.shape}")
    return y_true


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where the largest prediction's index equals the integer label."""
    y_pred = _array(y_pred)
    y_true = _sparse_ids(_array(y_true), y_pred, "sparse_categorical_accuracy")
    return (y_true == y_pred.argmax(axis=-1)).astype(np.float32)


def _in_top_k(ids: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether the labelled class is among the ``k`` largest predictions (ties at the boundary count as in, as
    ``tf.math.in_top_k`` says): fewer than ``k`` classes score strictly higher."""
    target = np.take_along_axis(y_pred, ids.astype(np.int64)[..., None], axis=-1)
    return ((y_pred > target).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the one-hot label's class is among the ``k`` largest predictions."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return _in_top_k(y_true.argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the integer label is among the ``k`` largest predictions."""
    y_pred = _array(y_pred)
    return _in_top_k(_sparse_ids(_array(y_true), y_pred, "sparse_top_k_categorical_accuracy"), y_pred, k)


def _regression(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_pred = _array(y_pred)
    y_true = _array(y_true)
    return _same_rank(y_true.astype(y_pred.dtype if y_pred.dtype.kind == "f" else np.float64, copy=False), y_pred)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    return np.square(y_pred - y_true).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _regression(y_true, y_pred)
    return np.abs(y_pred - y_true).mean(axis=-1)


def _metric_class(name: str, fn, default_name: str, doc: str, **options):
    """A Keras metric class: the running mean of ``fn`` with constructor ``options`` (these defaults)."""
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        settings = dict(options)
        settings.update(zip(options, args))
        if set(kwargs) - set(options) or len(args) > len(options):
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(set(kwargs) - set(options))}")
        settings.update(kwargs)
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **settings)
    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                                             "function": staticmethod(fn)})


Accuracy = _metric_class("Accuracy", accuracy, "accuracy", "How often predictions equal labels exactly.")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                               "How often ``y_pred > threshold`` matches 0/1 labels.", threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy",
                                    "How often the argmax of the predictions is the one-hot label's class.")
SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy",
                                          "How often the argmax of the predictions is the integer label.")
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                        "top_k_categorical_accuracy",
                                        "How often the one-hot label's class is among the k largest predictions.", k=5)
SparseTopKCategoricalAccuracy = _metric_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                              "sparse_top_k_categorical_accuracy",
                                              "How often the integer label is among the k largest predictions.", k=5)
MeanSquaredError = _metric_class("MeanSquaredError", mean_squared_error, "mean_squared_error",
                                 "Mean of the squared errors.")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
                                  "Mean of the absolute errors.")


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over everything seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self) -> Tensor:
        return self._value(math.sqrt(self.total / self.count) if self.count else 0.0)


def _loss_metric(name: str, loss_fn, default_name: str, **options):
    """A metric that averages one of :mod:`chainrule.keras.losses`'s per-sample losses (computed without a graph)."""
    def fn(y_true, y_pred, **kwargs):
        with no_grad():
            return loss_fn(y_true, y_pred, **kwargs).numpy()
    fn.__name__ = loss_fn.__name__
    return _metric_class(name, fn, default_name, f"The mean of ``losses.{loss_fn.__name__}`` over all batches.",
                         **options)


BinaryCrossentropy = _loss_metric("BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
                                  from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_metric("CategoricalCrossentropy", losses.categorical_crossentropy,
                                       "categorical_crossentropy", from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_metric("SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy,
                                             "sparse_categorical_crossentropy", from_logits=False)


# --- confusion-matrix metrics -----------------------------------------------------------------------------------------
def _broadcast_weight(sample_weight, shape: tuple) -> np.ndarray | None:
    """``sample_weight`` (per sample, or shaped like the predictions) broadcast to ``shape``."""
    if sample_weight is None:
        return None
    weight = _array(sample_weight).astype(np.float64)
    shape_w, _ = same_rank_shapes(weight.shape, shape)
    weight = weight.reshape(shape_w)
    weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} does not match predictions of shape "
                         f"{shape}") from None


class _ThresholdCounts(Metric):
    """True/false positives/negatives of ``y_pred > threshold`` for each threshold (Precision, Recall)."""

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None, name=None,
                 dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else -np.inf
        values = [default] if thresholds is None else np.atleast_1d(thresholds).tolist()
        self.thresholds = np.asarray(values, dtype=np.float64)
        self._single = thresholds is None or np.ndim(thresholds) == 0
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives, self.false_positives, self.false_negatives = np.zeros(n), np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred).astype(np.float64))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} does not match y_pred of shape "
                             f"{y_pred.shape}")
        weight = _broadcast_weight(sample_weight, y_pred.shape)
        if self.top_k is not None:  # everything outside each row's top k counts as predicted negative
            kth = -np.sort(-y_pred, axis=-1)[..., self.top_k - 1:self.top_k] if y_pred.shape[-1] > self.top_k \
                else np.full(y_pred.shape[:-1] + (1,), -np.inf)
            y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            weight = None if weight is None else weight[..., self.class_id]
        positive = y_true.reshape(-1).astype(bool)
        w = np.ones(positive.shape) if weight is None else weight.reshape(-1)
        predicted = y_pred.reshape(1, -1) > self.thresholds[:, None]  # (thresholds, entries)
        self.true_positives += predicted @ (w * positive)
        self.false_positives += predicted @ (w * ~positive)
        self.false_negatives += (~predicted) @ (w * positive)

    def _finish(self, value: np.ndarray) -> Tensor:
        return self._value(value[0] if self._single else value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdCounts):
    """``TP / (TP + FP)`` of ``y_pred > thresholds`` (0.5 by default); ``top_k``/``class_id`` narrow what counts."""

    def result(self) -> Tensor:
        return self._finish(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_ThresholdCounts):
    """``TP / (TP + FN)`` of ``y_pred > thresholds`` (0.5 by default); ``top_k``/``class_id`` narrow what counts."""

    def result(self) -> Tensor:
        return self._finish(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class FBetaScore(Metric):
    """F-beta per class from 2-D one-hot/multi-label data: ``(1 + b²) P R / (b² P + R)``.

    ``threshold=None`` marks each row's largest prediction as the positive one; otherwise ``y_pred > threshold``.
    ``average``: None (one score per class), 'micro' (counts pooled), 'macro' (mean of the class scores) or
    'weighted' (class scores weighted by their number of true labels)."""

    AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype=None):
        if average not in self.AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {self.AVERAGES}, got {average!r}")
        if beta <= 0:
            raise ValueError(f"{type(self).__name__}: beta must be > 0, got {beta}")
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise ValueError(f"{type(self).__name__}: threshold must be in (0, 1], got {threshold}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _array(y_true).astype(np.float64), _array(y_pred).astype(np.float64)
        if y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name} expects 2-D one-hot (or multi-label) y_true and y_pred of the same shape "
                             f"(batch_size, classes), got y_true.shape={y_true.shape} and "
                             f"y_pred.shape={y_pred.shape} (one-hot encode integer labels with "
                             f"keras.utils.to_categorical)")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        axis = None if self.average == "micro" else 0
        weight = 1.0 if sample_weight is None else _array(sample_weight).astype(np.float64).reshape(-1, 1)
        self.true_positives = self.true_positives + (predicted * y_true * weight).sum(axis=axis)
        self.false_positives = self.false_positives + (predicted * (1 - y_true) * weight).sum(axis=axis)
        self.false_negatives = self.false_negatives + ((1 - predicted) * y_true * weight).sum(axis=axis)
        self.intermediate_weights = self.intermediate_weights + (y_true * weight).sum(axis=axis)

    def result(self) -> Tensor:
        tp = np.asarray(self.true_positives)
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = np.asarray(self.intermediate_weights)
            score = (score * weights / (weights.sum() + EPSILON)).sum()
        elif self.average is not None:
            score = score.mean()
        return self._value(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 (beta = 1): the harmonic mean of precision and recall; see :class:`FBetaScore`."""

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from confusion counts at ``num_thresholds`` thresholds evenly
    spaced in [0, 1] (plus one just below 0 and one just above 1), summed as Keras does: 'interpolation'
    (trapezoids; for PR, Davis & Goadrich's interpolation), 'minoring' or 'majoring'.

    Labels may be soft (in [0, 1]): a label counts ``y`` as positive and ``1 - y`` as negative. Without
    ``multi_label`` every entry is one binary decision; with it, each column gets its own curve and the areas are
    averaged (weighted by ``label_weights``)."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype=None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        curve, summation_method = curve.upper(), summation_method.lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', got "
                             f"{summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.init_thresholds = thresholds
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.num_labels, self.from_logits = bool(multi_label), num_labels, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self._shape = None if not multi_label or num_labels is None else (self.num_thresholds, num_labels)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        shape = self._shape or (self.num_thresholds,)
        self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
        self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _same_rank(_array(y_true).astype(np.float64), _array(y_pred).astype(np.float64))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"AUC: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid, without overflow
        weight = _broadcast_weight(sample_weight, y_pred.shape)
        w = np.ones(y_pred.shape) if weight is None else weight
        labels = y_pred.shape[-1] if self.multi_label and y_pred.ndim else 1
        if self.multi_label and self._shape is None:
            self._shape = (self.num_thresholds, labels)
            self.reset_state()
        # predicted positive at threshold t  <=>  y_pred > thresholds[t]  <=>  t < (number of thresholds below y_pred)
        below = np.searchsorted(self.thresholds, y_pred.reshape(-1, labels), side="left")
        column = np.arange(labels) * (self.num_thresholds + 1)
        size = labels * (self.num_thresholds + 1)
        counts = []
        for mass in ((y_true * w).reshape(-1, labels), ((1 - y_true) * w).reshape(-1, labels)):
            hist = np.bincount((below + column).reshape(-1), weights=mass.reshape(-1), minlength=size)
            hist = hist.reshape(labels, self.num_thresholds + 1)
            at_or_above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # [j] = mass with `below` >= j
            counts.append((at_or_above[:, 1:].T, at_or_above[:, 0]))  # (thresholds, labels), totals
        (tp, pos), (fp, neg) = counts
        if not self.multi_label:
            tp, fp, pos, neg = tp[:, 0], fp[:, 0], pos[0], neg[0]
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += pos - tp
        self.true_negatives += neg - fp

    def _interpolate_pr_auc(self) -> np.ndarray:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))

    def result(self) -> Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr_auc()
        else:
            tp, fp, fn, tn = self.true_positives, self.false_positives, self.false_negatives, self.true_negatives
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            terms = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return self._value(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return self._value(by_label.mean())
        return self._value(_divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self.init_thresholds,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                "from_logits": self.from_logits}


def confusion_matrix(labels, predictions, num_classes: int | None = None, weights=None, dtype=np.int32) -> Tensor:
    """``tf.math.confusion_matrix``: entry [i, j] counts (or sums ``weights`` of) samples of true class i predicted
    as class j; ``num_classes`` defaults to one more than the largest label or prediction."""
    labels, predictions = _array(labels).reshape(-1), _array(predictions).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(f"confusion_matrix: labels ({labels.size}) and predictions ({predictions.size}) must have "
                         f"the same number of entries")
    labels, predictions = labels.astype(np.int64), predictions.astype(np.int64)
    if labels.size and min(labels.min(), predictions.min()) < 0:
        raise ValueError("confusion_matrix: labels and predictions must be non-negative class ids")
    largest = int(max(labels.max(), predictions.max())) if labels.size else -1
    n = largest + 1 if num_classes is None else int(num_classes)
    if largest >= n:
        raise ValueError(f"confusion_matrix: class id {largest} is out of range for num_classes={n}")
    w = None if weights is None else _array(weights).reshape(-1).astype(np.float64)
    counts = np.bincount(labels * n + predictions, weights=w, minlength=n * n).reshape(n, n)
    return Tensor._wrap(backend.xp.asarray(counts.astype(dtype)))


ALL_METRICS = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, Precision, Recall, FBetaScore, F1Score, AUC, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)}
ALIASES = {"mse": MeanSquaredError, "mae": MeanAbsoluteError, "rmse": RootMeanSquaredError,
           **{_snake_case(name): cls for name, cls in ALL_METRICS.items() if name != "AUC"}, "auc": AUC,
           "top_k_categorical_accuracy": TopKCategoricalAccuracy,
           "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy}


def _accuracy_for(loss, output_shape, label_shape) -> Metric:
    """The accuracy that fits the loss (sparse CCE, binary CE, categorical CE) or, failing that, the shapes."""
    kind = None
    try:
        loss = losses.get(loss) if loss is not None else None
    except ValueError:
        loss = None
    function = getattr(loss, "function", None) or getattr(loss, "fn", None)
    if function is losses.sparse_categorical_crossentropy:
        kind = "sparse"
    elif function is losses.binary_crossentropy:
        from_logits = loss._fn_kwargs.get("from_logits", False)
        return BinaryAccuracy(threshold=0.0 if from_logits else 0.5)  # a logit > 0 is a probability > 0.5
    elif function is losses.categorical_crossentropy:
        kind = "categorical"
    elif output_shape is not None and tuple(output_shape)[-1:] == (1,):
        kind = "binary"
    elif output_shape is not None and label_shape is not None:
        out, lab = tuple(output_shape), tuple(label_shape)
        sparse = len(lab) < len(out) or (lab[-1:] == (1,) and out[-1:] != (1,))
        kind = "sparse" if sparse else "categorical"
    return {"sparse": SparseCategoricalAccuracy, "binary": BinaryAccuracy}.get(kind, CategoricalAccuracy)()


def get(identifier, loss=None, output_shape=None, label_shape=None) -> Metric | None:
    """A :class:`Metric` from a name, a config dict, a class, an instance or a per-sample function.

    'accuracy'/'acc' resolve as Keras's ``compile`` does: sparse categorical accuracy for a sparse categorical
    cross-entropy loss (or integer-id labels: ``label_shape`` of lower rank than ``output_shape``, or ending in 1),
    binary accuracy for a binary cross-entropy loss or a single output unit, categorical accuracy otherwise. A metric
    made from a name carries that name ('acc' stays 'acc'), as Keras's training logs do."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        metric = _accuracy_for(loss, output_shape, label_shape)
    else:
        metric = _config.lookup(identifier, "metric", Metric, {**ALL_METRICS, **ALIASES}, deserialize,
                                MeanMetricWrapper)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    cls, config = _config.resolve(config, ALL_METRICS, "metric", custom_objects)
    return cls.from_config(config)
