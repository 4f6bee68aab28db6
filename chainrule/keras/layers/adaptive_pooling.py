"""AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D: pool inputs of any size to ``output_size`` (an
int or one per spatial axis) with PyTorch's bins (:mod:`chainrule.keras.ops.adaptive_pool`), Keras 3's layers.

>>> import numpy as np
>>> AdaptiveAveragePooling2D((2, 3))(np.ones((1, 7, 9, 4), "float32")).shape
TensorShape([1, 2, 3, 4])
"""
from __future__ import annotations

import numbers

from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.core import check_data_format
from chainrule.keras.ops.adaptive_pool import adaptive_average_pool, adaptive_max_pool


class _AdaptivePooling(Layer):
    _rank = 1
    _pool = staticmethod(adaptive_average_pool)

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
            sizes = (int(output_size),) * self._rank
        elif isinstance(output_size, (tuple, list)) and len(output_size) == self._rank:
            sizes = tuple(output_size)
        else:
            raise TypeError(f"{kind}: `output_size` must be an integer or a tuple of {self._rank}. Received: "
                            f"{output_size} of type {type(output_size)}")
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"{kind}: `output_size` must hold positive ints. Received: output_size={output_size}")
        self.output_size = tuple(int(s) for s in sizes)
        self.data_format = check_data_format(data_format, kind, allow_channels_first=True)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        return self._pool(inputs, self.output_size, self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size), "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """The mean of each adaptive bin of (batch, steps, channels) inputs."""


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """The mean of each adaptive bin of (batch, height, width, channels) images."""

    _rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """The mean of each adaptive bin of (batch, depth, height, width, channels) volumes."""

    _rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """The maximum of each adaptive bin of (batch, steps, channels) inputs."""

    _pool = staticmethod(adaptive_max_pool)


class AdaptiveMaxPooling2D(AdaptiveMaxPooling1D):
    """The maximum of each adaptive bin of (batch, height, width, channels) images."""

    _rank = 2


class AdaptiveMaxPooling3D(AdaptiveMaxPooling1D):
    """The maximum of each adaptive bin of (batch, depth, height, width, channels) volumes."""

    _rank = 3


__all__ = ["AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
           "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D"]
