"""Activation layers with settings: ReLU, LeakyReLU, ELU, Softmax.

>>> import chainrule as cr
>>> LeakyReLU()(cr.constant([-1.0, 2.0])).numpy()
array([-0.3,  2. ], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.keras import activations
from chainrule.keras.layers.base import Layer


def _non_negative(value, name: str, layer: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a number >= 0{' or None' if allow_none else ''}, got {value!r}")
    return float(value)


class _Elementwise(Layer):
    _supports_masking = True  # an elementwise layer keeps its input's mask (Keras)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """``max(x, 0)``, or with options: ``negative_slope * (x - threshold)`` below ``threshold``, capped at
    ``max_value`` (``ReLU(max_value=6.0)`` is ReLU6)."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")

    def call(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """``x`` where positive, ``negative_slope * x`` elsewhere (Keras 3's default slope 0.3; ``alpha=`` also works)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:  # the Keras 2 name
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "LeakyReLU")

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Probabilities along ``axis`` (the Softmax op, which the cross-entropy losses fuse with).

    ``mask`` (1 = keep, 0 = drop, broadcast to the inputs) gives the dropped entries probability 0.
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            keep = np.asarray(mask, dtype=bool)
            inputs = ops.where(keep, inputs, np.finfo(inputs.dtype).min / 2)
        return ops.softmax(inputs, self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


__all__ = ["ReLU", "LeakyReLU", "ELU", "Softmax"]
