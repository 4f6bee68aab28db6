"""Running sums and products along an axis (``cumsum``, ``cumprod``); ``axis=None`` runs over the flattened tensor,
as NumPy and Keras do.

>>> import chainrule as cr
>>> cr.ops.cumsum(cr.constant([1.0, 2.0, 3.0])).numpy(), cr.ops.cumprod(cr.constant([1.0, 2.0, 3.0])).numpy()
(array([1., 3., 6.], dtype=float32), array([1., 2., 6.], dtype=float32))
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.math import Where
from chainrule.ops.reduce import Sum, _normalize_axis
from chainrule.ops.shape import Reshape, Transpose


class Cumsum(Function):
    # y_i = Σ_{j≤i} x_j along axis   ->   dx_i = Σ_{j≥i} g_j   (the running sum from the other end)
    def forward(self, x, axis, reverse=False):
        self.axis, self.reverse = axis, reverse
        if type(x) is not np.ndarray:  # the standard's names
            xp = backend.array_namespace(x)
            if reverse:
                return xp.flip(xp.cumulative_sum(xp.flip(x, axis=axis), axis=axis, dtype=x.dtype), axis=axis)
            return xp.cumulative_sum(x, axis=axis, dtype=x.dtype)
        xp = backend.xp
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(x, axis), axis, dtype=x.dtype), axis)
        return xp.cumsum(x, axis, dtype=x.dtype)

    def backward(self, g):
        return Cumsum.apply(g, axis=self.axis, reverse=not self.reverse)


class Cumprod(Function):
    # y_i = Π_{j≤i} x_j along axis   ->   dx_i = Σ_{j≥i} g_j Π_{k≤j, k≠i} x_k
    # (that is Σ_{j≥i} g_j y_j / x_i when no x is 0; with zeros, the products leaving x_i out are formed one by one)
    def forward(self, x, axis):
        self.axis = axis
        if type(x) is not np.ndarray:
            return backend.array_namespace(x).cumulative_prod(x, axis=axis, dtype=x.dtype)
        return backend.xp.cumprod(x, axis, dtype=x.dtype)

    def backward(self, g):
        x, axis = self.args[0], self.axis
        xp = backend.array_namespace(self.arrays[0])
        if xp.all(self.arrays[0] != 0):
            return Cumsum.apply(g * self.output, axis=axis, reverse=True) / x
        return _grad_with_zeros(g, x, axis, xp)


def _grad_with_zeros(g, x, axis: int, xp):
    """Cumprod's input gradient when some input is 0: with the axis last and n long, X[..., i, k] = x_k except
    X[..., i, i] = 1, so cumprod(X)[..., i, j] = Π_{k≤j, k≠i} x_k, which is summed with g over j ≥ i."""
    ndim = len(np.shape(x))
    perm = tuple(d for d in range(ndim) if d != axis) + (axis,)
    inverse = tuple(int(d) for d in np.argsort(perm))
    x_last, g_last = Transpose.apply(x, axes=perm), Transpose.apply(g, axes=perm)
    lead, n = x_last.shape[:-1], x_last.shape[-1]
    without_each = Where.apply(xp.eye(n, dtype=xp.bool), 1, Reshape.apply(x_last, shape=lead + (1, n)))
    products = Cumprod.apply(without_each, axis=ndim)
    later = xp.triu(xp.ones((n, n), dtype=xp.bool))  # [i, j]: j >= i
    terms = Where.apply(later, Reshape.apply(g_last, shape=lead + (1, n)) * products, 0)
    return Transpose.apply(Sum.apply(terms, axes=(ndim,), keepdims=False), axes=inverse)


def _along(x: TensorLike, axis: int | None, name: str) -> tuple[Tensor, int]:
    """The tensor and the axis to run along: the flattened tensor and 0 for ``axis=None``."""
    x = as_tensor(x)
    if axis is None:
        return Reshape.apply(x, shape=(-1,)), 0
    return x, _normalize_axis(axis, x.ndim, name)[0]


@op
def cumsum(x: TensorLike, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (over the flattened tensor when None), as ``numpy.cumsum``; keeps the dtype."""
    x, axis = _along(x, axis, "cumsum")
    return Cumsum.apply(x, axis=axis)


@op
def cumprod(x: TensorLike, axis: int | None = None) -> Tensor:
    """Running product along ``axis`` (over the flattened tensor when None); zeros get their exact gradient."""
    x, axis = _along(x, axis, "cumprod")
    return Cumprod.apply(x, axis=axis)
