"""Identity: a layer that returns its inputs unchanged (and their masks), Keras 3's ``layers.Identity``.

>>> import numpy as np
>>> Identity()(np.ones((2, 3), "float32")).shape
TensorShape([2, 3])
"""
from __future__ import annotations

from chainrule.keras.layers.base import Layer


class Identity(Layer):
    """Return the inputs (a tensor, or a structure of them) as they are."""

    _supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = ["Identity"]
