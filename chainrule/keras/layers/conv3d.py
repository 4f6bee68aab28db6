"""Conv3D: 3-D convolution over (batch, depth, height, width, channels) volumes, with a bias and an activation.

It runs ops/conv3d.py's ``conv3d`` (the 2-D convolution over the volume's depth taps), so a grouped kernel, the
'same' rule and the gradients are the op's; with one group, the folded convolution runs as Conv2D's node, which adds
the bias and applies a relu activation in the same pass. ``data_format='channels_first'`` volumes (batch, channels, d, h, w)
are transposed to channels last and back, as Keras's TensorFlow backend does on CPU.

>>> import numpy as np
>>> layer = Conv3D(4, 3, padding="same", groups=2)
>>> layer(np.ones((2, 5, 6, 6, 2), "float32")).shape
TensorShape([2, 5, 6, 6, 4])
>>> [w.shape for w in layer.get_weights()]
[(3, 3, 3, 1, 4), (4,)]
"""
from __future__ import annotations

from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.conv import (bias_and_activation, conv_config, conv_output_length, from_channels_last,
                                         normalize_padding, normalize_tuple, overrides_convolution_op,
                                         shape_channels_last, shape_from_channels_last, to_channels_last)
from chainrule.keras.layers.conv1d import check_strides_and_dilation
from chainrule.keras.layers.core import KernelLayer, check_data_format, positive_int
from chainrule.ops.conv import Conv2DBiasAct
from chainrule.ops.conv3d import conv3d, fold_conv3d, unfold_images


def check_groups(groups, filters: int, layer: str) -> int:
    """A positive number of groups that divides ``filters``, with Keras's messages."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{layer}: The number of groups must be a positive integer. Received: groups={groups}.")
    if filters % groups:
        raise ValueError(f"{layer}: The number of filters must be evenly divisible by the number of groups. "
                         f"Received: groups={groups}, filters={filters}.")
    return groups


class Conv3D(KernelLayer):
    """``activation(conv3d(inputs, kernel) + bias)`` on (batch, depth, height, width, channels) inputs.

    kernel: (kernel_d, kernel_h, kernel_w, in_channels // groups, filters), bias: (filters,), as Keras stores them.
    Arguments as ``keras.layers.Conv3D``: filters, kernel_size, strides ((1, 1, 1)), padding ('valid'/'same'),
    data_format ('channels_last' or 'channels_first'), dilation_rate ((1, 1, 1)), groups (1), and Dense's
    activation, use_bias, initializer and regularizer arguments.
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.filters = positive_int(filters, "filters", "Conv3D")
        self.groups = check_groups(groups, self.filters, "Conv3D")
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", "Conv3D", n=3)
        self.strides = normalize_tuple(strides, "strides", "Conv3D", n=3)
        self.padding = normalize_padding(padding, "Conv3D")
        self.data_format = check_data_format(data_format, "Conv3D", allow_channels_first=True)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", "Conv3D", n=3)
        check_strides_and_dilation(self.strides, self.dilation_rate, "Conv3D")
        self.input_spec = InputSpec(ndim=5)

    def build(self, input_shape):
        channel_axis = 1 if self.data_format == "channels_first" else -1
        channels = input_shape[channel_axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of input channels, got shape {input_shape}")
        if channels % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {channels} channels (full input "
                             f"shape is {tuple(input_shape)}).")
        self.compute_output_shape(input_shape)  # refuses a kernel larger than the input
        self._add_kernel_and_bias(self.kernel_size + (channels // self.groups, self.filters), self.filters)
        self.input_spec = InputSpec(ndim=5, axes={channel_axis: channels})
        self.built = True

    def call(self, inputs):
        if overrides_convolution_op(self, Conv3D):
            return bias_and_activation(self, self.convolution_op(inputs, self.kernel))
        x = to_channels_last(inputs, self.data_format)
        if self.groups == 1:  # one node, as Conv2D's: conv, + bias and (when the activation is relu) the relu
            images, kernel, geometry = fold_conv3d(x, self.kernel, self.strides, self.padding, self.dilation_rate)
            y = unfold_images(Conv2DBiasAct.apply(images, kernel, self.bias, relu=self._fused_relu, **geometry),
                              x.shape[0])
        else:
            y = conv3d(x, self.kernel, self.strides, self.padding, self.dilation_rate)
            y = y + self.bias if self.use_bias else y
        y = y if self._act is None or (self._fused_relu and self.groups == 1) else self._act(y)
        return from_channels_last(y, self.data_format)

    def convolution_op(self, inputs, kernel):
        """The layer's convolution (no bias, no activation) in its data_format, Keras's hook for a subclass: see
        Conv2D's."""
        x = to_channels_last(inputs, self.data_format)
        y = conv3d(x, kernel, self.strides, self.padding, self.dilation_rate)
        return from_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = shape_channels_last(input_shape, self.data_format)
        sizes = tuple(conv_output_length(n, k, self.padding, s, d)
                      for n, k, s, d in zip(shape[1:4], self.kernel_size, self.strides, self.dilation_rate))
        if any(n is not None and n <= 0 for n in sizes):
            raise ValueError(f"Computed output size would be zero or negative. Received `inputs shape="
                             f"{tuple(input_shape)}`, `kernel shape={self.kernel_size + (shape[-1], self.filters)}`, "
                             f"`dilation_rate={self.dilation_rate}`, `strides={self.strides}`, "
                             f"`padding={self.padding}`.")
        return shape_from_channels_last((shape[0],) + sizes + (self.filters,), self.data_format)

    def get_config(self):
        return conv_config(self, super().get_config())


Convolution3D = Conv3D

__all__ = ["Conv3D", "Convolution3D"]
