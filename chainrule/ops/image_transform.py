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
    outside ones are left as they are (the caller masks them)."""
    if fill_mode == "reflect":  # half-sample symmetric, period 2 * size
        i = np.mod(i, 2 * size)
        return np.where(i >= size, 2 * size - 1 - i, i)
    if fill_mode == "mirror":  # whole-sample symmetric, period 2 * size - 2
        if size == 1:
            return np.zeros_like(i)
        i = np.mod(i, 2 * size - 2)
        return np.where(i >= size, 2 * size - 2 - i, i)
    if fill_mode == "wrap":
        return np.mod(i, size)
    if fill_mode == "nearest":
        return np.clip(i, 0, size - 1)
    return i


def sampling_table(transforms: np.ndarray, shape: tuple, interpolation: str, fill_mode: str, dtype):
    """(rows, weights, outside) for images of ``shape`` (N, H, W, C): output pixel (n, y, x) is
    ``Σ_k weights[k] * image_rows[rows[k]] + fill_value * outside`` with ``image_rows = image.reshape(N*H*W, C)``."""
    n, h, w = shape[:3]
    t = np.asarray(transforms, dtype=np.float64).reshape(n, 8, 1, 1)
    y, x = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    k = t[:, 6] * x + t[:, 7] * y + 1.0
    src_x = (t[:, 0] * x + t[:, 1] * y + t[:, 2]) / k
    src_y = (t[:, 3] * x + t[:, 4] * y + t[:, 5]) / k
    if interpolation == "nearest":
        corners = [(np.round(src_y), np.round(src_x), np.ones_like(src_x))]
    else:
        y0, x0 = np.floor(src_y), np.floor(src_x)
        fy, fx = src_y - y0, src_x - x0
        corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                   (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    base = (np.arange(n) * (h * w)).reshape(n, 1, 1)
    rows, weights = [], []
    outside = np.zeros((n, h, w))
    for cy, cx, weight in corners:
        iy = _fix_index(cy.astype(np.int64), h, fill_mode)
        ix = _fix_index(cx.astype(np.int64), w, fill_mode)
        if fill_mode == "constant":
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            outside += np.where(inside, 0.0, weight)
            weight = np.where(inside, weight, 0.0)
            iy, ix = np.where(inside, iy, 0), np.where(inside, ix, 0)
        rows.append(base + iy * w + ix)
        weights.append(weight)
    xp = backend.xp
    return (xp.asarray(np.stack(rows)), xp.asarray(np.stack(weights).astype(dtype)),
            xp.asarray(outside.astype(dtype)) if fill_mode == "constant" else None)


def _gather(x, table, fill_value):
    rows, weights, outside = table
    flat = x.reshape(-1, x.shape[-1])
    y = weights[0][..., None] * flat[rows[0]]
    for r, w in zip(rows[1:], weights[1:]):
        y += w[..., None] * flat[r]
    if outside is not None and fill_value != 0:
        y += fill_value * outside[..., None]
    return y


def _scatter(g, table, shape):
    rows, weights, _ = table
    flat_rows = rows.reshape(-1)
    channels = g.shape[-1]
    size = shape[0] * shape[1] * shape[2]
    dx = backend.xp.empty((size, channels), dtype=g.dtype)
    for c in range(channels):  # one bincount per channel: NumPy's fast scatter-add
        dx[:, c] = backend.xp.bincount(flat_rows, weights=(weights * g[..., c]).reshape(-1), minlength=size)
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
