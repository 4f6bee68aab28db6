"""RMSNormalization (``keras.layers.RMSNormalization``): ``x / sqrt(mean(x²) + epsilon) * scale`` over ``axis``, a
learned ``scale`` (ones at first) per normalized position; no centring, no bias (Zhang and Sennrich, 2019).

>>> import numpy as np
>>> RMSNormalization()(np.array([[3.0, 4.0]], "float32")).numpy().round(4)
array([[0.8485, 1.1314]], dtype=float32)
"""
from __future__ import annotations

import numbers

from chainrule.keras.layers.base import Layer
from chainrule.keras.ops import nn as knn


class RMSNormalization(Layer):
    """Root-mean-square normalization over ``axis`` (an int or a list of them) with a learned scale."""

    _supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"RMSNormalization: `axis` must be an int or a list of ints. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(f"RMSNormalization: `epsilon` must be a number >= 0. Received: epsilon={epsilon!r}")
        self.axis = sorted(int(a) for a in axes) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.scale = None

    def _axes(self, rank: int) -> list[int]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Axis {a} is out of bounds for input shape of rank {rank}. Received: "
                                 f"axis={self.axis}")
        return sorted(a % rank for a in axes)

    def build(self, input_shape):
        shape = tuple(input_shape[a] for a in self._axes(len(input_shape)))
        if None in shape:
            raise ValueError(f"Layer '{self.name}' needs the normalized axes of its input known, got shape "
                             f"{tuple(input_shape)}")
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, inputs):
        return knn.rms_normalization(inputs, scale=self.scale, axis=self._axes(inputs.ndim), epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
