"""Evenly spaced values with TensorFlow's rules: ``tf.range`` and ``tf.linspace``.

``tf.range`` infers its dtype from its arguments as TensorFlow does (Python ints give int32, any float gives
float32, tensors keep theirs: the widest of int32 < int64 < float16 < float32 < float64), and makes each value by
adding ``delta`` to the one before in that dtype, so float ranges end on TensorFlow's values. ``tf.linspace`` is a
composition of ops: differentiable in ``start`` and ``stop``, which may be tensors (one sequence per entry, laid
along ``axis``).

>>> import chainrule as tf
>>> tf.range(5).numpy(), tf.range(10, 2, -3).numpy(), tf.range(3, dtype=tf.float32).numpy()
(array([0, 1, 2, 3, 4], dtype=int32), array([10,  7,  4], dtype=int32), array([0., 1., 2.], dtype=float32))
>>> tf.linspace(10.0, 12.0, 3).numpy()
array([10., 11., 12.], dtype=float32)
>>> tf.linspace([0.0, 5.0], [10.0, 40.0], 3, axis=-1).numpy()
array([[ 0. ,  5. , 10. ],
       [ 5. , 22.5, 40. ]], dtype=float32)
"""
from __future__ import annotations

import builtins

import numpy as np

from chainrule import backend, ops
from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor

_RANGE_DTYPES = [np.dtype(t) for t in (np.int32, np.int64, np.float16, np.float32, np.float64)]


def _scalar(value, dtype, role: str) -> np.ndarray:
    """One argument of ``range`` as a 0-d array: of ``dtype`` when given, else of TensorFlow's dtype for it."""
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, bool) or np.asarray(data).dtype.kind not in "iuf":
        raise TypeError(f"range: `{role}` must be a number, got {value!r}")
    if np.ndim(data) != 0:
        raise InvalidArgumentError(None, None, f"{role} must be a scalar, not shape {list(np.shape(data))}")
    if dtype is not None:
        target = backend.as_dtype(dtype)
        if target.kind in "iu" and np.asarray(data).dtype.kind == "f" and float(data) != int(data):
            raise TypeError(f"range: `{role}`={value!r} cannot be converted to {target.name}")
        return np.asarray(data, dtype=target)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    if isinstance(data, int):
        return np.asarray(data, dtype=np.int32 if -2 ** 31 <= data < 2 ** 31 else np.int64)
    return np.asarray(data, dtype=np.float32)


@replayed
def range(start, limit=None, delta=1, dtype=None, name: str = "range") -> Tensor:  # noqa: A001  (TensorFlow's name)
    """``[start, start + delta, ...]`` up to, not including, ``limit`` (``range(n)`` counts from 0); ``delta`` may
    be negative. Empty when ``start == limit``; ``InvalidArgumentError`` for a zero delta or one pointing away from
    ``limit``."""
    if limit is None:
        start, limit = 0, start
    args = [_scalar(v, dtype, role) for v, role in ((start, "start"), (limit, "limit"), (delta, "delta"))]
    if dtype is None:
        dtype = max((a.dtype for a in args), key=lambda d: _RANGE_DTYPES.index(d) if d in _RANGE_DTYPES else 4)
    first, end, step = (a.astype(dtype) for a in args)
    if step == 0:
        raise InvalidArgumentError(None, None, f"Requires delta != 0: {step}")
    if step > 0 and first > end:
        raise InvalidArgumentError(None, None, f"Requires start <= limit when delta > 0: {first}/{end}")
    if step < 0 and first < end:
        raise InvalidArgumentError(None, None, f"Requires start >= limit when delta < 0: {first}/{end}")
    if np.dtype(dtype).kind in "iu":
        count = int((abs(int(end) - int(first)) + abs(int(step)) - 1) // abs(int(step)))
    else:
        count = int(np.ceil(np.abs((end - first) / step)))
    steps = np.full(count, step, dtype=dtype)
    if count:
        steps[0] = first
    return Tensor._wrap(backend.xp.asarray(np.add.accumulate(steps, dtype=dtype)))


def linspace(start: TensorLike, stop: TensorLike, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, both included (``(stop - start) / (num - 1)``
    apart). Python floats give float32, integers float64 (TensorFlow divides them so); tensors of any shape give one
    sequence per entry, along ``axis``."""
    num = int(num.data if isinstance(num, Tensor) else num)
    if num < 0:
        raise ValueError(f"linspace: `num` must be >= 0, got {num}")
    start, stop = as_tensor(start), as_tensor(stop)
    if start.dtype.kind != "f":
        start = ops.cast(start, np.float64)
    stop = ops.cast(stop, start.dtype) if stop.dtype != start.dtype else stop
    shape = np.broadcast_shapes(start.shape, stop.shape)
    start, stop = ops.broadcast_to(start, shape), ops.broadcast_to(stop, shape)
    rank = len(shape) + 1
    if not -rank <= axis < rank:
        raise ValueError(f"linspace: `axis`={axis} is out of range for a result of rank {rank}")
    axis = axis % rank
    first, last = ops.expand_dims(start, axis), ops.expand_dims(stop, axis)
    if num == 0:
        return first[tuple(slice(0, 0) if d == axis else slice(None) for d in builtins.range(rank))]
    if num == 1:
        return first
    positions = np.arange(1, num - 1, dtype=start.dtype).reshape([num - 2 if d == axis else 1 for d in
                                                                  builtins.range(rank)])
    inner = first + (last - first) / (num - 1) * positions
    return ops.concat([first, inner, last], axis)


__all__ = ["linspace", "range"]
