"""Normalizations of each example on its own, as Keras 3: LayerNormalization, GroupNormalization, UnitNormalization.

Unlike BatchNormalization they keep no moving statistics: training and inference compute the same thing.

>>> import numpy as np
>>> y = LayerNormalization(epsilon=0.0)(np.array([[1.0, 2.0, 3.0]], "float32"))
>>> np.round(y.numpy(), 4)
array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
>>> UnitNormalization()(np.array([[3.0, 4.0]], "float32")).numpy()
array([[0.6, 0.8]], dtype=float32)
"""
from __future__ import annotations

import warnings

from chainrule.keras import initializers
from chainrule.keras import constraints
from chainrule.keras import regularizers
from chainrule.keras.layers.base import Layer, serialize_object
from chainrule.keras.mixed_precision.autocast import at_least_float32, in_compute_dtype
from chainrule.ops import math as math_ops
from chainrule.ops import reduce as reduce_ops
from chainrule.ops.layer_norm import layer_norm
from chainrule.ops.reduce import _normalize_axis
from chainrule.ops.shape import reshape


def _axes(axis, ndim: int, layer: str) -> list[int]:
    """``axis`` (an int or a list of ints) as sorted non-negative axes, each once."""
    if isinstance(axis, bool) or not isinstance(axis, (int, list, tuple)):
        raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
    axes = list(_normalize_axis(axis, ndim, layer))
    if len(set(axes)) != len(axes):
        raise ValueError(f"Duplicate axes are not allowed. Received: axis={axis}")
    return sorted(axes)


class _AffineNormalization(Layer):
    """What the normalizations with a learned scale (gamma) and offset (beta) share: arguments, weights, config."""

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, list, tuple)):
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                            f"{axis!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None
        self.supports_masking = True

    def _add_gamma_and_beta(self, shape: tuple, with_gamma: bool, with_beta: bool) -> None:
        if None in shape:
            raise ValueError(f"Layer '{self.name}' needs known sizes along axis={self.axis}, got {shape}")
        if with_gamma:
            self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, autocast=False, name="gamma")
        if with_beta:  # (gamma and beta stay float32 under mixed precision: the normalization runs in float32)
            self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, autocast=False, name="beta")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": serialize_object(initializers, self.beta_initializer),
                "gamma_initializer": serialize_object(initializers, self.gamma_initializer),
                "beta_regularizer": serialize_object(regularizers, self.beta_regularizer),
                "gamma_regularizer": serialize_object(regularizers, self.gamma_regularizer),
                "beta_constraint": serialize_object(constraints, self.beta_constraint),
                "gamma_constraint": serialize_object(constraints, self.gamma_constraint)}


class LayerNormalization(_AffineNormalization):
    """Normalize each example over ``axis`` (the last by default) to zero mean and unit variance, then scale by gamma
    and shift by beta (both shaped as the normalized axes): one fused node, ``chainrule.ops.layer_norm``.

    Arguments as ``keras.layers.LayerNormalization``: axis (-1), epsilon (1e-3), center, scale, the initializers and
    regularizers; ``rms_scaling=True`` is Keras's deprecated variant (no centering, no beta), with its warning.
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True, **kwargs):
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                          "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                          "please use `keras.layers.RMSNormalization` instead.", stacklevel=2)
        super().__init__(axis=axis, epsilon=epsilon, center=center, scale=scale, **kwargs)
        self.rms_scaling = rms_scaling

    def build(self, input_shape):
        self.axis = _axes(self.axis, len(input_shape), f"Layer '{self.name}'")
        shape = tuple(input_shape[d] for d in self.axis)
        self._add_gamma_and_beta(shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs):
        inputs = at_least_float32(inputs)  # float16 statistics overflow: computed in float32, as Keras 3
        if self.rms_scaling:  # Keras's formula: x / sqrt(var + epsilon) * gamma, no centering
            axes = tuple(self.axis)
            out = inputs / math_ops.sqrt(reduce_ops.var(inputs, axes, keepdims=True) + self.epsilon)
            shape = tuple(n if d in axes else 1 for d, n in enumerate(inputs.shape))
            return in_compute_dtype(self, out if self.gamma is None else out * reshape(self.gamma, shape))
        return in_compute_dtype(self, layer_norm(inputs, self.gamma, self.beta, tuple(self.axis), self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rms_scaling": self.rms_scaling}


class GroupNormalization(_AffineNormalization):
    """Split the channels (``axis``) into ``groups`` and normalize each example's group over the group's channels
    and every other non-batch axis; gamma and beta are per channel. ``groups=-1`` is instance normalization (one
    channel per group); ``groups=1`` normalizes the whole example, as LayerNormalization over all axes.

    Arguments as ``keras.layers.GroupNormalization``: groups (32), axis (-1), epsilon (1e-3), center, scale,
    initializers, regularizers.
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"Received an invalid value for argument `groups`, expected a positive integer (or `-1` "
                             f"for instance normalization). Received: groups={groups}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"GroupNormalization: axis must be an int (the channel axis), got {axis!r}")
        super().__init__(axis=axis, epsilon=epsilon, center=center, scale=scale, **kwargs)
        self.groups = groups

    def build(self, input_shape):
        (axis,) = _axes(self.axis, len(input_shape), f"Layer '{self.name}'")
        if axis == 0:
            raise ValueError(f"Layer '{self.name}': axis={self.axis} is the batch axis, not a channel axis")
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels "
                             f"({channels}).")
        if channels % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels "
                             f"({channels}).")
        self._channel_axis = axis
        self._add_gamma_and_beta((channels,), self.scale, self.center)
        self.built = True

    def call(self, inputs):
        inputs = at_least_float32(inputs)  # (as LayerNormalization)
        axis, shape = self._channel_axis, inputs.shape
        # (..., channels, ...) -> (..., groups, channels / groups, ...): statistics over all but batch and group
        grouped = reshape(inputs, shape[:axis] + (self.groups, shape[axis] // self.groups) + shape[axis + 1:])
        axes = tuple(d for d in range(1, grouped.ndim) if d != axis)
        out = reshape(layer_norm(grouped, None, None, axes, self.epsilon), shape)
        per_channel = tuple(n if d == axis else 1 for d, n in enumerate(shape))
        if self.gamma is not None:
            out = out * reshape(self.gamma, per_channel)
        if self.beta is not None:
            out = out + reshape(self.beta, per_channel)
        return in_compute_dtype(self, out)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class UnitNormalization(Layer):
    """Scale each example to unit L2 norm along ``axis``: ``x / max(sqrt(sum(x²)), 1e-12)``, as
    ``keras.layers.UnitNormalization``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, list, tuple)):
            raise TypeError(f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: "
                            f"axis={axis}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.supports_masking = True

    def call(self, inputs):
        axes = tuple(_axes(self.axis, inputs.ndim, f"Layer '{self.name}'"))
        squares = reduce_ops.sum(inputs * inputs, axes, keepdims=True)
        return inputs / math_ops.sqrt(math_ops.maximum(squares, 1e-24))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


__all__ = ["LayerNormalization", "GroupNormalization", "UnitNormalization"]
