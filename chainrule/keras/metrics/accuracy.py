"""Accuracy metrics: per-sample functions (arrays in and out, on the device of their inputs) and their running-mean
classes."""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.keras.metrics.metrics_utils import as_float32, as_values, same_rank
from chainrule.keras.metrics.reduction import mean_metric_class


def accuracy(y_true, y_pred) -> np.ndarray:
    """1 where ``y_pred == y_true`` exactly, else 0."""
    y_true, y_pred = same_rank(*as_values(y_true, y_pred))
    return as_float32(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1 where ``(y_pred > threshold)`` equals the 0/1 label."""
    y_true, y_pred = same_rank(*as_values(y_true, y_pred))
    return as_float32(y_true == as_float32(y_pred > threshold))


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where the largest prediction is the one-hot label's class (one value per sample)."""
    y_true, y_pred = as_values(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"categorical_accuracy expects one-hot labels shaped like y_pred {y_pred.shape}, got "
                         f"{y_true.shape} (use sparse_categorical_accuracy for integer class ids)")
    xp = backend.array_namespace(y_true, y_pred)
    return as_float32(xp.argmax(y_true, axis=-1) == xp.argmax(y_pred, axis=-1))


def _sparse_ids(y_true: np.ndarray, y_pred: np.ndarray, name: str) -> np.ndarray:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = backend.array_namespace(y_true).reshape(y_true, y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{name} expects integer labels of shape {y_pred.shape[:-1]} for predictions of shape "
                         f"{y_pred.shape}, got {y_true.shape}")
    return y_true


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where the largest prediction's index equals the integer label."""
    y_true, y_pred = as_values(y_true, y_pred)
    y_true = _sparse_ids(y_true, y_pred, "sparse_categorical_accuracy")
    return as_float32(y_true == backend.array_namespace(y_pred).argmax(y_pred, axis=-1))


def _in_top_k(ids: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether the labelled class is among the ``k`` largest predictions (ties at the boundary count as in, as
    ``tf.math.in_top_k`` says): fewer than ``k`` classes score strictly higher."""
    target = np.take_along_axis(y_pred, ids.astype(np.int64)[..., None], axis=-1)
    return ((y_pred > target).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the one-hot label's class is among the ``k`` largest predictions."""
    y_true, y_pred = as_values(y_true, y_pred)
    return _in_top_k(y_true.argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the integer label is among the ``k`` largest predictions."""
    y_true, y_pred = as_values(y_true, y_pred)
    return _in_top_k(_sparse_ids(y_true, y_pred, "sparse_top_k_categorical_accuracy"), y_pred, k)


Accuracy = mean_metric_class("Accuracy", accuracy, "accuracy", "How often predictions equal labels exactly.")
BinaryAccuracy = mean_metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                               "How often ``y_pred > threshold`` matches 0/1 labels.", threshold=0.5)
CategoricalAccuracy = mean_metric_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy",
                                    "How often the argmax of the predictions is the one-hot label's class.")
SparseCategoricalAccuracy = mean_metric_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy",
                                          "How often the argmax of the predictions is the integer label.")
TopKCategoricalAccuracy = mean_metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                        "top_k_categorical_accuracy",
                                        "How often the one-hot label's class is among the k largest predictions.", k=5)
SparseTopKCategoricalAccuracy = mean_metric_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                              "sparse_top_k_categorical_accuracy",
                                              "How often the integer label is among the k largest predictions.", k=5)
