"""Comparisons and index-valued functions; none of them carries a gradient.

>>> import chainrule as tf
>>> tf.argmax(tf.constant([[0.1, 0.9], [0.8, 0.2]]), axis=1).numpy()
array([1, 0])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import named
from chainrule.engine.tensor import Tensor, TensorLike, _no_gradient, _to_array


def _values(x: TensorLike):
    return _to_array(x)


def _operand(x: TensorLike):
    """A tensor or a number as it is (a traced step then knows where its values come from, and NumPy adapts a
    number to the array's dtype), anything else as an array."""
    return x if isinstance(x, (Tensor, int, float, bool, np.generic)) else _to_array(x)


def _arg_index(values, reduce: str, axis, dtype):
    xp = backend.array_namespace(values)
    return xp.astype(getattr(xp, reduce)(values, axis=0 if axis is None else axis), dtype)


def _index_of(x: TensorLike, axis, output_type, reduce: str) -> Tensor:
    """``x.argmax``/``x.argmin`` along ``axis`` as TensorFlow returns it: ``output_type`` int64 or int32."""
    dtype = backend.as_dtype(output_type)
    if dtype.name not in ("int32", "int64"):
        raise TypeError(f"{reduce}: output_type must be int32 or int64, got {output_type!r}")
    return _no_gradient(_arg_index, _operand(x), reduce=reduce, axis=axis, dtype=dtype)


def argmax(x: TensorLike, axis: int | None = None, output_type="int64", name: str | None = None) -> Tensor:
    """Index of the largest value along ``axis`` (TensorFlow's: axis None means 0), as ``output_type``."""
    return _index_of(x, axis, output_type, "argmax")


def argmin(x: TensorLike, axis: int | None = None, output_type="int64", name: str | None = None) -> Tensor:
    """Index of the smallest value along ``axis`` (axis None means 0), as ``output_type``."""
    return _index_of(x, axis, output_type, "argmin")


def _comparison(ufunc_name: str, doc: str):
    # (a traced step repeats the comparison on each replay's values, and knows a branch on it depends on the data)
    def f(x: TensorLike, y: TensorLike) -> Tensor:
        return _no_gradient(getattr(backend.xp, ufunc_name), _operand(x), _operand(y))
    return named(f, ufunc_name, doc)


equal = _comparison("equal", "Elementwise ``x == y`` as a boolean tensor.")
not_equal = _comparison("not_equal", "Elementwise ``x != y`` as a boolean tensor.")
greater = _comparison("greater", "Elementwise ``x > y`` as a boolean tensor.")
greater_equal = _comparison("greater_equal", "Elementwise ``x >= y`` as a boolean tensor.")
less = _comparison("less", "Elementwise ``x < y`` as a boolean tensor.")
less_equal = _comparison("less_equal", "Elementwise ``x <= y`` as a boolean tensor.")
logical_and = _comparison("logical_and", "Elementwise logical and.")
logical_or = _comparison("logical_or", "Elementwise logical or.")
