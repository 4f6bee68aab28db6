"""Conv3DTranspose, Conv2DTranspose and Conv1DTranspose: transposed convolutions (learned upsampling), with a bias
and an activation.

The kernel is (kernel_size..., filters, in_channels), as Keras stores it: the kernel of the convolution whose input
gradient the layer computes (ops/conv_transpose.py). Output sizes are Keras's: 'same' multiplies each spatial size
by its stride, 'valid' gives ``(n - 1) * stride + max(kernel, stride)``, and ``output_padding`` sets the extra
rows or columns at the end explicitly.

>>> import numpy as np
>>> layer = Conv2DTranspose(8, 4, strides=2, padding="same")
>>> layer(np.ones((2, 7, 7, 16), "float32")).shape
TensorShape([2, 14, 14, 8])
>>> [w.shape for w in layer.get_weights()]
[(4, 4, 8, 16), (8,)]
"""
from __future__ import annotations

from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.conv import (from_channels_last, normalize_padding, normalize_tuple, shape_channels_last,
                                         shape_from_channels_last, to_channels_last)
from chainrule.keras.layers.conv1d import check_strides_and_dilation
from chainrule.keras.layers.core import KernelLayer, check_data_format, positive_int
from chainrule.keras.mixed_precision.autocast import read
from chainrule.ops.conv3d import conv3d_transpose
from chainrule.ops.conv_transpose import conv1d_transpose, conv2d_transpose, transpose_output_length


class _ConvTranspose(KernelLayer):
    """What the transposed convolutions share; ``_rank`` spatial axes, ``_op`` the transposed convolution, channels
    first where ``_channels_first_ok`` (3-D)."""

    _rank, _channels_first_ok = 2, False
    _op = staticmethod(conv2d_transpose)

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        kind, rank = type(self).__name__, self._rank
        self.filters = positive_int(filters, "filters", kind)
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", kind, n=rank)
        self.strides = normalize_tuple(strides, "strides", kind, n=rank)
        self.padding = normalize_padding(padding, kind)
        self.output_padding = (None if output_padding is None
                               else normalize_tuple(output_padding, "output_padding", kind, n=rank, allow_zero=True))
        self.data_format = check_data_format(data_format, kind, allow_channels_first=self._channels_first_ok)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", kind, n=rank)
        for axis, (p, s) in enumerate(zip(self.output_padding or (), self.strides)):
            if p >= s:
                raise ValueError(f"{kind}: `output_padding` must be strictly less than `strides` for all dimensions. "
                                 f"At dimension {axis}, `output_padding` is {p} but `strides` is {s}. Received: "
                                 f"output_padding={self.output_padding}, strides={self.strides}")
        check_strides_and_dilation(self.strides, self.dilation_rate, kind)
        self.input_spec = InputSpec(ndim=rank + 2)

    def build(self, input_shape):
        channel_axis = 1 if self.data_format == "channels_first" else -1
        channels = input_shape[channel_axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of input channels, got shape {input_shape}")
        self._add_kernel_and_bias(self.kernel_size + (self.filters, channels), self.filters)
        self.input_spec = InputSpec(ndim=self._rank + 2, axes={channel_axis: channels})
        self.built = True

    def call(self, inputs):
        y = self._op(to_channels_last(inputs, self.data_format), read(self.kernel), self.strides, self.padding,
                     self.output_padding, self.dilation_rate)
        if self.use_bias:
            y = y + self.bias
        return from_channels_last(y if self._act is None else self._act(y), self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = shape_channels_last(input_shape, self.data_format)
        extra = self.output_padding or (None,) * self._rank
        sizes = tuple(transpose_output_length(n, k, self.padding, s, p, d) for n, k, s, p, d in zip(
            input_shape[1:-1], self.kernel_size, self.strides, extra, self.dilation_rate))
        return shape_from_channels_last((input_shape[0],) + sizes + (self.filters,), self.data_format)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate}


class Conv2DTranspose(_ConvTranspose):
    """``activation(conv2d_transpose(inputs, kernel) + bias)`` on (batch, height, width, channels) inputs.

    kernel: (kernel_h, kernel_w, filters, in_channels), bias: (filters,). Arguments as
    ``keras.layers.Conv2DTranspose``: filters, kernel_size, strides, padding ('valid'/'same'), output_padding,
    dilation_rate, and Dense's activation, use_bias, initializer and regularizer arguments.
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias: bool = True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv1DTranspose(_ConvTranspose):
    """``activation(conv1d_transpose(inputs, kernel) + bias)`` on (batch, steps, channels) inputs; kernel
    (kernel_size, filters, in_channels). Arguments as Conv2DTranspose's, each one int."""

    _rank = 1
    _op = staticmethod(conv1d_transpose)


class Conv3DTranspose(_ConvTranspose):
    """``activation(conv3d_transpose(inputs, kernel) + bias)`` on (batch, depth, height, width, channels) inputs
    (or channels first with ``data_format='channels_first'``); kernel (kernel_d, kernel_h, kernel_w, filters,
    in_channels). Arguments as ``keras.layers.Conv3DTranspose`` (data_format before output_padding, as there)."""

    _rank, _channels_first_ok = 3, True
    _op = staticmethod(conv3d_transpose)

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias: bool = True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


Convolution2DTranspose, Convolution1DTranspose = Conv2DTranspose, Conv1DTranspose
Convolution3DTranspose = Conv3DTranspose

__all__ = ["Conv2DTranspose", "Conv1DTranspose", "Conv3DTranspose", "Convolution2DTranspose",
           "Convolution1DTranspose", "Convolution3DTranspose"]
