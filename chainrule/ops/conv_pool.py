"""Conv2D + bias + relu + max pooling as one node: the seeds' ``Conv2D(..., activation='relu')`` followed by
``MaxPooling2D``, computed without the full-size relu output or its full-size masked gradient.

Adding a per-channel bias and the relu are both non-decreasing, so they commute with a window's maximum:
``maxpool(relu(conv(x) + b)) = relu(maxpool(conv(x)) + b)``. And a conv pixel's relu mask matters only where
the gradient goes, at its window's first maximum, where it is ``y > 0`` of the pooled output. So:

    z = conv(x, w);  m, argmax = maxpool(z);  y = relu(m + b)           bias and relu on the pooled m (1/4 of z)
    gp = g * (y > 0);  db = Σ gp;  gz = scatter(gp, argmax);  dw = backprop_filter(x, gz);  dx = backprop_input(gz, w)

Against Conv2D then MaxPool2D this saves, at full conv size, the bias+relu pass (a read and a write), the masked copy
of the gradient (two reads and a write), and keeping z alive for backward (y and the one-byte argmax are kept).
The gradient goes to the first maximum of z rather than of relu(z + b): those differ only where z + b rounds two
different z to one value, or where the window's maximum is <= -b, whose gradient the relu zeroes in both.

Window-major. The patch matrix is built with its rows grouped by the position t of their conv pixel inside its pool
window (``im2col(..., pool)``), so the product z comes out as T = ph*pw blocks of one pixel per window: pooling is
an elementwise max over whole blocks (``pooling.tap_max``), and backward fills the blocks of gz = g * (argmax == t)
(``pooling.tap_spread``) and multiplies them by the same patches. No strided window access anywhere, and conv
pixels past the last whole window are not computed. The values equal the layer-by-layer path's to float32 rounding,
not to the bit: BLAS sums a product's terms in an order that depends on the matrix's shape.

Chunking the batch, block-by-block products and a numba conv straight from x were measured and not kept: the
whole-batch, window-major form with BLAS products was as fast or faster (docs/performance.md, "Conv2D + relu +
max-pool node").

The pooling here is 'valid' with windows that tile (strides = pool_size), as ``MaxPooling2D`` by default.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1) - 8
>>> conv2d_relu_max_pool2d(x, np.ones((1, 1, 1, 1)), np.zeros(1), pool_size=2).numpy()[0, :, :, 0]
array([[0., 0.],
       [5., 7.]])
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import activation as act_kernels
from chainrule.backend.kernels import pooling
from chainrule.ops.conv import (KEEP_PATCHES_MAX_BYTES, backprop_input, conv_args, im2col, input_and_filter_grads,
                                masked_grad_and_sum, out_size, pair)
from chainrule.engine.function import Function, op
from chainrule.ops.pool import MaxPool2DScatter
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor

NO_PADS = ((0, 0), (0, 0))


class Conv2DReluMaxPool(Function):
    # y = relu(maxpool(conv(x, w)) + b)          (z = patches @ w as T blocks;  maxpool(z), argmax = tap_max(z))
    # ->  gp = g * (y > 0);  db = Σ gp;  gz = tap_spread(gp);  dw = patchesᵀ @ gz;  dx = backprop_input(gz, w)
    def forward(self, x, w, b, pads, strides, dilations, pool):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        f, taps = w.shape[3], pool[0] * pool[1]
        xp = backend.array_namespace(x)
        self.patches = im2col(x, w.shape[:2], pool=pool, **self.geometry)
        z = xp.reshape(self.patches @ xp.reshape(w, (-1, f)), (taps, -1, f))
        conv_hw = tuple(out_size(*args) for args in zip(x.shape[1:3], pads, w.shape[:2], strides, dilations))
        self.pool, self.z_shape = pool, (x.shape[0], *conv_hw, f)
        self.out_hw = (conv_hw[0] // pool[0], conv_hw[1] // pool[1])
        y = xp.empty(z.shape[1:], dtype=x.dtype)  # (windows, F): reshaped to NHWC below (a view where there are)
        argmax = xp.empty(z.shape[1:], dtype=pooling.argmax_dtype(taps))
        pooling.tap_max(z, y, argmax)
        act_kernels.bias_relu_(y, b)
        out_shape = (x.shape[0], *self.out_hw, f)
        y, self.argmax = xp.reshape(y, out_shape), xp.reshape(argmax, out_shape)
        if self.patches.size * backend.numpy_dtype(self.patches.dtype).itemsize > KEEP_PATCHES_MAX_BYTES:
            self.patches = None
        self.cols = None  # (input_and_filter_grads' plain patches: rebuilt if a create_graph backward needs them)
        return y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        gp, db = masked_grad_and_sum(self, g, True, need_b)
        if self.graph_out is not None:  # create_graph: through the differentiable ops, in the conv's own layout
            gz = MaxPool2DScatter.apply(gp, argmax=self.argmax, in_shape=self.z_shape, out_hw=self.out_hw,
                                        pool=self.pool, strides=self.pool, pads=NO_PADS)
            return (*input_and_filter_grads(self, gz, need_x, need_w), db)
        x, w = self.arrays[0], self.arrays[1]
        xp = backend.array_namespace(x)
        f = w.shape[3]
        argmax = xp.reshape(self.argmax, (-1, f))
        gz = xp.empty((self.pool[0] * self.pool[1], *argmax.shape), dtype=gp.dtype)
        pooling.tap_spread(xp.reshape(gp, (-1, f)), argmax, gz)
        dw = dx = None
        if need_w:
            patches, self.patches = self.patches, None  # dropped: a second backward rebuilds them
            if patches is None:
                patches = im2col(x, w.shape[:2], pool=self.pool, **self.geometry)
            dw = xp.reshape(xp.matrix_transpose(patches) @ xp.reshape(gz, (-1, f)), w.shape)
        if need_x:
            dx = backprop_input(self._conv_layout(gz), w, x.shape, **self.geometry)
        return dx, dw, db

    def _conv_layout(self, gz):
        """gz's blocks (T, N*OH*OW, F) back in the conv output's layout (N, H, W, F), 0 past the last windows."""
        blocks = backend.array_namespace(gz).reshape(gz, (gz.shape[0], self.z_shape[0], *self.out_hw, gz.shape[2]))
        return pooling.add_to_taps(lambda k: blocks[k, ...], gz.dtype, self.z_shape, self.pool, self.pool, NO_PADS,
                                   self.out_hw)


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
