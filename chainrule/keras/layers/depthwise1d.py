"""DepthwiseConv1D and SeparableConv1D: the 2-D layers' arithmetic on sequences (batch, steps, channels), each run
as the 2-D op on a one-row image, with Keras's 1-D weight shapes.

>>> import numpy as np
>>> layer = SeparableConv1D(4, 3, depth_multiplier=2, padding="same")
>>> layer(np.ones((2, 10, 3), "float32")).shape
TensorShape([2, 10, 4])
>>> [w.shape for w in layer.get_weights()]
[(3, 3, 2), (1, 6, 4), (4,)]
"""
from __future__ import annotations

from chainrule import ops
from chainrule.keras.layers.depthwise import DepthwiseConv2D, SeparableConv2D
from chainrule.keras.mixed_precision.autocast import read
from chainrule.ops.depthwise import depthwise_conv2d, separable_conv2d


def _as_row(kernel):
    """A 1-D kernel (k, ...) as the 2-D op's (1, k, ...)."""
    return ops.reshape(read(kernel), (1,) + tuple(kernel.shape))


class DepthwiseConv1D(DepthwiseConv2D):
    """``activation(depthwise convolution + bias)`` of sequences: each input channel filtered by its own
    ``depth_multiplier`` kernels. kernel: (kernel_size, in_channels, depth_multiplier), bias: (in_channels *
    depth_multiplier,). Arguments as ``keras.layers.DepthwiseConv1D``."""

    _rank = 1

    def __init__(self, kernel_size, strides=1, padding: str = "valid", depth_multiplier: int = 1, data_format=None,
                 dilation_rate=1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, **kwargs)

    def call(self, inputs):
        y = depthwise_conv2d(ops.expand_dims(inputs, 1), _as_row(self.kernel), (1,) + self.strides, self.padding,
                             (1,) + self.dilation_rate)
        return self._finish(ops.squeeze(y, 1))


class SeparableConv1D(SeparableConv2D):
    """A depthwise convolution of sequences, then a pointwise one to ``filters`` channels. depthwise_kernel:
    (kernel_size, in_channels, depth_multiplier), pointwise_kernel: (1, in_channels * depth_multiplier, filters),
    bias: (filters,). Arguments as ``keras.layers.SeparableConv1D``."""

    _rank = 1

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, depth_multiplier: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, **kwargs)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.depthwise_kernel = self._add_kernel("depthwise", self.kernel_size + (channels, self.depth_multiplier),
                                                 "depthwise_kernel")
        self.pointwise_kernel = self._add_kernel("pointwise", (1, channels * self.depth_multiplier, self.filters),
                                                 "pointwise_kernel")
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        y = separable_conv2d(ops.expand_dims(inputs, 1), _as_row(self.depthwise_kernel),
                             _as_row(self.pointwise_kernel), (1,) + self.strides, self.padding,
                             (1,) + self.dilation_rate)
        return self._finish(ops.squeeze(y, 1))


SeparableConvolution1D = SeparableConv1D

__all__ = ["DepthwiseConv1D", "SeparableConv1D", "SeparableConvolution1D"]
