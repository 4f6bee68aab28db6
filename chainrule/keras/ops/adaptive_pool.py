"""``keras.ops.adaptive_average_pool`` and ``adaptive_max_pool``: pool 1-D, 2-D or 3-D inputs to a fixed
``output_size`` whatever their size, PyTorch's bins (output i of n over length L reads ``[floor(i L / n),
ceil((i + 1) L / n))``), one spatial axis at a time (a box's mean or max is that of its rows' means or maxes).

Averaging is a product with a fixed (L, n) matrix per axis; the maximum takes each bin's values (padded to the
widest bin with the lowest number) and reduces them; both are built from differentiable ops.

>>> import numpy as np
>>> x = np.arange(5.0, dtype="float32").reshape(1, 5, 1)
>>> adaptive_average_pool(x, 2).numpy()[0, :, 0], adaptive_max_pool(x, 2).numpy()[0, :, 0]
(array([1., 3.], dtype=float32), array([2., 4.], dtype=float32))
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import to_float


def bins(length: int, count: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins: (start, end) of each of ``count`` outputs over ``length`` inputs."""
    return [((i * length) // count, -((-(i + 1) * length) // count)) for i in range(count)]


def _sizes(output_size, rank: int, fn: str) -> tuple[int, ...]:
    sizes = (output_size,) * rank if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if len(sizes) != rank or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                                     for s in sizes):
        raise ValueError(f"{fn}: `output_size` must be a positive int or {rank} of them for inputs with {rank} "
                         f"spatial axes. Received: output_size={output_size!r}")
    return tuple(int(s) for s in sizes)


def _pooled(inputs: TensorLike, output_size, data_format, fn: str, pool_axis) -> Tensor:
    x = to_float(inputs)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{fn}: inputs must be 3-D, 4-D or 5-D (batch, spatial..., channels). Received: "
                         f"inputs.shape={tuple(x.shape)}")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{fn}: data_format must be 'channels_last' or 'channels_first'. Received: "
                         f"data_format={data_format!r}")
    first = data_format == "channels_first"
    spatial = range(2, x.ndim) if first else range(1, x.ndim - 1)
    for axis, size in zip(spatial, _sizes(output_size, x.ndim - 2, fn)):
        x = pool_axis(x, axis, size)
    return x


def _average_axis(x: Tensor, axis: int, size: int) -> Tensor:
    length = x.shape[axis]
    weights = np.zeros((length, size), dtype=x.dtype)
    for i, (start, end) in enumerate(bins(length, size)):
        weights[start:end, i] = 1.0 / (end - start)
    moved = ops.transpose(x, [a for a in range(x.ndim) if a != axis] + [axis])
    pooled = ops.matmul(moved, weights)
    order = list(range(x.ndim - 1))
    order.insert(axis, x.ndim - 1)
    return ops.transpose(pooled, order)


def _max_axis(x: Tensor, axis: int, size: int) -> Tensor:
    windows = bins(x.shape[axis], size)
    width = max(end - start for start, end in windows)
    index = np.array([[min(start + k, end - 1) for k in range(width)] for start, end in windows])
    valid = np.array([[start + k < end for k in range(width)] for start, end in windows])
    taken = ops.take(x, index.reshape(-1), axis=axis)  # each bin's values, side by side along axis
    shape = x.shape[:axis] + (size, width) + x.shape[axis + 1:]
    taken = ops.reshape(taken, shape)
    mask = valid.reshape((size, width) + (1,) * (x.ndim - axis - 1))
    lowest = float(np.finfo(x.dtype).min)
    return ops.max(ops.where(mask, taken, lowest), axis=axis + 1)


def adaptive_average_pool(inputs: TensorLike, output_size, data_format: str | None = None) -> Tensor:
    """The mean of each adaptive bin: inputs (batch, *spatial, channels), or channels first; ``output_size`` an
    int or one per spatial axis."""
    return _pooled(inputs, output_size, data_format, "adaptive_average_pool", _average_axis)


def adaptive_max_pool(inputs: TensorLike, output_size, data_format: str | None = None) -> Tensor:
    """The maximum of each adaptive bin (see :func:`adaptive_average_pool`)."""
    return _pooled(inputs, output_size, data_format, "adaptive_max_pool", _max_axis)
