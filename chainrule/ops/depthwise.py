"""Depthwise and separable 2-D convolution in TensorFlow's layout (``tf.nn.depthwise_conv2d``,
``tf.nn.separable_conv2d``; Keras's DepthwiseConv2D and SeparableConv2D).

A depthwise convolution filters each input channel on its own: kernel (kh, kw, C, M) makes M outputs per channel,
output channel ``c * M + m`` (TensorFlow's order). There is no sum over channels, so no matrix product: the arrays
are computed by numba kernels that visit each pixel once, or their NumPy twins, one pass per kernel tap over a
strided view of the padded input (chainrule/backend/kernels/depthwise.py). Its two gradients are ops of their own,
adjoint as the convolution's (ops/conv.py), so that gradients of gradients work:

    y  = depthwise(x, w)              ->  dx = backprop_input(g, w),  dw = backprop_filter(x, g)
    dx = backprop_input(g, w)         ->  dg = depthwise(u, w),       dw = backprop_filter(u, g)
    dw = backprop_filter(x, g)        ->  dx = backprop_input(g, v),  dg = depthwise(x, v)

A separable convolution is a depthwise one followed by a 1x1 convolution (``separable_conv2d``).

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> depthwise_conv2d(x, np.ones((2, 2, 1, 2))).numpy()[0, :, :, 1]
array([[10., 14., 18.],
       [26., 30., 34.],
       [42., 46., 50.]])
>>> separable_conv2d(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)), np.ones((1, 1, 6, 4)), padding="same").shape
TensorShape([1, 5, 5, 4])
"""
from __future__ import annotations

import numpy as np

from chainrule.backend import kernels
from chainrule.backend.kernels import depthwise as depthwise_kernels
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv import Conv2D, check_float_nhwc, conv_args, pair, resolve_padding


def _kernel(name: str, array):
    """The numba kernel ``<name>_numba`` where it runs (NumPy's float32 / float64), else its NumPy twin
    ``<name>_numpy``; off NumPy ``<name>_namespace``, on the array API."""
    if type(array) is not np.ndarray:
        return getattr(depthwise_kernels, f"{name}_namespace")
    return getattr(depthwise_kernels, f"{name}_{'numba' if kernels.runs_on(array.dtype) else 'numpy'}")


def depthwise_forward(x, w, pads, strides, dilations):
    """The depthwise convolution of arrays."""
    return _kernel("depthwise", x)(x, w, pads, strides, dilations)


def depthwise_backprop_input(g, w, in_shape, pads, strides, dilations):
    """Its input gradient for the output gradient ``g`` (x of shape ``in_shape``)."""
    return _kernel("backprop_input", g)(g, w, tuple(in_shape), pads, strides, dilations)


def depthwise_backprop_filter(x, g, k_shape, pads, strides, dilations):
    """Its kernel gradient for the output gradient ``g``."""
    return _kernel("backprop_filter", g)(x, g, tuple(k_shape), pads, strides, dilations)


class DepthwiseConv2D(Function):
    # y[n, p, q, c*M + m] = Σ_{i, j} xpad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, m]
    # ->  dx = backprop_input(g, w),  dw = backprop_filter(x, g)
    def forward(self, x, w, pads, strides, dilations):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        return depthwise_forward(x, w, pads, strides, dilations)

    def backward(self, g):
        x, w = self.args
        need_x, need_w = self.needs_input_grad
        dx = (DepthwiseBackpropInput.apply(g, w, in_shape=self.arrays[0].shape, **self.geometry)
              if need_x else None)
        dw = (DepthwiseBackpropFilter.apply(x, g, k_shape=self.arrays[1].shape, **self.geometry)
              if need_w else None)
        return dx, dw


class DepthwiseBackpropInput(Function):
    # dx = Σ over taps (i, j) of (g * w[i, j] summed over m) added into the pixels the tap read
    # ->  dg = depthwise(u, w),  dw = backprop_filter(u, g)
    def forward(self, g, w, in_shape, pads, strides, dilations):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        return depthwise_backprop_input(g, w, in_shape, pads, strides, dilations)

    def backward(self, u):
        g, w = self.args
        dg = DepthwiseConv2D.apply(u, w, **self.geometry) if self.needs_input_grad[0] else None
        dw = (DepthwiseBackpropFilter.apply(u, g, k_shape=self.arrays[1].shape, **self.geometry)
              if self.needs_input_grad[1] else None)
        return dg, dw


class DepthwiseBackpropFilter(Function):
    # dw[i, j, c, m] = Σ_{n, p, q} xpad[n, p*sh + i*dh, q*sw + j*dw, c] * g[n, p, q, c*M + m]
    # ->  dx = backprop_input(g, v),  dg = depthwise(x, v)
    def forward(self, x, g, k_shape, pads, strides, dilations):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        return depthwise_backprop_filter(x, g, k_shape, pads, strides, dilations)

    def backward(self, v):
        x, g = self.args
        dx = (DepthwiseBackpropInput.apply(g, v, in_shape=self.arrays[0].shape, **self.geometry)
              if self.needs_input_grad[0] else None)
        dg = DepthwiseConv2D.apply(x, v, **self.geometry) if self.needs_input_grad[1] else None
        return dx, dg


# --- public functions -------------------------------------------------------------------------------------------------
def depthwise_args(opname: str, x: TensorLike, kernel: TensorLike, strides, padding, dilations):
    """Check a depthwise convolution's input and kernel (kh, kw, C, M); return them with the geometry."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    check_float_nhwc(x, opname)
    if kernel.ndim != 4:
        raise ValueError(f"{opname}: kernel must be 4-D (height, width, in_channels, channel_multiplier), got shape "
                         f"{kernel.shape} (input shape {x.shape})")
    if kernel.dtype != x.dtype:
        raise TypeError(f"{opname}: input dtype {x.dtype} and kernel dtype {kernel.dtype} differ; cast one of them")
    if x.shape[3] != kernel.shape[2]:
        raise ValueError(f"{opname}: input has {x.shape[3]} channels but the kernel expects {kernel.shape[2]} "
                         f"(input shape {x.shape}, kernel shape {kernel.shape})")
    strides, dilations = pair(strides, "strides", opname), pair(dilations, "dilations", opname)
    k_hw = kernel.shape[:2]
    pads = resolve_padding(padding, x.shape[1:3], k_hw, strides, dilations, opname)
    for axis, (size, pad, k, d) in enumerate(zip(x.shape[1:3], pads, k_hw, dilations)):
        if size + pad[0] + pad[1] < (k - 1) * d + 1:
            raise ValueError(f"{opname}: the kernel (extent {(k - 1) * d + 1}) is larger than the padded input along "
                             f"{'height' if axis == 0 else 'width'} ({size + pad[0] + pad[1]}) (input shape "
                             f"{x.shape}, kernel shape {kernel.shape}, padding {padding!r})")
    return x, kernel, dict(pads=pads, strides=strides, dilations=dilations)


@op
def depthwise_conv2d(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", dilations=1) -> Tensor:
    """Depthwise 2-D convolution like ``tf.nn.depthwise_conv2d``: x is (N, H, W, C), kernel is (kh, kw, C, M);
    the output has C*M channels, channel c*M + m from input channel c. No bias.

    strides, dilations: an int or (height, width). padding: 'valid', 'same' or explicit, as ``conv2d``.
    """
    x, kernel, geometry = depthwise_args("depthwise_conv2d", x, kernel, strides, padding, dilations)
    return DepthwiseConv2D.apply(x, kernel, **geometry)


@op
def separable_conv2d(x: TensorLike, depthwise_kernel: TensorLike, pointwise_kernel: TensorLike, strides=1,
                     padding="valid", dilations=1) -> Tensor:
    """``tf.nn.separable_conv2d``: ``depthwise_conv2d(x, depthwise_kernel)`` then a 1x1 ``conv2d`` with
    ``pointwise_kernel`` (1, 1, C*M, F). strides, padding and dilations are the depthwise step's."""
    y = depthwise_conv2d(x, depthwise_kernel, strides, padding, dilations)
    y, pointwise, geometry = conv_args("separable_conv2d", y, pointwise_kernel, 1, "valid", 1)
    if pointwise.shape[:2] != (1, 1):
        raise ValueError(f"separable_conv2d: pointwise_kernel must be (1, 1, in_channels * channel_multiplier, "
                         f"out_channels), got shape {pointwise.shape}")
    return Conv2D.apply(y, pointwise, **geometry)
