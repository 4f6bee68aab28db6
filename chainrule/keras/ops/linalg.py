"""``keras.ops.linalg``: ``norm`` (vector and matrix norms, ``numpy.linalg.norm``'s orders).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> float(ops.norm(np.array([3.0, 4.0], "float32")))
5.0
>>> ops.norm(np.array([[1.0, -2.0], [3.0, 4.0]], "float32"), ord=1).numpy()  # the largest column sum of |x|
np.float32(6.0)
"""
from __future__ import annotations

import math

from chainrule import ops as _ops
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import as_axis, to_float
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.keras.ops.numpy import count_nonzero
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape


def _vector_norm(x: Tensor, ord, axis: int, keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return _ops.sqrt(_reduce.sum(x * x, axis, keepdims))
    if ord == math.inf:
        return _reduce.max(_ops.abs(x), axis, keepdims)
    if ord == -math.inf:
        return _reduce.min(_ops.abs(x), axis, keepdims)
    if ord == 0:
        return _ops.cast(count_nonzero(x, axis), x.dtype) if not keepdims else \
            _shape.reshape(_ops.cast(count_nonzero(x, axis), x.dtype), _kept(x.shape, (axis,)))
    if ord == 1:
        return _reduce.sum(_ops.abs(x), axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
    return _reduce.sum(_ops.abs(x) ** float(ord), axis, keepdims) ** (1.0 / float(ord))


def _kept(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _matrix_norm(x: Tensor, ord, axes: tuple[int, int], keepdims: bool) -> Tensor:
    rows, cols = axes
    if ord is None or ord == "fro":
        out = _ops.sqrt(_reduce.sum(x * x, axes, keepdims=True))
    elif ord in (1, -1):
        sums = _reduce.sum(_ops.abs(x), rows, keepdims=True)
        out = _reduce.max(sums, cols, keepdims=True) if ord == 1 else _reduce.min(sums, cols, keepdims=True)
    elif ord in (math.inf, -math.inf):
        sums = _reduce.sum(_ops.abs(x), cols, keepdims=True)
        out = _reduce.max(sums, rows, keepdims=True) if ord > 0 else _reduce.min(sums, rows, keepdims=True)
    elif ord in ("nuc", 2, -2):
        raise NotImplementedError(f"norm: ord={ord!r} needs singular values, which chainrule does not compute; use "
                                  f"'fro', 1, -1, inf or -inf")
    else:
        raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={ord}")
    return out if keepdims else _shape.reshape(out, tuple(n for d, n in enumerate(out.shape) if d not in axes))


def norm(x: TensorLike, ord=None, axis=None, keepdims: bool = False) -> Tensor:
    """A vector norm over one axis, or a matrix norm over two (all axes of a vector or matrix when None; the
    2-norm of the flattened tensor for higher ranks), as ``numpy.linalg.norm``."""
    x = to_float(x)
    axis = as_axis(axis)
    if axis is None:
        if ord is not None and x.ndim not in (1, 2):
            raise ValueError(f"norm: `ord`={ord!r} needs `axis` for a tensor of rank {x.ndim}")
        if ord is None:
            out = _ops.sqrt(_reduce.sum(x * x))
            return _shape.reshape(out, (1,) * x.ndim) if keepdims else out
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    axes = tuple(_reduce._normalize_axis(a, x.ndim, "norm")[0] for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: `axis` must be an int or a pair of distinct ints, got {axis!r}")


__all__ = ["norm"]
wrap_namespace(globals(), __all__, "keras.ops.")
