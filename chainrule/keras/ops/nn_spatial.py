"""``keras.ops.nn``' spatial functions: ``adaptive_average_pool``/``adaptive_max_pool`` (PyTorch's windows: cell i
of n pools ``[floor(i L / n), ceil((i + 1) L / n))``), ``depth_to_space``/``space_to_depth`` (TensorFlow's block
order), ``unfold``/``fold`` (PyTorch's im2col and col2im on (N, C, H, W)), the depthwise and separable
convolutions, and ``polar``. All are built from differentiable ops.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> ops.adaptive_average_pool(x, (2, 2)).numpy()[0, :, :, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]], dtype=float32)
>>> ops.space_to_depth(x, 2).shape
TensorShape([1, 2, 2, 4])
>>> ops.unfold(np.ones((1, 1, 3, 3), "float32"), 2).shape
TensorShape([1, 4, 4])
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import cast, to_float, to_tensor
from chainrule.keras.ops.nn import _channels_last, _conv_with, _data_format, _lift_1d, _padding, _restore, _spatial
from chainrule.keras.ops.numpy import _index_constant, concatenate, pad
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import indexing as _indexing
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape
from chainrule.ops.complex import complex as _complex
from chainrule.ops.depthwise import depthwise_conv2d, separable_conv2d
from chainrule.ops.transcendental import cos, sin


# --- adaptive pooling --------------------------------------------------------------------------------------------------
def adaptive_windows(size: int, cells: int) -> list[tuple[int, int]]:
    """The [start, end) of each of ``cells`` pooling windows over ``size`` positions (PyTorch's and Keras's).

    >>> adaptive_windows(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    """
    return [(i * size // cells, -(-(i + 1) * size // cells)) for i in range(cells)]


def _adaptive_pool(inputs: TensorLike, output_size, data_format, reduce, fn: str) -> Tensor:
    data_format = _data_format(data_format)
    x = to_float(inputs, "inputs")
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{fn}: `inputs` must be 3-D, 4-D or 5-D (batch, *spatial, channels), got shape "
                         f"{tuple(x.shape)}")
    if data_format == "channels_first":
        x = _shape.transpose(x, (0, *range(2, x.ndim), 1))
    sizes = _spatial(output_size, rank, "output_size")
    for axis, cells in zip(range(1, rank + 1), sizes):
        windows = adaptive_windows(x.shape[axis], cells)
        lead = (slice(None),) * axis
        # one reduction per output cell along this axis (a rectangle's max or mean is the per-axis one, nested)
        parts = [reduce(x[lead + (slice(start, end),)], axis, True) for start, end in windows]
        x = concatenate(parts, axis=axis)
    return _shape.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1))) if data_format == "channels_first" else x


def adaptive_average_pool(inputs: TensorLike, output_size, data_format=None) -> Tensor:
    """Average pooling to a fixed ``output_size`` (an int or one per spatial axis), windows as PyTorch's."""
    return _adaptive_pool(inputs, output_size, data_format, _reduce.mean, "adaptive_average_pool")


def adaptive_max_pool(inputs: TensorLike, output_size, data_format=None) -> Tensor:
    """Max pooling to a fixed ``output_size``, windows as PyTorch's."""
    return _adaptive_pool(inputs, output_size, data_format, _reduce.max, "adaptive_max_pool")


# --- depth <-> space ---------------------------------------------------------------------------------------------------
def _block(block_size, fn: str) -> int:
    if not isinstance(block_size, (int, np.integer)) or isinstance(block_size, bool) or block_size < 2:
        raise ValueError(f"{fn}: `block_size` must be an integer >= 2. Received: block_size={block_size!r}")
    return int(block_size)


def _images(x: TensorLike, data_format, fn: str) -> tuple[Tensor, bool]:
    x = to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: `x` must be 4-D (batch, height, width, channels). Received: x.shape="
                         f"{tuple(x.shape)}")
    first = _data_format(data_format) == "channels_first"
    return (_shape.transpose(x, (0, 2, 3, 1)) if first else x), first


def _back(x: Tensor, first: bool) -> Tensor:
    return _shape.transpose(x, (0, 3, 1, 2)) if first else x


def depth_to_space(x: TensorLike, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Channels moved into ``block_size`` x ``block_size`` spatial blocks (pixel shuffle, TensorFlow's order):
    (N, H, W, C) -> (N, H b, W b, C / b²)."""
    b = _block(block_size, "depth_to_space")
    x, first = _images(x, data_format, "depth_to_space")
    n, h, w, c = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: the channels ({c}) must be divisible by block_size**2 ({b * b})")
    x = _shape.reshape(x, (n, h, w, b, b, c // (b * b)))
    x = _shape.transpose(x, (0, 1, 3, 2, 4, 5))
    return _back(_shape.reshape(x, (n, h * b, w * b, c // (b * b))), first)


def space_to_depth(x: TensorLike, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Spatial ``block_size`` x ``block_size`` blocks moved into channels (the inverse of :func:`depth_to_space`):
    (N, H, W, C) -> (N, H / b, W / b, C b²)."""
    b = _block(block_size, "space_to_depth")
    x, first = _images(x, data_format, "space_to_depth")
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width ({h}, {w}) must be divisible by block_size ({b})")
    x = _shape.reshape(x, (n, h // b, b, w // b, b, c))
    x = _shape.transpose(x, (0, 1, 3, 2, 4, 5))
    return _back(_shape.reshape(x, (n, h // b, w // b, c * b * b)), first)


# --- unfold / fold -----------------------------------------------------------------------------------------------------
def _pairs(fn: str, **values) -> list[tuple[int, int]]:
    out = []
    for name, value in values.items():
        pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        least = 0 if name == "padding" else 1
        if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= least for v in pair):
            raise ValueError(f"{fn}: `{name}` must be an int or a pair of ints >= {least}. Received: {name}={value!r}")
        out.append((int(pair[0]), int(pair[1])))
    return out


def _positions(padded: int, kernel: int, dilation: int, stride: int, fn: str) -> np.ndarray:
    """(kernel, blocks) indices of each kernel tap of each sliding block along one axis."""
    blocks = (padded - (kernel - 1) * dilation - 1) // stride + 1
    if blocks < 1:
        raise ValueError(f"{fn}: the kernel (extent {(kernel - 1) * dilation + 1}) does not fit in {padded} padded "
                         f"positions")
    return np.arange(kernel)[:, None] * dilation + np.arange(blocks)[None, :] * stride


def unfold(x: TensorLike, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The sliding blocks of a (N, C, H, W) tensor as columns: (N, C kH kW, L), PyTorch's ``Unfold`` (channels
    first, whatever the image data format)."""
    x = to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: `x` must be 4-D (N, C, H, W). Received: x.shape={tuple(x.shape)}")
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _pairs("unfold", kernel_size=kernel_size, dilation=dilation,
                                                    padding=padding, stride=stride)
    if ph or pw:
        x = pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c = x.shape[:2]
    rows = _positions(x.shape[2], kh, dh, sh, "unfold")
    cols = _positions(x.shape[3], kw, dw, sw, "unfold")
    x = _indexing.take(x, _index_constant(rows.reshape(-1)), axis=2)     # (N, C, kH*oH, W)
    x = _indexing.take(x, _index_constant(cols.reshape(-1)), axis=3)     # (N, C, kH*oH, kW*oW)
    x = _shape.reshape(x, (n, c, kh, rows.shape[1], kw, cols.shape[1]))
    x = _shape.transpose(x, (0, 1, 2, 4, 3, 5))
    return _shape.reshape(x, (n, c * kh * kw, rows.shape[1] * cols.shape[1]))


def fold(x: TensorLike, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns of sliding blocks (N, C kH kW, L) summed back into a (N, C, H, W) tensor where they overlap,
    PyTorch's ``Fold`` (the adjoint of :func:`unfold`)."""
    x = to_tensor(x)
    (oh, ow), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _pairs(
        "fold", output_size=output_size, kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    rows = _positions(oh + 2 * ph, kh, dh, sh, "fold")
    cols = _positions(ow + 2 * pw, kw, dw, sw, "fold")
    blocks = rows.shape[1] * cols.shape[1]
    if x.ndim != 3 or x.shape[1] % (kh * kw) or x.shape[2] != blocks:
        raise ValueError(f"fold: `x` must be (N, C*{kh}*{kw}, {blocks}) for output_size ({oh}, {ow}). Received: "
                         f"x.shape={tuple(x.shape)}")
    n, c = x.shape[0], x.shape[1] // (kh * kw)
    x = _shape.reshape(x, (n, c, kh, kw, rows.shape[1], cols.shape[1]))
    x = _shape.transpose(x, (2, 4, 3, 5, 0, 1))                          # (kH, oH, kW, oW, N, C)
    width = ow + 2 * pw
    targets = (rows[:, :, None, None] * width + cols[None, None, :, :]).reshape(-1)
    summed = _indexing.segment_sum(_shape.reshape(x, (-1, n, c)), _index_constant(targets),
                                   (oh + 2 * ph) * width)               # (Hp*Wp, N, C)
    out = _shape.transpose(_shape.reshape(summed, (oh + 2 * ph, width, n, c)), (2, 3, 0, 1))
    return out[:, :, ph:ph + oh, pw:pw + ow]


# --- depthwise and separable convolution -------------------------------------------------------------------------------
def _no_3d(*_):
    raise ValueError("chainrule's depthwise and separable convolutions are 1-D or 2-D")


def depthwise_conv(inputs: TensorLike, kernel: TensorLike, strides=1, padding: str = "valid", data_format=None,
                   dilation_rate=1) -> Tensor:
    """1-D or 2-D depthwise convolution: ``kernel`` (*kernel_size, in_channels, channel_multiplier), each input
    channel filtered on its own; no bias."""
    return _conv_with((depthwise_conv2d, _no_3d), "depthwise_conv", "in_channels, channel_multiplier", inputs,
                      kernel, strides, padding, data_format, dilation_rate)


def separable_conv(inputs: TensorLike, depthwise_kernel: TensorLike, pointwise_kernel: TensorLike, strides=1,
                   padding: str = "valid", data_format=None, dilation_rate=1) -> Tensor:
    """1-D or 2-D separable convolution: a depthwise convolution, then a 1x1 convolution with
    ``pointwise_kernel`` (*ones, in_channels * channel_multiplier, out_channels); no bias."""
    data_format, padding = _data_format(data_format), _padding(padding)
    inputs = to_float(inputs, "inputs")
    depthwise, pointwise = to_float(depthwise_kernel, "depthwise_kernel"), to_float(pointwise_kernel,
                                                                                    "pointwise_kernel")
    x, rank = _channels_last(inputs, data_format, "separable_conv")
    if rank == 3:
        _no_3d()
    if depthwise.ndim != rank + 2 or pointwise.ndim != rank + 2:
        raise ValueError(f"separable_conv: both kernels must have rank {rank + 2} for inputs of shape "
                         f"{tuple(inputs.shape)}; got {tuple(depthwise.shape)} and {tuple(pointwise.shape)}")
    strides, dilations = _spatial(strides, rank, "strides"), _spatial(dilation_rate, rank, "dilation_rate")
    depthwise, strides, dilations = _lift_1d(rank, depthwise, strides, dilations)
    pointwise = _lift_1d(rank, pointwise)[0] if rank == 1 else pointwise
    return _restore(separable_conv2d(x, depthwise, pointwise, strides, padding, dilations), rank, data_format)


def polar(abs_: TensorLike, angle: TensorLike) -> Tensor:
    """The complex numbers ``abs_ * (cos(angle) + i sin(angle))``, differentiable in both."""
    magnitude, phase = to_float(abs_, "abs_"), to_float(angle, "angle")
    if magnitude.dtype != phase.dtype:
        common = np.result_type(magnitude.dtype, phase.dtype)
        magnitude, phase = cast(magnitude, common), cast(phase, common)
    return _complex(magnitude * cos(phase), magnitude * sin(phase))


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "depth_to_space", "depthwise_conv", "fold", "polar",
           "separable_conv", "space_to_depth", "unfold"]
wrap_namespace(globals(), __all__, "keras.ops.")
