"""``tf.nn``'s moment helpers: ``sufficient_statistics`` (count, sums of x and x², shift), ``normalize_moments``
(mean and variance from them), ``weighted_moments`` (frequency-weighted mean and variance) and ``zero_fraction``,
built from ops (the moments are differentiable).

>>> import numpy as np
>>> import chainrule as tf
>>> x = np.array([[1.0, 2.0], [3.0, 6.0]], "float32")
>>> count, total, squares, _ = tf.nn.sufficient_statistics(x, [0])
>>> [m.numpy().tolist() for m in tf.nn.normalize_moments(count, total, squares, None)]
[[2.0, 4.0], [1.0, 4.0]]
>>> float(tf.nn.zero_fraction(np.array([0.0, 1.0, 0.0, 3.0])))
0.5
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops import count_nonzero


def _axes(axes, ndim: int) -> tuple[int, ...]:
    return tuple(int(a) % ndim for a in (axes if isinstance(axes, (list, tuple)) else [axes]))


def sufficient_statistics(x: TensorLike, axes, shift=None, keepdims: bool = False, name=None):
    """``(count, Σ(x - shift), Σ(x - shift)², shift)`` over ``axes`` (no shift when ``shift`` is None)."""
    x = as_tensor(x)
    axes = _axes(axes, x.ndim)
    count = Tensor._wrap(np.asarray(float(np.prod([x.shape[a] for a in axes])), dtype=x.dtype))
    centred = x - shift if shift is not None else x
    return (count, ops.sum(centred, axes, keepdims), ops.sum(centred * centred, axes, keepdims),
            None if shift is None else as_tensor(shift))


def normalize_moments(counts: TensorLike, mean_ss: TensorLike, variance_ss: TensorLike, shift, name=None):
    """``(mean, variance)`` from :func:`sufficient_statistics`' count and sums."""
    divisor = 1.0 / as_tensor(counts)
    shifted_mean = mean_ss * divisor
    mean = shifted_mean + shift if shift is not None else shifted_mean
    return mean, variance_ss * divisor - shifted_mean * shifted_mean


def weighted_moments(x: TensorLike, axes, frequency_weights, keepdims: bool = False, name=None):
    """``(mean, variance)`` of ``x`` over ``axes``, each value counted ``frequency_weights`` times (broadcast)."""
    x, weights = as_tensor(x), as_tensor(frequency_weights)
    axes = _axes(axes, x.ndim)
    weights = ops.broadcast_to(weights, np.broadcast_shapes(tuple(weights.shape), tuple(x.shape)))
    total = ops.sum(weights, axes, True)
    mean = ops.sum(weights * x, axes, True) / total
    variance = ops.sum(weights * (x - mean) * (x - mean), axes, True) / total
    if not keepdims:
        mean, variance = ops.squeeze(mean, axes), ops.squeeze(variance, axes)
    return mean, variance


def zero_fraction(value: TensorLike, name=None) -> Tensor:
    """The fraction of ``value``'s entries that are zero, float32 (NaN for an empty tensor); no gradient."""
    value = as_tensor(value)
    if not value.size:
        return Tensor._wrap(np.float32(np.nan))
    return Tensor._wrap(np.float32(1.0 - float(count_nonzero(value)) / value.size))


__all__ = ["normalize_moments", "sufficient_statistics", "weighted_moments", "zero_fraction"]
