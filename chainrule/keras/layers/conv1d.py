"""Conv1D: 1-D convolution over (batch, steps, channels) sequences, with a bias and an activation.

It runs Conv2D's node (convolution, + bias and a relu in one pass) on the sequence viewed as an image of height 1.
``padding='causal'`` pads ``(kernel_size - 1) * dilation_rate`` zeros before the steps only (Keras's rule), so
output step t depends on input steps <= t.

>>> import numpy as np
>>> layer = Conv1D(4, 3, padding="causal")
>>> layer(np.ones((2, 10, 3), "float32")).shape
TensorShape([2, 10, 4])
>>> [w.shape for w in layer.get_weights()]
[(3, 3, 4), (4,)]
"""
from __future__ import annotations

from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.conv import (bias_and_activation, conv_config, conv_output_length, normalize_padding,
                                         normalize_tuple, overrides_convolution_op)
from chainrule.keras.layers.core import KernelLayer, check_data_format, positive_int
from chainrule.ops import conv as conv_ops
from chainrule.ops.conv1d import causal_pads, lift_1d, lower_1d


def check_groups(groups, layer: str) -> int:
    """Grouped convolutions are not implemented: groups=1 only."""
    if groups != 1:
        raise NotImplementedError(f"{layer}: groups={groups} is not supported (grouped convolution); use groups=1")
    return 1


def check_strides_and_dilation(strides: tuple, dilation_rate: tuple, layer: str) -> None:
    """Keras refuses strides > 1 together with dilation_rate > 1."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{layer}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                         f"strides={strides} and dilation_rate={dilation_rate}")


class Conv1D(KernelLayer):
    """``activation(conv1d(inputs, kernel) + bias)`` on (batch, steps, channels) inputs.

    kernel: (kernel_size, in_channels, filters), bias: (filters,), as Keras stores them. Arguments as
    ``keras.layers.Conv1D``: filters, kernel_size, strides (1), padding ('valid', 'same' or 'causal'),
    dilation_rate (1), groups (1 only), and Dense's activation, use_bias, initializer and regularizer arguments.
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.filters = positive_int(filters, "filters", "Conv1D")
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", "Conv1D", n=1)
        self.strides = normalize_tuple(strides, "strides", "Conv1D", n=1)
        self.padding = normalize_padding(padding, "Conv1D", allow_causal=True)
        self.data_format = check_data_format(data_format, "Conv1D")
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", "Conv1D", n=1)
        check_strides_and_dilation(self.strides, self.dilation_rate, "Conv1D")
        self.groups = check_groups(groups, "Conv1D")
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of input channels, got shape {input_shape}")
        self._add_kernel_and_bias(self.kernel_size + (channels, self.filters), self.filters)
        self.input_spec = InputSpec(ndim=3, axes={-1: channels})
        self.built = True

    def _geometry(self, steps: int) -> dict:
        """The 2-D node's pads, strides and dilations for inputs of ``steps`` steps."""
        (k,), (s,), (d,) = self.kernel_size, self.strides, self.dilation_rate
        if self.padding == "causal":
            pads = causal_pads(k, d)
        else:
            pads = conv_ops.resolve_padding(self.padding, (1, steps), (1, k), (1, s), (1, d), self.name)
        if steps + sum(pads[1]) < (k - 1) * d + 1:
            raise ValueError(f"Layer '{self.name}': the kernel (size {k}, dilation {d}) is longer than the input's "
                             f"{steps} steps (padding '{self.padding}')")
        return dict(pads=pads, strides=(1, s), dilations=(1, d))

    def call(self, inputs):
        if overrides_convolution_op(self, Conv1D):
            return bias_and_activation(self, self.convolution_op(inputs, self.kernel))
        kernel = lift_1d(self.kernel, self.name, "kernel", axis=0)
        y = conv_ops.Conv2DBiasAct.apply(lift_1d(inputs, self.name), kernel, self.bias, relu=self._fused_relu,
                                         **self._geometry(inputs.shape[1]))
        y = lower_1d(y)
        return y if self._act is None or self._fused_relu else self._act(y)

    def convolution_op(self, inputs, kernel):
        """The layer's convolution (no bias, no activation), Keras's hook for a subclass: see Conv2D's."""
        y = conv_ops.Conv2DBiasAct.apply(lift_1d(inputs, self.name), lift_1d(kernel, self.name, "kernel", axis=0),
                                         None, **self._geometry(inputs.shape[1]))
        return lower_1d(y)

    def compute_output_shape(self, input_shape):
        steps = conv_output_length(input_shape[1], self.kernel_size[0], self.padding, self.strides[0],
                                   self.dilation_rate[0])
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        return conv_config(self, super().get_config())


Convolution1D = Conv1D

__all__ = ["Conv1D", "Convolution1D"]
