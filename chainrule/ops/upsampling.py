"""Upsampling channels-last tensors: nearest (each value repeated into a block, Keras's UpSampling1D/2D) and
bilinear (``tf.image.resize(method='bilinear')``, half-pixel centres, Keras's ``UpSampling2D(interpolation=
'bilinear')``).

Both are linear, so each backward is the transposed map, an op of its own whose backward is the forward again:

    y = upsample_nearest(x)   ->  dx = Σ of g over each block        (and back: the block sums' gradient repeats)
    y = A_h x A_wᵀ            ->  dx = A_hᵀ g A_w                   (A: the interpolation matrix of one axis)

>>> import numpy as np
>>> x = np.array([[[1.0], [2.0]]])
>>> upsample_nearest(x, 2).numpy()[0, :, 0]
array([1., 1., 2., 2.])
>>> resize_bilinear(np.arange(4.0).reshape(1, 2, 2, 1), (4, 4)).numpy()[0, :, :, 0]
array([[0.  , 0.25, 0.75, 1.  ],
       [0.5 , 0.75, 1.25, 1.5 ],
       [1.5 , 1.75, 2.25, 2.5 ],
       [2.  , 2.25, 2.75, 3.  ]])
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


# --- nearest ----------------------------------------------------------------------------------------------------------
def _blocks_shape(shape, size) -> tuple:
    """(N, d1, s1, d2, s2, ..., C): each spatial axis of ``shape`` followed by its factor."""
    return (shape[0],) + tuple(n for d, s in zip(shape[1:-1], size) for n in (d, s)) + (shape[-1],)


class UpsampleNearest(Function):
    # y[n, p, q, c] = x[n, p // sh, q // sw, c]   ->   dx = Σ of g over each sh x sw block
    def forward(self, x, size):
        self.size = size
        xp = backend.array_namespace(x)
        blocks = _blocks_shape(x.shape, size)
        spread = xp.reshape(x, _blocks_shape(x.shape, (1,) * len(size)))
        out = tuple(d * s for d, s in zip(x.shape[1:-1], size))
        return xp.reshape(xp.broadcast_to(spread, blocks), (x.shape[0],) + out + (x.shape[-1],))

    def backward(self, g):
        return SumBlocks.apply(g, size=self.size)


class SumBlocks(Function):
    # y[n, i, j, c] = Σ_{a < sh, b < sw} x[n, i*sh + a, j*sw + b, c]   ->   dx = upsample_nearest(g)
    def forward(self, x, size):
        self.size = size
        xp = backend.array_namespace(x)
        for axis, s in enumerate(size, start=1):  # one axis at a time, adding whole slices (faster than .sum)
            if s > 1:
                blocks = xp.reshape(x, x.shape[:axis] + (x.shape[axis] // s, s) + x.shape[axis + 1:])
                part = (slice(None),) * (axis + 1)
                x = blocks[part + (0, ...)] + blocks[part + (1, ...)]
                for j in range(2, s):
                    x += blocks[part + (j, ...)]
        return x

    def backward(self, g):
        return UpsampleNearest.apply(g, size=self.size)


def _factors(size, rank: int, opname: str) -> tuple[int, ...]:
    values = (size,) * rank if isinstance(size, numbers.Integral) else tuple(size)
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                                      for v in values):
        raise ValueError(f"{opname}: size must be a positive int or {rank} positive ints (one per spatial axis), "
                         f"got {size!r}")
    return tuple(int(v) for v in values)


@op
def upsample_nearest(x: TensorLike, size) -> Tensor:
    """Repeat each value of the spatial axes of x (N, *spatial, C) ``size`` times along each (an int for all, or
    one per axis): Keras's UpSampling1D/2D, ``interpolation='nearest'``."""
    x = as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"upsample_nearest: x must be (batch, *spatial, channels), at least 3-D, got shape {x.shape}")
    size = _factors(size, x.ndim - 2, "upsample_nearest")
    return x if set(size) == {1} else UpsampleNearest.apply(x, size=size)


# --- bilinear ---------------------------------------------------------------------------------------------------------
def bilinear_matrix(in_size: int, out_size: int, dtype) -> np.ndarray:
    """The (out, in) matrix of half-pixel bilinear interpolation along one axis (TensorFlow's resize_bilinear:
    source position (i + 0.5) * in / out - 0.5, neighbours clamped to the edge).

    >>> bilinear_matrix(2, 4, "float64")
    array([[1.  , 0.  ],
           [0.75, 0.25],
           [0.25, 0.75],
           [0.  , 1.  ]])
    """
    source = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    below = np.floor(source)
    frac = source - below
    lower = np.clip(below, 0, in_size - 1).astype(int)
    upper = np.clip(below + 1, 0, in_size - 1).astype(int)
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, lower), 1 - frac)
    np.add.at(matrix, (rows, upper), frac)
    return matrix.astype(dtype)


def _along(x, axis: int, matrix):
    """``matrix`` (out, in) applied along ``axis`` of x: one batched matrix product, no copy of x."""
    xp = backend.array_namespace(x, matrix)
    before, after = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    y = xp.matmul(matrix, xp.reshape(x, (before, x.shape[axis], after)))
    return xp.reshape(y, x.shape[:axis] + (matrix.shape[0],) + x.shape[axis + 1:])


class Interpolate(Function):
    # y = x with matrix A_k applied along axis k, for each (k, A_k)   ->   dx = g with A_kᵀ applied along each axis k
    def forward(self, x, matrices):
        self.matrices = matrices
        for axis, matrix in matrices:
            x = _along(x, axis, matrix)
        return x

    def backward(self, g):
        xp = backend.array_namespace(g)
        return Interpolate.apply(g, matrices=tuple((axis, xp.matrix_transpose(m)) for axis, m in
                                                   reversed(self.matrices)))


@op
def resize_bilinear(x: TensorLike, size) -> Tensor:
    """Resize the images x (N, H, W, C) to ``size`` = (height, width) by bilinear interpolation with half-pixel
    centres, as ``tf.image.resize(x, size, 'bilinear')`` without antialiasing (and PyTorch's
    ``F.interpolate(mode='bilinear', align_corners=False)``)."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"resize_bilinear: x must be 4-D (batch, height, width, channels), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"resize_bilinear: x must be floating point, got dtype {x.dtype}; cast it first")
    out_hw = _factors(size, 2, "resize_bilinear")
    if out_hw == x.shape[1:3]:
        return x
    owner = backend.extras_for(x.data)  # the matrices are made on the host, used where x lives
    matrices = tuple((axis, owner.from_host(bilinear_matrix(n, m, x.dtype)))
                     for axis, (n, m) in enumerate(zip(x.shape[1:3], out_hw), start=1) if n != m)
    return Interpolate.apply(x, matrices=matrices)
