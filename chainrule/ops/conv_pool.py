"""Conv2D + bias + relu + max pooling as one node: the seeds' ``Conv2D(..., activation='relu')`` followed by
``MaxPooling2D``, computed without the full-size relu output or its full-size masked gradient.

Adding a per-channel bias and the relu are both non-decreasing, so they commute with a window's maximum:
``maxpool(relu(conv(x) + b)) = relu(maxpool(conv(x)) + b)``. And a conv pixel's relu mask matters only where
the gradient goes, at its window's first maximum, where it is ``y > 0`` of the pooled output. So:

    z = conv(x, w);  m, argmax = maxpool(z);  y = relu(m + b)           bias and relu on the pooled m (1/4 of z)
    gp = g * (y > 0);  db = Σ gp;  gz = scatter(gp, argmax);  dw = backprop_filter(x, gz);  dx = backprop_input(gz, w)

Against Conv2D then MaxPool2D this saves, at full conv size, the bias+relu pass (a read and a write), the masked copy
of the gradient (two reads and a write), and keeping z alive for backward (y and the one-byte argmax are kept).
The values are the same to the bit (rounding is monotonic too). The gradient goes to the first maximum of z rather
than of relu(z + b): those differ only where z + b rounds two different z to one value, or where the window's
maximum is <= -b, whose gradient the relu zeroes in both.

The pooling here is 'valid' with windows that tile (strides = pool_size), as ``MaxPooling2D`` by default.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1) - 8
>>> conv2d_relu_max_pool2d(x, np.ones((1, 1, 1, 1)), np.zeros(1), pool_size=2).numpy()[0, :, :, 0]
array([[0., 0.],
       [5., 7.]])
"""
from __future__ import annotations

from chainrule.kernels import activation as act_kernels
from chainrule.ops.conv import (conv_forward, conv_args, input_and_filter_grads, masked_grad_and_sum, out_size,
                                pair)
from chainrule.ops.function import Function, op
from chainrule.ops.pool import MaxPool2DScatter, max_pool_with_argmax
from chainrule.tensor import Tensor, TensorLike, as_tensor

NO_PADS = ((0, 0), (0, 0))


class Conv2DReluMaxPool(Function):
    # y = relu(maxpool(conv(x, w)) + b)
    # ->  gp = g * (y > 0);  gz = scatter(gp);  dx = backprop_input(gz, w),  dw = backprop_filter(x, gz),  db = Σ gp
    def forward(self, x, w, b, pads, strides, dilations, pool):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        z, self.cols = conv_forward(x, w, pads, strides, dilations)
        y, self.argmax, self.out_hw = max_pool_with_argmax(z, pool, pool, NO_PADS)
        self.z_shape, self.pool = z.shape, pool
        act_kernels.bias_relu_(y, b)
        return y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        gp, db = masked_grad_and_sum(self, g, True, need_b)
        gz = MaxPool2DScatter.apply(gp, argmax=self.argmax, in_shape=self.z_shape, out_hw=self.out_hw,
                                    pool=self.pool, strides=self.pool, pads=NO_PADS)
        return (*input_and_filter_grads(self, gz, need_x, need_w), db)


@op
def conv2d_relu_max_pool2d(x: TensorLike, kernel: TensorLike, bias: TensorLike | None = None, strides=1,
                           padding="valid", dilations=1, pool_size=2) -> Tensor:
    """``max_pool2d(relu(conv2d(x, kernel, strides, padding, dilations) + bias), pool_size)`` as one node.

    x: (N, H, W, C), kernel: (kh, kw, C, F), bias: (F,) or None. The pooling is 'valid' with strides = pool_size.
    """
    x, kernel, geometry = conv_args("conv2d_relu_max_pool2d", x, kernel, strides, padding, dilations)
    filters = kernel.shape[3]
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (filters,) or bias.dtype != x.dtype:
            raise ValueError(f"conv2d_relu_max_pool2d: bias must have shape ({filters},) and dtype {x.dtype} to "
                             f"match the kernel {kernel.shape}, got shape {bias.shape} and dtype {bias.dtype}")
    pool = pair(pool_size, "pool_size", "conv2d_relu_max_pool2d")
    kh, kw = kernel.shape[:2]
    conv_hw = [out_size(size, pad, k, s, d) for size, pad, k, s, d in
               zip(x.shape[1:3], geometry["pads"], (kh, kw), geometry["strides"], geometry["dilations"])]
    if conv_hw[0] < pool[0] or conv_hw[1] < pool[1]:
        raise ValueError(f"conv2d_relu_max_pool2d: the pool window {pool} is larger than the convolution's output "
                         f"{tuple(conv_hw)} (input shape {x.shape}, kernel shape {kernel.shape})")
    return Conv2DReluMaxPool.apply(x, kernel, bias, pool=pool, **geometry)
