"""``tf.space_to_batch`` / ``tf.batch_to_space`` (also ``_nd`` and under ``tf.nn``): spatial blocks moved to and
from the batch axis, the reshuffle behind atrous (dilated) convolution, built from pad, reshape and transpose so
gradients flow.

>>> import chainrule as tf
>>> x = tf.constant([[[[1.0], [2.0]], [[3.0], [4.0]]]])
>>> tf.space_to_batch(x, [2, 2], [[0, 0], [0, 0]]).numpy().ravel()
array([1., 2., 3., 4.], dtype=float32)
>>> tf.batch_to_space(tf.space_to_batch(x, [2, 2], [[0, 0], [0, 0]]), [2, 2], [[0, 0], [0, 0]]).shape
TensorShape([1, 2, 2, 1])
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.compat.tf.errors import invalid_argument


def _block_and_pairs(x: Tensor, block_shape, pairs, pairs_name: str, fn: str) -> tuple[list[int], np.ndarray]:
    block = np.asarray(block_shape.numpy() if isinstance(block_shape, Tensor) else block_shape).reshape(-1)
    m = block.size
    if m < 1 or (block < 1).any():
        raise invalid_argument(f"tf.{fn}: block_shape must be positive ints, got {block.tolist()}")
    if x.ndim < m + 1:
        raise invalid_argument(f"tf.{fn}: input rank should be >= {m + 1} (batch plus {m} block dimensions), got "
                               f"shape {list(x.shape)}")
    pairs = np.asarray(pairs.numpy() if isinstance(pairs, Tensor) else pairs, dtype=np.int64)
    if pairs.shape != (m, 2) or (pairs < 0).any():
        raise invalid_argument(f"tf.{fn}: {pairs_name} must be non-negative with shape [{m}, 2], got "
                               f"{pairs.tolist()}")
    return [int(b) for b in block], pairs


def space_to_batch(input: TensorLike, block_shape, paddings, name=None) -> Tensor:  # noqa: A002
    """Zero-pad spatial axes 1..M by ``paddings``, then move each ``block_shape`` block offset into the batch:
    (batch * prod(block_shape), padded_1 / block_1, ..., padded_M / block_M, *rest)."""
    x = as_tensor(input)
    block, pads = _block_and_pairs(x, block_shape, paddings, "paddings", "space_to_batch")
    m, rest = len(block), list(x.shape[len(block) + 1:])
    x = ops.pad(x, [(0, 0), *map(tuple, pads), *[(0, 0)] * len(rest)])
    padded = list(x.shape[1:m + 1])
    for axis, (size, b) in enumerate(zip(padded, block)):
        if size % b:
            raise invalid_argument(f"tf.space_to_batch: padded_shape[{axis}]={size} is not divisible by "
                                   f"block_shape[{axis}]={b}")
    batch = x.shape[0]
    split = [batch] + [n for size, b in zip(padded, block) for n in (size // b, b)] + rest
    x = ops.reshape(x, split)
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(2 * m + 1, len(split)))
    x = ops.transpose(x, order)
    return ops.reshape(x, [batch * int(np.prod(block))] + [s // b for s, b in zip(padded, block)] + rest)


def batch_to_space(input: TensorLike, block_shape, crops, name=None) -> Tensor:  # noqa: A002
    """The inverse of :func:`space_to_batch`: batch blocks back into spatial axes 1..M, then ``crops`` removed."""
    x = as_tensor(input)
    block, crops = _block_and_pairs(x, block_shape, crops, "crops", "batch_to_space")
    m, total = len(block), int(np.prod(block))
    if x.shape[0] % total:
        raise invalid_argument(f"tf.batch_to_space: input batch dimension ({x.shape[0]}) is not divisible by the "
                               f"product of block sizes ({total})")
    spatial, rest = list(x.shape[1:m + 1]), list(x.shape[m + 1:])
    batch = x.shape[0] // total
    x = ops.reshape(x, block + [batch] + spatial + rest)
    order = [m] + [n for i in range(m) for n in (m + 1 + i, i)] + list(range(2 * m + 1, x.ndim))
    x = ops.transpose(x, order)
    full = [s * b for s, b in zip(spatial, block)]
    x = ops.reshape(x, [batch] + full + rest)
    for axis, ((lo, hi), size) in enumerate(zip(crops, full)):
        if lo + hi > size:
            raise invalid_argument(f"tf.batch_to_space: crops {[int(lo), int(hi)]} are larger than spatial "
                                   f"dimension {axis} of size {size}")
    return x[(slice(None),) + tuple(slice(int(lo), size - int(hi)) for (lo, hi), size in zip(crops, full))]


space_to_batch_nd, batch_to_space_nd = space_to_batch, batch_to_space

__all__ = ["batch_to_space", "batch_to_space_nd", "space_to_batch", "space_to_batch_nd"]
