"""Masking: time steps whose features all equal ``mask_value`` are masked (skipped by the layers after it) and
zeroed, as Keras 3's layer.

>>> import numpy as np
>>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
>>> out = Masking(mask_value=0.0)(x)
>>> np.asarray(out._keras_mask).tolist()
[[True, False, True]]
"""
from __future__ import annotations

from chainrule import backend
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras.layers.base import Layer
from chainrule.ops.math import Where
from chainrule.ops.no_gradient import no_gradient
from chainrule.ops.shape import Reshape


def steps_not_all(x, value):
    """Per time step (all axes but the last), whether any feature differs from ``value``."""
    different = x != value
    return backend.array_namespace(different).any(different, axis=-1)  # the standard's arrays have no .any()


class Masking(Layer):
    """Mask the time steps (axis 1) whose every feature equals ``mask_value`` (default 0.0): the output is the input
    with those steps set to 0, carrying a ``(batch, steps)`` mask that is False there."""

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        inputs = inputs if isinstance(inputs, Tensor) else as_tensor(inputs)
        return no_gradient(steps_not_all, inputs, value=float(self.mask_value))

    def call(self, inputs):
        keep = self.compute_mask(inputs)
        outputs = Where.apply(Reshape.apply(keep, shape=keep.shape + (1,)), inputs, 0)
        outputs._keras_mask = keep
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
