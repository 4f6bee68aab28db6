"""Which consecutive layers a model runs as one node (Sequential models, and functional graphs where the first
layer's output feeds only the second).

``Conv2D(..., activation='relu')`` followed by ``MaxPooling2D`` (the seeds' CNN block) runs as the single op
``Conv2DReluMaxPool`` (chainrule/ops/conv_pool.py): same values, a fraction of the memory traffic. Only the exact
built-in classes fuse, with nothing observing the output in between (no activity regularizer, no subclass call), and
only on concrete tensors; everything else runs layer by layer.

>>> import numpy as np
>>> from chainrule.keras.layers import Conv2D, MaxPooling2D
>>> conv, pool = Conv2D(4, 3, activation="relu"), MaxPooling2D()
>>> x = np.random.default_rng(0).random((2, 8, 8, 1), "float32")
>>> fused = run_conv_max_pool(conv, pool, x)
>>> bool(np.array_equal(fused.numpy(), pool(conv(x)).numpy()))
True
"""
from __future__ import annotations

from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.conv import Conv2D, conv_output_length
from chainrule.keras.layers.pool import MaxPooling2D
from chainrule.ops.conv_pool import Conv2DReluMaxPool
from chainrule.engine.tensor import Tensor


def layers_fuse(layer: Layer, following: Layer) -> bool:
    """Whether ``layer`` then ``following`` are a pair that runs as one node (on 4-D tensors the pool fits)."""
    return (type(layer) is Conv2D and type(following) is MaxPooling2D and layer._fused_relu
            and following.padding == "valid" and following.strides == following.pool_size
            and layer.activity_regularizer is None and following.activity_regularizer is None
            and following.dtype == layer.dtype)


def fuses_with_next(layer: Layer, following: Layer, inputs) -> bool:
    """Whether ``layer`` then ``following`` run as one node on ``inputs``."""
    return (type(inputs) is Tensor and layers_fuse(layer, following) and inputs.ndim == 4
            and _pool_fits(layer, following, inputs.shape))


def _pool_fits(conv: Conv2D, pool: MaxPooling2D, shape) -> bool:
    """Whether the pool window fits in the conv's output (if not, the layers raise their own errors)."""
    return all(conv_output_length(size, k, conv.padding, s, d) >= p for size, k, s, d, p in
               zip(shape[1:3], conv.kernel_size, conv.strides, conv.dilation_rate, pool.pool_size))


def run_conv_max_pool(conv: Conv2D, pool: MaxPooling2D, inputs) -> Tensor:
    """``pool(conv(inputs))`` as one Conv2DReluMaxPool node (conv's activation must be relu)."""
    x = conv._checked_input(inputs)
    pool.built = True
    return Conv2DReluMaxPool.apply(x, conv.kernel, conv.bias, pool=pool.pool_size, **conv._geometry(x.shape))
