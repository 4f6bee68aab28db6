"""Reductions over axes: sum, mean, max, min, logsumexp, var, and SumTo (the inverse of broadcasting).

>>> import chainrule as cr
>>> cr.reduce_sum(cr.constant([[1.0, 2.0], [3.0, 4.0]]), axis=0).numpy()
array([4., 6.], dtype=float32)
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, named, op
from chainrule.ops.math import Exp, Log
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor

Axis = int | tuple[int, ...] | list[int] | None


def _normalize_axis(axis: Axis, ndim: int, name: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, without the general checks
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for a tensor of rank {ndim}")
    return tuple(sorted(int(a) % builtins.max(ndim, 1) for a in axes))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_to_input(g, in_shape, axes):
    """Bring a reduction's output gradient back to the input's shape (reshape to keepdims, then broadcast)."""
    kept = _kept_shape(in_shape, axes)
    if not isinstance(g, Tensor):  # plain arrays: one filled allocation is cheaper than broadcast views
        xp = backend.array_namespace(g)
        out = xp.empty(in_shape, dtype=g.dtype)
        out[...] = xp.reshape(g, kept)
        return out
    from chainrule.ops.shape import BroadcastTo, Reshape

    return BroadcastTo.apply(Reshape.apply(g, shape=kept), shape=in_shape)


class Sum(Function):
    # y = scale * Σ_axes x   ->   dx = scale * g broadcast back over the summed axes   (mean: scale = 1 / count)
    complex_grad = True  # linear with real coefficients

    def forward(self, x, axes, keepdims, scale=1.0):
        self.axes, self.scale = axes, scale
        owner = backend.extras_for(x)
        y = owner.namespace.sum(x, axis=axes, keepdims=keepdims)
        return y if scale == 1.0 else owner.xp.multiply(y, scale, out=y) if y.ndim and owner.takes_out else y * scale

    def backward(self, g):
        return _expand_to_input(g if self.scale == 1.0 else g * self.scale, self.arrays[0].shape, self.axes)


class SumTo(Function):
    # y = x summed down to `shape` (undoing broadcasting)   ->   dx = g broadcast to x's shape
    complex_grad = True  # linear with real coefficients

    def forward(self, x, shape):
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        xp = backend.array_namespace(x)
        return xp.reshape(xp.sum(x, axis=axes, keepdims=True) if axes else x, shape)

    def backward(self, g):
        from chainrule.ops.shape import BroadcastTo

        return BroadcastTo.apply(g, shape=self.arrays[0].shape)


class _Extreme(Function):
    # y = max_axes x   ->   dx = g shared equally among the positions that hold the extreme (as TensorFlow does)
    reduce = ""  # the namespace's function: "max" or "min"

    def forward(self, x, axes, keepdims):
        self.axes = axes
        xp = backend.array_namespace(x)
        kept = getattr(xp, self.reduce)(x, axis=axes, keepdims=True)
        winners = xp.astype(x == kept, x.dtype)
        self.share = winners / xp.sum(winners, axis=axes, keepdims=True)
        return kept if keepdims else xp.reshape(kept, tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(self, g):
        return _expand_to_input(g, self.arrays[0].shape, self.axes) * self.share


class Max(_Extreme):
    reduce = "max"


class Min(_Extreme):
    reduce = "min"


class LogSumExp(Function):
    # y = log Σ e^x   ->   dx = g * e^(x - y)   (softmax; computed with the max subtracted, so it never overflows)
    def forward(self, x, axes, keepdims):
        self.axes = axes
        xp = backend.array_namespace(x)
        m = xp.max(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        kept = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        return kept if keepdims else xp.reshape(kept, tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(self, g):
        from chainrule.ops.shape import Reshape

        (x,) = self.args
        shape = self.arrays[0].shape
        y = Reshape.apply(self.output, shape=_kept_shape(shape, self.axes))
        return _expand_to_input(g, shape, self.axes) * Exp.apply(x - y)


def _reduction(fn_class, name, doc):
    def f(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
        x = as_tensor(x)
        return fn_class.apply(x, axes=_normalize_axis(axis, x.ndim, name), keepdims=keepdims)
    return op(named(f, name, doc))


sum = _reduction(Sum, "sum", "Sum over ``axis`` (all axes when None), e.g. ``chainrule.reduce_sum(x, axis=1)``.")
max = _reduction(Max, "max", "Largest value over ``axis``; ties share the gradient equally.")
min = _reduction(Min, "min", "Smallest value over ``axis``; ties share the gradient equally.")
logsumexp = _reduction(LogSumExp, "logsumexp", "``log(sum(exp(x)))`` over ``axis``, stable for large inputs.")


@op
def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Average over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "mean")
    count = math.prod(x.shape[a] for a in axes)
    return Sum.apply(x, axes=axes, keepdims=keepdims, scale=1.0 / count if count else math.nan)  # empty: NaN


@op
def var(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Population variance (ddof 0, as ``tf.math.reduce_variance``) over ``axis``."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "var")  # check here, so that a bad axis names var, not mean
    centered = x - mean(x, axes, keepdims=True)
    return mean(centered * centered, axes, keepdims)
