"""DepthwiseConv2D and SeparableConv2D: convolutions that filter each input channel on its own (and, for the
separable one, then mix the channels with a 1x1 convolution), as in MobileNet and Xception.

>>> import numpy as np
>>> layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same")
>>> layer(np.ones((2, 8, 8, 3), "float32")).shape
TensorShape([2, 8, 8, 6])
>>> layer = SeparableConv2D(5, 3)
>>> _ = layer(np.ones((1, 8, 8, 3), "float32"))
>>> [w.shape for w in layer.get_weights()]
[(3, 3, 3, 1), (1, 1, 3, 5), (5,)]
"""
from __future__ import annotations

from chainrule.keras import activations, constraints, initializers, regularizers
from chainrule.keras.layers.base import InputSpec, Layer, serialize_object
from chainrule.keras.mixed_precision.autocast import read
from chainrule.keras.layers.conv import conv_output_length, normalize_padding, normalize_tuple
from chainrule.keras.layers.core import ActivationAttribute, check_data_format, positive_int
from chainrule.ops.depthwise import depthwise_conv2d, separable_conv2d


class _DepthwiseBase(Layer):
    """The arguments DepthwiseConv2D and SeparableConv2D share: the depthwise window, its multiplier, the bias and
    the activation; ``_kernels`` names the layer's kernels (each with an initializer and a regularizer)."""

    _kernels: tuple[str, ...] = ("depthwise",)
    _rank = 2  # spatial axes (1 for the 1-D layers)
    activation = ActivationAttribute()

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid", depth_multiplier: int = 1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 bias_initializer="zeros", bias_regularizer=None, activity_regularizer=None, bias_constraint=None,
                 **kwargs):
        kernel_args = {}
        for kernel in self._kernels:  # <kernel>_initializer, <kernel>_regularizer, <kernel>_constraint
            kernel_args[kernel] = (kwargs.pop(f"{kernel}_initializer", "glorot_uniform"),
                                   kwargs.pop(f"{kernel}_regularizer", None), kwargs.pop(f"{kernel}_constraint", None))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        kind = type(self).__name__
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", kind)
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", kind, self._rank)
        self.strides = normalize_tuple(strides, "strides", kind, self._rank)
        self.padding = normalize_padding(padding, kind)
        self.data_format = check_data_format(data_format, kind)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", kind, self._rank)
        self.activation = activation
        self.use_bias = bool(use_bias)
        for kernel, (initializer, regularizer, constraint) in kernel_args.items():
            setattr(self, f"{kernel}_initializer", initializers.get(initializer))
            setattr(self, f"{kernel}_regularizer", regularizers.get(regularizer))
            setattr(self, f"{kernel}_constraint", constraints.get(constraint))
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.bias = None
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _channels(self, input_shape) -> int:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of input channels, got shape {input_shape}")
        self.input_spec = InputSpec(ndim=self._rank + 2, axes={-1: channels})
        return channels

    def _add_kernel(self, kernel: str, shape: tuple, name: str):
        return self.add_weight(shape=shape, initializer=getattr(self, f"{kernel}_initializer"),
                               regularizer=getattr(self, f"{kernel}_regularizer"),
                               constraint=getattr(self, f"{kernel}_constraint"), name=name)

    def _add_bias(self, units: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight(shape=(units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")

    def _finish(self, y):
        """+ bias, then the activation."""
        if self.use_bias:
            y = y + self.bias
        return y if self._act is None else self._act(y)

    def _output_shape(self, input_shape, channels):
        hw = tuple(conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
                   zip(input_shape[1:1 + self._rank], self.kernel_size, self.strides, self.dilation_rate))
        return (input_shape[0],) + hw + (channels,)

    def get_config(self):
        config = {**super().get_config(), "depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size,
                  "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                  "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                  "use_bias": self.use_bias}
        for kernel in self._kernels:
            config[f"{kernel}_initializer"] = serialize_object(initializers, getattr(self, f"{kernel}_initializer"))
            config[f"{kernel}_regularizer"] = serialize_object(regularizers, getattr(self, f"{kernel}_regularizer"))
            config[f"{kernel}_constraint"] = serialize_object(constraints, getattr(self, f"{kernel}_constraint"))
        config.update(bias_initializer=serialize_object(initializers, self.bias_initializer),
                      bias_regularizer=serialize_object(regularizers, self.bias_regularizer),
                      bias_constraint=serialize_object(constraints, self.bias_constraint))
        return config


class DepthwiseConv2D(_DepthwiseBase):
    """``activation(depthwise_conv2d(inputs, kernel) + bias)``: each of the C input channels filtered by its own
    ``depth_multiplier`` kernels, C * depth_multiplier outputs (channel c*M + m from input channel c).

    kernel: (kernel_h, kernel_w, in_channels, depth_multiplier), bias: (in_channels * depth_multiplier,), as Keras
    stores them. Arguments as ``keras.layers.DepthwiseConv2D`` (depthwise_initializer, depthwise_regularizer, ...).
    """

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid", depth_multiplier: int = 1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias: bool = True, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, **kwargs)
        self.kernel = None

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.kernel = self._add_kernel("depthwise", self.kernel_size + (channels, self.depth_multiplier), "kernel")
        self._add_bias(channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs):
        return self._finish(depthwise_conv2d(inputs, read(self.kernel), self.strides, self.padding,
                                             self.dilation_rate))

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] * self.depth_multiplier
        return self._output_shape(input_shape, channels)


class SeparableConv2D(_DepthwiseBase):
    """``activation(conv2d(depthwise_conv2d(inputs, depthwise_kernel), pointwise_kernel) + bias)``: a depthwise
    convolution, then a 1x1 convolution to ``filters`` channels.

    depthwise_kernel: (kernel_h, kernel_w, in_channels, depth_multiplier), pointwise_kernel: (1, 1, in_channels *
    depth_multiplier, filters), bias: (filters,). Arguments as ``keras.layers.SeparableConv2D``.
    """

    _kernels = ("depthwise", "pointwise")

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, **kwargs)
        self.filters = positive_int(filters, "filters", "SeparableConv2D")
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.depthwise_kernel = self._add_kernel("depthwise", self.kernel_size + (channels, self.depth_multiplier),
                                                 "depthwise_kernel")
        self.pointwise_kernel = self._add_kernel("pointwise", (1, 1, channels * self.depth_multiplier, self.filters),
                                                 "pointwise_kernel")
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        return self._finish(separable_conv2d(inputs, read(self.depthwise_kernel), read(self.pointwise_kernel),
                                             self.strides, self.padding, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


SeparableConvolution2D = SeparableConv2D

__all__ = ["DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D"]
