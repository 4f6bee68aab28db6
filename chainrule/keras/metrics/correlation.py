"""PearsonCorrelation and ConcordanceCorrelation (``keras.metrics``): the mean over batches of each sample's
correlation along ``axis`` between labels and predictions, with the functions behind them, as Keras computes them.

>>> y_true = [[0, 1, 0.5], [1, 1, 0.2]]
>>> y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
>>> pearson_correlation(y_true, y_pred).round(6).tolist(), concordance_correlation(y_true, y_pred).round(5).tolist()
([1.0, 0.993399], [0.97561, 0.98765])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.keras.metrics.reduction import mean_metric_class
from chainrule.keras.metrics.regression import _regression

EPSILON = 1e-7  # Keras's backend.epsilon()


def pearson_correlation(y_true, y_pred, axis=-1) -> np.ndarray:
    """The Pearson coefficient of each sample: the mean product of the standardized labels and predictions."""
    y_true, y_pred = _regression(y_true, y_pred)
    xp = backend.array_namespace(y_true, y_pred)
    t = y_true - xp.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - xp.mean(y_pred, axis=axis, keepdims=True)
    t = t / xp.std(t, axis=axis, keepdims=True)
    p = p / xp.std(p, axis=axis, keepdims=True)
    return xp.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1) -> np.ndarray:
    """Lin's concordance coefficient of each sample, as Keras computes it: ``mean(2 (t - mean p)(p - mean p) /
    (var t + var p + (mean t - mean p)²))`` (Keras centres both factors on the predictions' mean)."""
    y_true, y_pred = _regression(y_true, y_pred)
    xp = backend.array_namespace(y_true, y_pred)
    t_mean = xp.mean(y_true, axis=axis, keepdims=True)
    p_mean = xp.mean(y_pred, axis=axis, keepdims=True)
    t_var = xp.var(y_true - t_mean, axis=axis, keepdims=True)
    p_var = xp.var(y_pred - p_mean, axis=axis, keepdims=True)
    covariance = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + xp.square(t_mean - p_mean)
    return xp.mean(2 * covariance / (norm + EPSILON), axis=axis)


PearsonCorrelation = mean_metric_class(
    "PearsonCorrelation", pearson_correlation, "pearson_correlation",
    "The mean Pearson correlation coefficient of labels and predictions along ``axis``.", axis=-1)
ConcordanceCorrelation = mean_metric_class(
    "ConcordanceCorrelation", concordance_correlation, "concordance_correlation",
    "The mean concordance correlation coefficient of labels and predictions along ``axis``.", axis=-1)
