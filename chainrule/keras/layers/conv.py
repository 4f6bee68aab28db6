"""Conv2D: 2-D convolution over channels-last images, with a bias and an activation.

>>> import numpy as np
>>> layer = Conv2D(8, 3, padding="same")
>>> layer(np.ones((2, 5, 5, 3), "float32")).shape
TensorShape([2, 5, 5, 8])
>>> [w.shape for w in layer.get_weights()]
[(3, 3, 3, 8), (8,)]
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.core import KernelLayer, check_data_format, positive_int
from chainrule.ops import conv as conv_ops


def normalize_tuple(value, name: str, layer: str, n: int = 2, allow_zero: bool = False) -> tuple[int, ...]:
    """An int, or ``n`` ints, as a tuple of ``n`` ints, each positive (or >= 0 with ``allow_zero``): Keras's
    ``standardize_tuple`` (a pair (height, width) by default)."""
    values = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
        ok = len(values) == n and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
    except TypeError:
        ok = False
    if not ok or any(v < (0 if allow_zero else 1) for v in values):
        wanted = "a non-negative int" if allow_zero else "a positive int"
        wanted += " or a pair of them" if n == 2 else f" or {n} of them"
        raise ValueError(f"{layer}: {name} must be {wanted}, got {value!r} (the `{name}` argument must be a tuple "
                         f"of {n} integers, each {'>= 0' if allow_zero else '> 0'})")
    return tuple(int(v) for v in values)


def normalize_padding(padding, layer: str, allow_causal: bool = False) -> str:
    """'valid' or 'same' (either case), and 'causal' where the layer allows it (1-D convolutions)."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    mode = str(padding).lower()
    if mode not in allowed:
        raise ValueError(f"{layer}: padding must be {' or '.join(repr(a) for a in allowed)}, got {padding!r}")
    return mode


def to_channels_last(x, data_format: str):
    """A (batch, channels, *spatial) tensor as (batch, *spatial, channels) when data_format is 'channels_first'."""
    return ops.transpose(x, (0, *range(2, x.ndim), 1)) if data_format == "channels_first" else x


def from_channels_last(x, data_format: str):
    """The inverse of :func:`to_channels_last`: back to (batch, channels, *spatial) for 'channels_first'."""
    return ops.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1))) if data_format == "channels_first" else x


def shape_channels_last(shape, data_format: str) -> tuple:
    """A shape as :func:`to_channels_last` would give it.

    >>> shape_channels_last((None, 3, 8, 8, 8), "channels_first")
    (None, 8, 8, 8, 3)
    """
    shape = tuple(shape)
    return (shape[0], *shape[2:], shape[1]) if data_format == "channels_first" else shape


def shape_from_channels_last(shape, data_format: str) -> tuple:
    """A channels-last shape in the layout of ``data_format``."""
    shape = tuple(shape)
    return (shape[0], shape[-1], *shape[1:-1]) if data_format == "channels_first" else shape


def conv_config(layer, base: dict) -> dict:
    """Keras's convolution config: ``base`` (the layer's own) and the convolution's arguments."""
    return {**base, **{name: getattr(layer, name) for name in ("filters", "kernel_size", "strides", "padding",
                                                                "data_format", "dilation_rate", "groups")}}


def overrides_convolution_op(layer, base: type) -> bool:
    """Whether ``layer``'s class defines its own ``convolution_op`` (Keras's API for a custom convolution), so
    ``call`` runs it and then adds the bias and applies the activation, instead of the fused node."""
    return type(layer).convolution_op is not base.convolution_op


def bias_and_activation(layer, y):
    """Keras's ``BaseConv.call`` after ``convolution_op``: ``y`` plus the bias (if any, along the channel axis of
    the layer's data_format), then the activation."""
    if layer.use_bias:
        channels_first = layer.data_format == "channels_first"
        y = y + (ops.reshape(layer.bias, (layer.filters,) + (1,) * (y.ndim - 2)) if channels_first else layer.bias)
    return y if layer._act is None else layer._act(y)


def conv_output_length(size, k: int, padding: str, stride: int, dilation: int = 1):
    """Keras's output length along one spatial axis (None stays None)."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    return max((size - (k - 1) * dilation - 1) // stride + 1, 0)


class Conv2D(KernelLayer):
    """``activation(conv2d(inputs, kernel) + bias)`` on (batch, height, width, channels) inputs.

    kernel: (kernel_h, kernel_w, in_channels, filters), bias: (filters,), as Keras stores them. Besides filters,
    kernel_size, strides, padding ('valid'/'same'), dilation_rate, it takes Dense's activation, use_bias,
    initializer and regularizer arguments.
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid", data_format=None,
                 dilation_rate=(1, 1), groups: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.filters = positive_int(filters, "filters", "Conv2D")
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", "Conv2D")
        self.strides = normalize_tuple(strides, "strides", "Conv2D")
        self.padding = normalize_padding(padding, "Conv2D")
        self.data_format = check_data_format(data_format, "Conv2D")
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", "Conv2D")
        if groups != 1:
            raise NotImplementedError(f"Conv2D: groups={groups} is not supported (grouped convolution); use groups=1")
        self.groups = 1
        self._pads: dict[tuple, tuple] = {}  # (height, width) of the input -> the explicit padding
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of input channels, got shape {input_shape}")
        self._add_kernel_and_bias(self.kernel_size + (channels, self.filters), self.filters)
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})
        self.built = True

    def _padding_for(self, shape) -> tuple:
        """Explicit ((top, bottom), (left, right)) padding for inputs of ``shape``, worked out once per image size."""
        pads = conv_ops.resolve_padding(self.padding, shape[1:3], self.kernel_size, self.strides, self.dilation_rate,
                                        self.name)
        for axis, (size, pad, k, d) in enumerate(zip(shape[1:3], pads, self.kernel_size, self.dilation_rate)):
            if size + pad[0] + pad[1] < (k - 1) * d + 1:
                raise ValueError(f"Layer '{self.name}': the kernel {self.kernel_size} (dilation {self.dilation_rate})"
                                 f" is larger than the input along {'height' if axis == 0 else 'width'}: input shape "
                                 f"{tuple(shape)}, padding '{self.padding}'")
        self._pads[shape[1:3]] = pads
        return pads

    def call(self, inputs):
        if overrides_convolution_op(self, Conv2D):
            return bias_and_activation(self, self.convolution_op(inputs, self.kernel))
        # One node: conv, + bias and (when the activation is relu) the relu, fused; other activations follow as ops
        y = conv_ops.Conv2DBiasAct.apply(inputs, self.kernel, self.bias, relu=self._fused_relu,
                                         **self._geometry(inputs.shape))
        return y if self._act is None or self._fused_relu else self._act(y)

    def convolution_op(self, inputs, kernel):
        """The layer's convolution of ``inputs`` with ``kernel`` (no bias, no activation): Keras's hook, which a
        subclass overrides (or calls from its own ``call``) to change the convolution, e.g. to standardize the
        kernel first."""
        return conv_ops.Conv2DBiasAct.apply(inputs, kernel, None, **self._geometry(inputs.shape))

    def _geometry(self, shape) -> dict:
        """The conv ops' pads, strides and dilations for inputs of ``shape``."""
        pads = self._pads.get(shape[1:3]) or self._padding_for(shape)
        return dict(pads=pads, strides=self.strides, dilations=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        hw = tuple(conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
                   zip(input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate))
        return (input_shape[0],) + hw + (self.filters,)

    def get_config(self):
        return conv_config(self, super().get_config())


Convolution2D = Conv2D

__all__ = ["Conv2D", "Convolution2D"]
