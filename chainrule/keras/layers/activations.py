"""Activation layers with settings: ReLU, LeakyReLU, ELU, Softmax, PReLU (a learned slope).

>>> import chainrule as cr
>>> LeakyReLU()(cr.constant([-1.0, 2.0])).numpy()
array([-0.3,  2. ], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.keras import activations, constraints, initializers, regularizers
from chainrule.keras.layers.base import InputSpec, Layer, serialize_object


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


class PReLU(_Elementwise):
    """``x`` where positive, ``alpha * x`` elsewhere, with ``alpha`` learned: one weight per input entry (batch axis
    excluded), shared along ``shared_axes`` (``[1, 2]`` gives a Conv2D's feature maps one slope per channel).

    >>> layer = PReLU(alpha_initializer="ones", shared_axes=[1])
    >>> layer(np.array([[-2.0, 3.0]], "float32")).numpy(), layer.alpha.shape
    (array([[-2.,  3.]], dtype=float32), TensorShape([1]))
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is not None:
            shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1 for a in shared_axes):
                raise ValueError(f"PReLU: shared_axes must be axis numbers >= 1 (the batch axis 0 is never shared), "
                                 f"got {shared_axes!r}")
            shared_axes = [int(a) for a in shared_axes]
        self.shared_axes = shared_axes
        self.alpha = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        shared = set(self.shared_axes or ())
        if any(a >= len(input_shape) for a in shared):
            raise ValueError(f"Layer '{self.name}': shared_axes {self.shared_axes} out of range for input of rank "
                             f"{len(input_shape)}")
        shape = tuple(1 if i in shared else d for i, d in enumerate(input_shape) if i > 0)
        if None in shape:
            raise ValueError(f"Layer '{self.name}': PReLU needs every unshared axis of its input known, got shape "
                             f"{input_shape}; share the unknown axes with shared_axes")
        self.alpha = self.add_weight(shape=shape, name="alpha", initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.input_spec = InputSpec(ndim=len(input_shape),
                                    axes={i: input_shape[i] for i in range(1, len(input_shape)) if i not in shared})
        self.built = True

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": serialize_object(initializers, self.alpha_initializer),
                "alpha_regularizer": serialize_object(regularizers, self.alpha_regularizer),
                "alpha_constraint": serialize_object(constraints, self.alpha_constraint),
                "shared_axes": self.shared_axes}


__all__ = ["ReLU", "LeakyReLU", "ELU", "Softmax", "PReLU"]
