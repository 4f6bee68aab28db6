"""``tf.nn.dilation2d`` and ``tf.nn.erosion2d``: grayscale morphology, a max-plus (min-minus) "convolution" of each
channel with its own structuring function, built from padded strided slices and a max so gradients flow (to the
input and the filters, at each window's maximum).

>>> import numpy as np
>>> import chainrule as tf
>>> x = np.array([3.0, 5.0, 1.0, 2.0], "float32").reshape(1, 1, 4, 1)
>>> tf.nn.dilation2d(x, np.zeros((1, 2, 1), "float32"), [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]).numpy().ravel()
array([5., 5., 2.], dtype=float32)
>>> tf.nn.erosion2d(x, np.zeros((1, 2, 1), "float32"), [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]).numpy().ravel()
array([3., 1., 1.], dtype=float32)
"""
from __future__ import annotations

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv import out_size, per_axis, resolve_padding


def dilation2d(input: TensorLike, filters: TensorLike, strides, padding: str, data_format: str = "NHWC",  # noqa
               dilations=None, name=None) -> Tensor:
    """``output[b, y, x, c] = max over (dy, dx) of input[b, y*sh + dy*rh, x*sw + dx*rw, c] + filters[dy, dx, c]``:
    input (batch, height, width, depth), filters (filter_height, filter_width, depth); strides and dilations an
    int, (h, w) or [1, h, w, 1]; 'SAME' pads with -inf (padding never wins the max)."""
    return _morphology(input, filters, strides, padding, data_format, dilations, "dilation2d")


def erosion2d(value: TensorLike, filters: TensorLike, strides, padding: str, data_format: str = "NHWC",
              dilations=None, name=None) -> Tensor:
    """The dual of :func:`dilation2d`, computed as TensorFlow does: ``-dilation2d(-value, filters reversed in both
    spatial axes)``, a min over each window of value minus the reflected filters."""
    filters = as_tensor(filters)
    if filters.ndim == 3:
        filters = filters[::-1, ::-1, :]
    return -_morphology(-as_tensor(value), filters, strides, padding, data_format, dilations, "erosion2d")


def _morphology(x: TensorLike, filters: TensorLike, strides, padding, data_format, dilations, fn: str) -> Tensor:
    x, w = as_tensor(x), as_tensor(filters)
    if data_format != "NHWC":
        raise ValueError(f"tf.nn.{fn}: data_format must be 'NHWC', got {data_format!r}")
    if x.ndim != 4:
        raise ValueError(f"tf.nn.{fn}: input must be 4-D (batch, height, width, depth), got shape {list(x.shape)}")
    if w.ndim != 3 or w.shape[2] != x.shape[3]:
        raise ValueError(f"tf.nn.{fn}: filters must be 3-D (filter_height, filter_width, depth={x.shape[3]}), got "
                         f"shape {list(w.shape)}")
    strides = per_axis(strides, 2, "strides", f"tf.nn.{fn}")
    rates = per_axis(1 if dilations is None else dilations, 2, "dilations", f"tf.nn.{fn}")
    kernel = w.shape[:2]
    pads = resolve_padding(padding, x.shape[1:3], kernel, strides, rates, f"tf.nn.{fn}", explicit_ok=False)
    out_hw = [out_size(s, p, k, st, r) for s, p, k, st, r in zip(x.shape[1:3], pads, kernel, strides, rates)]
    if min(out_hw) < 1:
        raise ValueError(f"tf.nn.{fn}: the filter ({kernel[0]}, {kernel[1]}) dilated by {rates} is larger than the "
                         f"input {list(x.shape[1:3])} with padding {padding!r}")
    x = ops.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=float("-inf")) if any(map(sum, pads)) else x
    taps = []
    for dy in range(kernel[0]):
        for dx in range(kernel[1]):
            top, left = dy * rates[0], dx * rates[1]
            window = x[:, top:top + (out_hw[0] - 1) * strides[0] + 1:strides[0],
                       left:left + (out_hw[1] - 1) * strides[1] + 1:strides[1], :]
            taps.append(window + w[dy, dx])
    return ops.max(ops.stack(taps, axis=0), axis=0)


__all__ = ["dilation2d", "erosion2d"]
