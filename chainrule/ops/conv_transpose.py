"""Transposed convolution (``tf.nn.conv2d_transpose``, Keras's ``ops.conv_transpose``), 2-D and 1-D, channels last.

A transposed convolution is the input gradient of a convolution, run forward: with the kernel ``w`` of shape
(kh, kw, out_channels, in_channels), ``conv2d_transpose(x, w)`` is the gradient, with respect to an input of the
transpose's output shape, of ``conv2d(·, w)`` at the output gradient ``x``. So it *is* ops/conv.py's
``Conv2DBackpropInput`` node (one product per kernel tap, summed by col2im in one numba pass), and its gradients are
the convolution's (one patch matrix of g serves both):

    y = backprop_input(x, w)  ->  dx = conv(g, w),  dw = backprop_filter(g, x)

The output size is Keras's (``_get_output_shape_given_tf_padding``): 'valid' gives ``(n - 1) * s + max(k, s)``,
'same' gives ``n * s``, and an ``output_padding`` p gives ``(n - 1) * s + k + p`` ('valid') or
``(n - 1) * s + k % 2 + p`` ('same'), k the dilated kernel extent. Which rows of the full transposed output
``(n - 1) * s + k`` are kept is Keras's JAX-backend rule (``_convert_conv_transpose_padding_args_from_keras_to_jax``):
it is TensorFlow's (the pads that make ``conv2d`` of the output give ``x``'s size, the odd pixel after) wherever
TensorFlow accepts the sizes, and it also serves the sizes TensorFlow refuses (an even kernel with 'same' and
``output_padding=0``). An explicit ``output_shape`` (``tf.nn.conv2d_transpose``) takes TensorFlow's rule.

>>> import numpy as np
>>> x = np.ones((1, 2, 2, 1))
>>> w = np.ones((2, 2, 1, 1))
>>> conv2d_transpose(x, w, strides=2).numpy()[0, :, :, 0]
array([[1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.]])
>>> conv1d_transpose(np.ones((1, 3, 2)), np.ones((3, 4, 2)), strides=2, padding="same").shape
TensorShape([1, 6, 4])
"""
from __future__ import annotations

import numbers

from chainrule import backend
from chainrule.engine.function import op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv import Conv2DBackpropInput, check_float_nhwc, im2col, out_size, pair, resolve_padding
from chainrule.ops.conv1d import as_int, lift_1d, lower_1d


class Conv2DTranspose(Conv2DBackpropInput):
    # y = backprop_input(x, w)  ->  dx = conv(g, w),  dw = backprop_filter(g, x)
    # Both gradients multiply the same patch matrix of g, so backward builds it once (under create_graph it runs
    # the differentiable backward ops of Conv2DBackpropInput instead).
    def backward(self, g):
        if self.graph_out is not None:
            return super().backward(g)
        x, w = self.arrays
        xp = backend.array_namespace(g, w)
        need_x, need_w = self.needs_input_grad
        cols = im2col(g, w.shape[:2], **self.geometry)
        dx = xp.reshape(cols @ xp.reshape(w, (-1, w.shape[3])), x.shape) if need_x else None
        dw = xp.reshape(xp.matrix_transpose(cols) @ xp.reshape(x, (-1, x.shape[3])), w.shape) if need_w else None
        return dx, dw


def transpose_output_length(size: int | None, k: int, padding: str, stride: int, output_padding: int | None = None,
                            dilation: int = 1) -> int | None:
    """Keras's output length of a transposed convolution along one axis (None stays None).

    >>> transpose_output_length(7, 4, "same", 2), transpose_output_length(7, 3, "valid", 2, output_padding=1)
    (14, 16)
    """
    if size is None:
        return None
    extent = (k - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return (size - 1) * stride + extent + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + extent % 2 + output_padding


def keras_pads(size: int, out: int, k: int, stride: int, output_padding: int | None, dilation: int,
               padding: str) -> tuple[int, int]:
    """(before, after): the output rows cut from the start of the full transposed output (Keras's JAX rule), and the
    pad after that makes a convolution of the output give ``size`` positions again.

    >>> keras_pads(7, 14, 4, 2, None, 1, "same"), keras_pads(4, 9, 3, 2, None, 1, "valid")
    ((1, 1), (0, 0))
    """
    extent = (k - 1) * dilation + 1
    if padding == "valid":
        kept = extent - 1
    else:
        total = stride + extent - 2 if output_padding is None else extent + extent % 2 - 2 + output_padding
        kept = min(total // 2 + total % 2, extent - 1)
    before = extent - 1 - kept
    return before, max((size - 1) * stride + extent - out - before, 0)


def output_padding_per_axis(value, opname: str, strides) -> tuple[int, ...] | None:
    """None, or one non-negative int per spatial axis (of ``strides``), each less than its stride."""
    if value is None:
        return None
    rank = len(strides)
    values = (value,) * rank if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
                                      for v in values):
        raise ValueError(f"{opname}: output_padding must be a non-negative int or "
                         f"{'a pair' if rank == 2 else rank} of them, got {value!r}")
    for axis, (p, s) in enumerate(zip(values, strides)):
        if p >= s:
            raise ValueError(f"{opname}: `output_padding` must be strictly less than `strides` for all dimensions. At "
                             f"dimension {axis}, `output_padding` is {p} but `strides` is {s}. Received: "
                             f"output_padding={value}, strides={tuple(strides)}")
    return tuple(int(v) for v in values)


def transpose_args(opname: str, x: TensorLike, kernel: TensorLike, strides, padding, output_padding, dilations,
                   output_shape=None):
    """Check a transposed convolution's input and kernel; return them as Tensors with the ``Conv2DBackpropInput``
    settings (the output shape, pads, strides, dilations)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    check_float_nhwc(x, opname)
    if kernel.ndim != 4:
        raise ValueError(f"{opname}: kernel must be 4-D (height, width, out_channels, in_channels), got shape "
                         f"{kernel.shape} (input shape {x.shape})")
    if kernel.dtype != x.dtype:
        raise TypeError(f"{opname}: input dtype {x.dtype} and kernel dtype {kernel.dtype} differ; cast one of them")
    if x.shape[3] != kernel.shape[3]:
        raise ValueError(f"{opname}: the number of input channels must match the kernel's input channels (its last "
                         f"axis). Received: input channels={x.shape[3]}, kernel input channels={kernel.shape[3]} "
                         f"(input shape {x.shape}, kernel shape {kernel.shape})")
    strides, dilations = pair(strides, "strides", opname), pair(dilations, "dilations", opname)
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{opname}: padding must be 'valid' or 'same', got {padding!r}")
    extra = output_padding_per_axis(output_padding, opname, strides)
    kh, kw, filters, _ = kernel.shape
    out_hw = tuple(transpose_output_length(n, k, mode, s, None if extra is None else p, d)
                   for n, k, s, p, d in zip(x.shape[1:3], (kh, kw), strides, extra or (0, 0), dilations))
    if output_shape is not None:  # tf.nn.conv2d_transpose's explicit output shape, checked below
        output_shape = tuple(int(n) for n in output_shape)
        if len(output_shape) != 4 or output_shape[0] != x.shape[0] or output_shape[3] != filters:
            raise ValueError(f"{opname}: output_shape must be (batch={x.shape[0]}, height, width, "
                             f"channels={filters}), got {output_shape}")
        out_hw = output_shape[1:3]
    if min(out_hw) < 1:
        raise ValueError(f"{opname}: the output would be empty: output size {out_hw} (input shape {x.shape}, kernel "
                         f"shape {kernel.shape})")
    if output_shape is None:
        pads = tuple(keras_pads(n, size, k, s, None if extra is None else p, d, mode) for n, size, k, s, p, d in
                     zip(x.shape[1:3], out_hw, (kh, kw), strides, extra or (0, 0), dilations))
    else:
        pads = resolve_padding(mode, out_hw, (kh, kw), strides, dilations, opname)
    for axis, (size, n, pad, k, s, d) in enumerate(zip(out_hw, x.shape[1:3], pads, (kh, kw), strides, dilations)):
        if size + sum(pad) < (k - 1) * d + 1 or out_size(size, pad, k, s, d) != n:
            raise ValueError(f"{opname}: an output of size {size} along {'height' if axis == 0 else 'width'} does "
                             f"not convolve back to the input's {n} with kernel {k}, stride {s}, dilation {d} and "
                             f"padding '{mode}' (input shape {x.shape}, kernel shape {kernel.shape})")
    in_shape = (x.shape[0],) + tuple(out_hw) + (filters,)
    return x, kernel, dict(in_shape=in_shape, pads=pads, strides=strides, dilations=dilations)


@op
def conv2d_transpose(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", output_padding=None,
                     dilations=1, output_shape=None) -> Tensor:
    """Transposed 2-D convolution: x is (N, H, W, C_in), kernel is (kh, kw, C_out, C_in) as Keras's Conv2DTranspose
    stores it; no bias.

    strides, dilations: an int or (height, width). padding: 'valid' or 'same'. output_padding: None (Keras's default
    sizes) or extra rows/columns at the end, each less than its stride. output_shape: tf.nn.conv2d_transpose's
    explicit (N, H_out, W_out, C_out) instead of the computed size; it must convolve back to x's size.
    """
    x, kernel, settings = transpose_args("conv2d_transpose", x, kernel, strides, padding, output_padding, dilations,
                                         output_shape)
    return Conv2DTranspose.apply(x, kernel, **settings)


@op
def conv1d_transpose(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", output_padding=None,
                     dilations=1, output_shape=None) -> Tensor:
    """Transposed 1-D convolution: x is (N, L, C_in), kernel is (k, C_out, C_in); ``conv2d_transpose`` on a height
    of 1. Arguments as ``conv2d_transpose``'s, each one int (output_shape: (N, L_out, C_out))."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    if output_padding is not None:
        output_padding = (0, as_int("conv1d_transpose", "output_padding", output_padding))
    if output_shape is not None:
        output_shape = (output_shape[0], 1) + tuple(output_shape[1:])
    y = conv2d_transpose(lift_1d(x, "conv1d_transpose"), lift_1d(kernel, "conv1d_transpose", "kernel", 0),
                         (1, as_int("conv1d_transpose", "strides", strides)), padding, output_padding,
                         (1, as_int("conv1d_transpose", "dilations", dilations)), output_shape)
    return lower_1d(y)

