"""Metrics from confusion counts: Precision, Recall, the counts themselves (TruePositives, ...), the best sensitivity,
specificity, precision or recall under a constraint on the other (SensitivityAtSpecificity, PrecisionAtRecall, ...),
F-beta/F1, AUC, and ``confusion_matrix``."""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.losses import EPSILON
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.metrics_utils import (as_array, broadcast_weight, divide_no_nan, on_host, same_rank,
                                                  to_state_device)
from chainrule.keras.metrics.reduction import STATE_DTYPE


class _ThresholdCounts(Metric):
    """Confusion counts of ``y_pred > threshold`` for each threshold (Precision, Recall): the variables named in
    ``COUNTS``, one entry per threshold."""

    COUNTS: tuple[str, ...] = ()

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None, name=None,
                 dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else -np.inf
        values = [default] if thresholds is None else np.atleast_1d(thresholds).tolist()
        self.thresholds = np.asarray(values, dtype=np.float64)
        self._single = thresholds is None or np.ndim(thresholds) == 0
        super().__init__(name=name, dtype=dtype)
        for count in self.COUNTS:
            setattr(self, count, self.add_variable(self.thresholds.shape, "zeros", dtype=STATE_DTYPE, name=count))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = to_state_device(y_true, y_pred)
        xp = backend.array_namespace(y_true, y_pred)
        y_true, y_pred = same_rank(y_true, xp.astype(y_pred, np.float64))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} does not match y_pred of shape "
                             f"{y_pred.shape}")
        weight = broadcast_weight(sample_weight, y_pred.shape)
        if self.top_k is not None:  # everything outside each row's top k counts as predicted negative
            kth = -xp.sort(-y_pred, axis=-1)[..., self.top_k - 1:self.top_k] if y_pred.shape[-1] > self.top_k \
                else xp.full(y_pred.shape[:-1] + (1,), -np.inf, dtype=np.float64)
            y_pred = xp.where(y_pred >= kth, y_pred, -np.inf)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            weight = None if weight is None else weight[..., self.class_id]
        positive = xp.astype(xp.reshape(y_true, (-1,)), bool)
        w = xp.ones(positive.shape, dtype=np.float64) if weight is None else xp.reshape(weight, (-1,))
        predicted = xp.reshape(y_pred, (1, -1)) > self._thresholds_like(y_pred)[:, None]  # (thresholds, entries)
        for count in self.COUNTS:
            which = predicted if count in ("true_positives", "false_positives") else ~predicted
            actual = positive if count in ("true_positives", "false_negatives") else ~positive
            if type(which) is np.ndarray:
                getattr(self, count).data += which @ (w * actual)
            else:  # the standard multiplies no booleans
                getattr(self, count).data += xp.astype(which, np.float64) @ (w * xp.astype(actual, np.float64))

    def _thresholds_like(self, array):
        """The thresholds on ``array``'s backend (copied to a device once, not at every step)."""
        if type(array) is np.ndarray:
            return self.thresholds
        owner = backend.extras_for(array)
        if getattr(self, "_device_thresholds", (None,))[0] is not owner:
            self._device_thresholds = (owner, owner.from_host(self.thresholds))
        return self._device_thresholds[1]

    def _finish(self, value: np.ndarray) -> Tensor:
        return self._value(value[0] if self._single else value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdCounts):
    """``TP / (TP + FP)`` of ``y_pred > thresholds`` (0.5 by default); ``top_k``/``class_id`` narrow what counts."""

    COUNTS = ("true_positives", "false_positives")

    def result(self) -> Tensor:
        tp, fp = on_host(self.true_positives, self.false_positives)
        return self._finish(divide_no_nan(tp, tp + fp))


class Recall(_ThresholdCounts):
    """``TP / (TP + FN)`` of ``y_pred > thresholds`` (0.5 by default); ``top_k``/``class_id`` narrow what counts."""

    COUNTS = ("true_positives", "false_negatives")

    def result(self) -> Tensor:
        tp, fn = on_host(self.true_positives, self.false_negatives)
        return self._finish(divide_no_nan(tp, tp + fn))


class _ConditionCount(_ThresholdCounts):
    """One confusion count of ``y_pred > thresholds`` (0.5 by default): one value, or one per threshold."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> Tensor:
        return self._finish(on_host(getattr(self, self.COUNTS[0]))[0].copy())

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of positives predicted positive."""

    COUNTS = ("true_positives",)


class FalsePositives(_ConditionCount):
    """The (weighted) number of negatives predicted positive."""

    COUNTS = ("false_positives",)


class TrueNegatives(_ConditionCount):
    """The (weighted) number of negatives predicted negative."""

    COUNTS = ("true_negatives",)


class FalseNegatives(_ConditionCount):
    """The (weighted) number of positives predicted negative."""

    COUNTS = ("false_negatives",)


class _RateAtRate(_ThresholdCounts):
    """The best of one rate over the thresholds where another rate reaches ``value`` (Keras's
    SensitivitySpecificityBase): counts at ``num_thresholds`` thresholds evenly spaced in [0, 1] (0.5 alone for one).
    ``DEPENDENT`` and ``CONSTRAINED`` name the two rates, ``ARGUMENT`` the constructor's name for ``value``."""

    COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")
    ARGUMENT, CONSTRAINED, DEPENDENT = "", "", ""

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self.ARGUMENT}` must be in the range [0, 1]. Received: "
                             f"{self.ARGUMENT}={value}")
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        self.value, self.num_thresholds = value, num_thresholds
        thresholds = [0.5] if num_thresholds == 1 else \
            [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        super().__init__(thresholds=thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rate(self, which: str) -> np.ndarray:
        tp, fp, tn, fn = on_host(*(getattr(self, count) for count in self.COUNTS))
        return {"sensitivity": divide_no_nan(tp, tp + fn), "recall": divide_no_nan(tp, tp + fn),
                "specificity": divide_no_nan(tn, tn + fp), "precision": divide_no_nan(tp, tp + fp)}[which]

    def result(self) -> Tensor:
        feasible = self._rate(self.CONSTRAINED) >= self.value
        return self._value(np.max(np.where(feasible, self._rate(self.DEPENDENT), 0.0), initial=0.0))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self.ARGUMENT: self.value}


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall) where the specificity is at least ``specificity``."""

    ARGUMENT, CONSTRAINED, DEPENDENT = "specificity", "specificity", "sensitivity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity where the sensitivity (recall) is at least ``sensitivity``."""

    ARGUMENT, CONSTRAINED, DEPENDENT = "sensitivity", "sensitivity", "specificity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_RateAtRate):
    """The best precision where the recall is at least ``recall``."""

    ARGUMENT, CONSTRAINED, DEPENDENT = "recall", "recall", "precision"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_RateAtRate):
    """The best recall where the precision is at least ``precision``."""

    ARGUMENT, CONSTRAINED, DEPENDENT = "precision", "precision", "recall"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)


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
        self._built = False

    COUNTS = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def _build(self, classes: int) -> None:
        """The count variables, once the number of classes is known (one count in all for 'micro')."""
        shape = () if self.average == "micro" else (classes,)
        for count in self.COUNTS:
            setattr(self, count, self.add_variable(shape, "zeros", dtype=STATE_DTYPE, name=count))
        self._built = True

    def _counts(self) -> list:
        return [getattr(self, count).data if self._built else 0.0 for count in self.COUNTS]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, *weight = to_state_device(y_true, y_pred, *(() if sample_weight is None else (sample_weight,)))
        xp = backend.array_namespace(y_true, y_pred)
        y_true, y_pred = xp.astype(y_true, np.float64), xp.astype(y_pred, np.float64)
        if y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name} expects 2-D one-hot (or multi-label) y_true and y_pred of the same shape "
                             f"(batch_size, classes), got y_true.shape={y_true.shape} and "
                             f"y_pred.shape={y_pred.shape} (one-hot encode integer labels with "
                             f"keras.utils.to_categorical)")
        if self.threshold is None:
            predicted = (y_pred >= xp.max(y_pred, axis=-1, keepdims=True)) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = xp.astype(predicted, np.float64)
        axis = None if self.average == "micro" else 0
        weight = 1.0 if sample_weight is None else xp.reshape(xp.astype(weight[0], np.float64), (-1, 1))
        if not self._built:
            self._build(y_true.shape[1])
        tp, fp, fn, weights = self._counts()
        tp += xp.sum(predicted * y_true * weight, axis=axis)
        fp += xp.sum(predicted * (1 - y_true) * weight, axis=axis)
        fn += xp.sum((1 - predicted) * y_true * weight, axis=axis)
        weights += xp.sum(y_true * weight, axis=axis)

    def result(self) -> Tensor:
        tp, fp, fn, weights = on_host(*self._counts())
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = np.asarray(weights)
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
    averaged (weighted by ``label_weights``).

    On a device, ``update_state`` reads the batch onto the host (a search and a histogram the array API lacks), one
    copy per step, and adds the counts to the state on the device."""

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
        super().__init__(name=name, dtype=dtype)
        self._built = False
        if not self.multi_label:
            self._build((self.num_thresholds,))
        elif num_labels is not None:
            self._build((self.num_thresholds, num_labels))

    COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def _build(self, shape: tuple) -> None:
        """The four count variables (a multi-label AUC makes them on its first batch, when it sees the labels)."""
        for count in self.COUNTS:
            setattr(self, count, self.add_variable(shape, "zeros", dtype=STATE_DTYPE, name=count))
        self._built = True

    def _counts(self) -> list:
        """tp, fp, tn, fn as arrays (zeros of one threshold column before a multi-label AUC has seen data)."""
        if not self._built:
            return [np.zeros((self.num_thresholds, 1)) for _ in self.COUNTS]
        return on_host(*(getattr(self, count) for count in self.COUNTS))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = same_rank(as_array(y_true).astype(np.float64), as_array(y_pred).astype(np.float64))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"AUC: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid, without overflow
        weight = broadcast_weight(sample_weight, y_pred.shape)
        w = np.ones(y_pred.shape) if weight is None else on_host(weight)[0]
        labels = y_pred.shape[-1] if self.multi_label and y_pred.ndim else 1
        if not self._built:
            self._build((self.num_thresholds, labels))
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
        for count, delta in zip(self.COUNTS, (tp, fp, neg - fp, pos - tp)):
            getattr(self, count).data += backend.to_device(delta)

    def _interpolate_pr_auc(self) -> np.ndarray:
        tp, fp, _, fn = self._counts()
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))

    def result(self) -> Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr_auc()
        else:
            tp, fp, tn, fn = self._counts()
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, divide_no_nan(tp, tp + fp)
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
        return self._value(divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self.init_thresholds,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                "from_logits": self.from_logits}


def confusion_matrix(labels, predictions, num_classes: int | None = None, weights=None, dtype=np.int32) -> Tensor:
    """``tf.math.confusion_matrix``: entry [i, j] counts (or sums ``weights`` of) samples of true class i predicted
    as class j; ``num_classes`` defaults to one more than the largest label or prediction."""
    labels, predictions = as_array(labels).reshape(-1), as_array(predictions).reshape(-1)
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
    w = None if weights is None else as_array(weights).reshape(-1).astype(np.float64)
    counts = np.bincount(labels * n + predictions, weights=w, minlength=n * n).reshape(n, n)
    return Tensor._wrap(backend.xp.asarray(counts.astype(dtype)))
