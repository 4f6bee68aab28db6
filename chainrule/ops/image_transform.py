"""Projective transforms of images by resampling (Keras's ``ops.image.affine_transform``, ``tf.raw_ops.
ImageProjectiveTransformV3``): the layer RandomRotation, RandomTranslation and RandomZoom run.

A transform ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps each output pixel (x, y) (column, row) to the input point
``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``, which is read by bilinear (or
nearest) interpolation. A neighbour outside the image is read through ``fill_mode``, as Keras's NumPy backend pads
before interpolating: 'reflect' (d c b a | a b c d | d c b a), 'mirror' (d c b | a b c d | c b a), 'wrap'
(a b c d | a b c d), 'nearest' (a a a | a b c d | d d d) or 'constant' (``fill_value``). 'nearest' interpolation
rounds half to even, as Keras's JAX backend and PyTorch.

For given transforms the output is linear in the image: each output pixel is a weighted sum of at most four input
pixels (the *sampling table*). So the gradient with respect to the image is exact: the table's weights scattered
back (``np.bincount``), an op whose own gradient is the sampling again. The transforms get no gradient.

    y = Σ_k w_k x[i_k] + fill * w_outside   ->   dx[i] = Σ over (k, pixel) with i_k = i of w_k g

>>> import numpy as np
>>> image = np.arange(9.0).reshape(1, 3, 3, 1)
>>> shift_right = [1.0, 0, -1.0, 0, 1.0, 0, 0, 0]  # output (x, y) reads input (x - 1, y)
>>> affine_transform(image, [shift_right], fill_mode="constant").numpy()[0, :, :, 0]
array([[0., 0., 1.],
       [0., 3., 4.],
       [0., 6., 7.]])
>>> affine_transform(image, [shift_right], fill_mode="reflect").numpy()[0, :, :, 0]
array([[0., 0., 1.],
       [3., 3., 4.],
       [6., 6., 7.]])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.shape import Transpose

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fix_index(i, size: int, fill_mode: str):
    """Integer positions (any, also outside the axis) as positions inside it, by ``fill_mode``; with 'constant', the
    outside ones are left as they are (the caller masks them). On any backend's arrays."""
    xp = backend.array_namespace(i)
    if fill_mode == "reflect":  # half-sample symmetric, period 2 * size
        i = i % (2 * size)
        return xp.where(i >= size, 2 * size - 1 - i, i)
    if fill_mode == "mirror":  # whole-sample symmetric, period 2 * size - 2
        if size == 1:
            return xp.zeros_like(i)
        i = i % (2 * size - 2)
        return xp.where(i >= size, 2 * size - 2 - i, i)
    if fill_mode == "wrap":
        return i % size
    if fill_mode == "nearest":
        return xp.clip(i, 0, size - 1)
    return i


def sampling_table(transforms, shape: tuple, interpolation: str, fill_mode: str, dtype):
    """(rows, weights, outside) for images of ``shape`` (N, H, W, C): output pixel (n, y, x) is
    ``Σ_k weights[k] * image_rows[rows[k]] + fill_value * outside`` with ``image_rows = image.reshape(N*H*W, C)``.
    Built where ``transforms`` (an array of any backend) lives, so a device's step makes it without the host."""
    xp = backend.array_namespace(transforms)
    n, h, w = shape[:3]
    t = xp.reshape(xp.astype(transforms, xp.float64), (n, 8, 1, 1))
    y, x = xp.meshgrid(xp.arange(h, dtype=xp.float64), xp.arange(w, dtype=xp.float64), indexing="ij")
    a = [t[:, i, ...] for i in range(8)]
    k = a[6] * x + a[7] * y + 1.0
    src_x = (a[0] * x + a[1] * y + a[2]) / k
    src_y = (a[3] * x + a[4] * y + a[5]) / k
    if interpolation == "nearest":
        corners = [(xp.round(src_y), xp.round(src_x), xp.ones_like(src_x))]
    else:
        y0, x0 = xp.floor(src_y), xp.floor(src_x)
        fy, fx = src_y - y0, src_x - x0
        corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                   (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    base = xp.reshape(xp.arange(n, dtype=xp.int64) * (h * w), (n, 1, 1))
    rows, weights = [], []
    outside = xp.zeros((n, h, w), dtype=xp.float64)
    for cy, cx, weight in corners:
        iy = _fix_index(xp.astype(cy, xp.int64), h, fill_mode)
        ix = _fix_index(xp.astype(cx, xp.int64), w, fill_mode)
        if fill_mode == "constant":
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            zeros = xp.zeros_like(weight)
            outside += xp.where(inside, zeros, weight)
            weight = xp.where(inside, weight, zeros)
            iy, ix = xp.where(inside, iy, xp.zeros_like(iy)), xp.where(inside, ix, xp.zeros_like(ix))
        rows.append(base + iy * w + ix)
        weights.append(weight)
    return (xp.stack(rows), xp.astype(xp.stack(weights), dtype),
            xp.astype(outside, dtype) if fill_mode == "constant" else None)


def _gather(x, table, fill_value):
    rows, weights, outside = table
    xp = backend.array_namespace(x)
    flat = xp.reshape(x, (-1, x.shape[-1]))

    def rows_of(r):  # flat's rows at r (N, H, W): a take along axis 0, the standard's gather
        return xp.reshape(xp.take(flat, xp.reshape(r, (-1,)), axis=0), r.shape + (x.shape[-1],))

    y = xp.expand_dims(weights[0, ...], axis=-1) * rows_of(rows[0, ...])
    for i in range(1, rows.shape[0]):
        y += xp.expand_dims(weights[i, ...], axis=-1) * rows_of(rows[i, ...])
    if outside is not None and fill_value != 0:
        y += fill_value * xp.expand_dims(outside, axis=-1)
    return y


def _scatter(g, table, shape):
    rows, weights, _ = table
    channels = g.shape[-1]
    size = shape[0] * shape[1] * shape[2]
    owner = backend.extras_for(g)
    if type(g) is not np.ndarray:  # every (corner, pixel)'s weighted gradient added at its row: the backend's scatter
        xp = owner.namespace
        values = xp.expand_dims(weights, axis=-1) * xp.expand_dims(g, axis=0)
        dx = owner.scatter_add(xp.zeros((size, channels), dtype=g.dtype), xp.reshape(rows, (-1,)),
                               xp.reshape(values, (-1, channels)))
        return xp.reshape(dx, tuple(shape))
    flat_rows = rows.reshape(-1)
    dx = np.empty((size, channels), dtype=g.dtype)
    for c in range(channels):  # one bincount per channel: NumPy's fast scatter-add
        dx[:, c] = np.bincount(flat_rows, weights=(weights * g[..., c]).reshape(-1), minlength=size)
    return dx.reshape(shape)


class Resample(Function):
    # y = Σ_k w_k x[i_k] (+ fill * w_outside)   ->   dx = scatter of w_k g to i_k
    def forward(self, x, table, fill_value=0.0):
        self.table = table
        return _gather(x, table, fill_value)

    def backward(self, g):
        return ResampleAdjoint.apply(g, table=self.table, shape=self.arrays[0].shape)


class ResampleAdjoint(Function):
    # dx[i] = Σ over (k, pixel) with i_k = i of w_k g   ->   dg = Σ_k w_k u[i_k]
    def forward(self, g, table, shape):
        self.table = table
        return _scatter(g, table, shape)

    def backward(self, u):
        return Resample.apply(u, table=self.table)


class AffineTransform(Resample):
    # y = resample(x) by the sampling table of the transforms   ->   dx = scatter of w_k g to i_k;  no transform grad
    # (the table is built in forward from the transforms' values, so a replayed step with new transforms resamples
    # by the new ones)
    def forward(self, x, transforms, interpolation, fill_mode, fill_value):
        if type(transforms) is np.ndarray and type(x) is not np.ndarray:  # drawn on the host (the augmentation
            transforms = backend.extras_for(x).from_host(transforms)      # layers): one copy to the images' device
        table = sampling_table(transforms, x.shape, interpolation, fill_mode, x.dtype)
        return super().forward(x, table, fill_value)

    def backward(self, g):
        return super().backward(g), None


@op
def affine_transform(images: TensorLike, transform: TensorLike, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """Apply projective ``transform`` (8 numbers, or one row of 8 per image) to ``images`` (N, H, W, C), or one
    image (H, W, C), as Keras's ``ops.image.affine_transform``; differentiable with respect to the images."""
    images, transform = as_tensor(images), as_tensor(transform)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {set(INTERPOLATIONS)}. "
                         f"Received: interpolation={interpolation}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected of one {set(FILL_MODES)}. Received: "
                         f"fill_mode={fill_mode}")
    if images.ndim not in (3, 4):
        raise ValueError(f"Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). Received "
                         f"input with shape: images.shape={images.shape}")
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(f"Invalid transform: expected 8 numbers (a0, a1, a2, b0, b1, b2, c0, c1), or a batch of "
                         f"them (N, 8). Received input with shape: transform.shape={transform.shape}")
    if images.dtype.kind != "f":
        raise TypeError(f"affine_transform: images must be floating point, got dtype {images.dtype}; cast them first")
    single = images.ndim == 3
    if single:
        images = images.reshape((1,) + images.shape)
    if data_format == "channels_first":
        images = Transpose.apply(images, axes=(0, 2, 3, 1))
    elif data_format not in (None, "channels_last"):
        raise ValueError(f"affine_transform: data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    count = 1 if transform.ndim == 1 else transform.shape[0]
    if count not in (1, images.shape[0]):
        raise ValueError(f"affine_transform: {count} transforms for {images.shape[0]} images; give one, or one per "
                         f"image")
    if count != images.shape[0]:
        transform = transform.reshape((1, 8)).broadcast_to((images.shape[0], 8))
    y = AffineTransform.apply(images, transform, interpolation=interpolation, fill_mode=fill_mode,
                              fill_value=float(fill_value))
    if data_format == "channels_first":
        y = Transpose.apply(y, axes=(0, 3, 1, 2))
    return y[0] if single else y
