"""Tensors made from nothing but a shape (zeros, ones, fill, range) and one-hot encodings. Each is ``replayed``: in a
traced step (tf.function, fit) a replay makes it again from that replay's values.

>>> import chainrule as tf
>>> tf.one_hot([0, 2], depth=3).numpy()
array([[1., 0., 0.],
       [0., 0., 1.]], dtype=float32)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, TensorLike, _to_array


def _dtype(dtype) -> np.dtype:
    return backend.as_dtype(dtype)


def _shape(shape) -> tuple:
    """A shape as a tuple: a sequence, or one int for a 1-D tensor (``ones(3)``, as NumPy and PyTorch)."""
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


@replayed
def zeros(shape: Sequence[int], dtype=None) -> Tensor:
    return Tensor._wrap(backend.xp.zeros(_shape(shape), dtype=_dtype(dtype)))


@replayed
def ones(shape: Sequence[int], dtype=None) -> Tensor:
    return Tensor._wrap(backend.xp.ones(_shape(shape), dtype=_dtype(dtype)))


@replayed
def zeros_like(x: TensorLike, dtype=None) -> Tensor:
    x = _to_array(x)
    return Tensor._wrap(backend.xp.zeros_like(x, dtype=dtype or x.dtype))


@replayed
def ones_like(x: TensorLike, dtype=None) -> Tensor:
    x = _to_array(x)
    return Tensor._wrap(backend.xp.ones_like(x, dtype=dtype or x.dtype))


@replayed
def fill(dims: Sequence[int], value: float) -> Tensor:
    return Tensor._wrap(backend.xp.full(_shape(dims), value, dtype=_to_array(value).dtype))


@replayed
def range(start, limit=None, delta=1, dtype=None) -> Tensor:  # noqa: A001  (TensorFlow's name)
    """``tf.range``: integers by default, like Python's range."""
    if limit is None:
        start, limit = 0, start
    return Tensor._wrap(backend.xp.arange(start, limit, delta, dtype=dtype))


@replayed
def one_hot(indices: TensorLike, depth: int, on_value: float = 1.0, off_value: float = 0.0, axis: int | None = None,
            dtype=None, name: str | None = None) -> Tensor:
    """Rows of a ``depth``-wide identity picked by integer ``indices`` (out-of-range indices give all off), on a new
    last axis (or at ``axis``). Float indices are refused, as TensorFlow does (``tf.cast`` them first)."""
    idx = _to_array(indices)
    if backend.dtype_kind(idx.dtype) not in "iu":
        raise TypeError(f"Value passed to parameter 'indices' has DataType {idx.dtype.name} not in list of allowed "
                        f"values: uint8, int8, int32, int64 (tf.one_hot takes integer class ids: tf.cast float "
                        f"labels to tf.int64 first)")
    if type(idx) is np.ndarray:
        xp = np
        out = np.full(idx.shape + (depth,), off_value, dtype=_dtype(dtype))
        valid = (idx >= 0) & (idx < depth)
        out[valid, idx[valid]] = on_value
    else:  # the standard indexes with no mask beside an integer array: each id against the classes instead
        xp = backend.array_namespace(idx)
        hit = idx[..., None] == xp.arange(depth, dtype=idx.dtype)
        out = xp.where(hit, xp.asarray(on_value, dtype=_dtype(dtype)), xp.asarray(off_value, dtype=_dtype(dtype)))
    if axis is not None and axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return Tensor._wrap(out)


@replayed
def shape(x: TensorLike) -> Tensor:
    """The shape as an integer tensor (``tf.shape``)."""
    return Tensor._wrap(np.asarray(_to_array(x).shape, dtype=np.int64))

