"""Regularization layers that act in training only: GaussianNoise, GaussianDropout, AlphaDropout,
SpatialDropout1D/2D/3D, and ActivityRegularization (a pass-through that adds an L1/L2 penalty on its input to the
model's losses).

The noise is drawn with ``keras.random`` from the layer's own SeedGenerator (Keras 3): a new draw at every call,
the same sequence for the same seed; a traced training step draws anew at each replay.

>>> import numpy as np
>>> layer = GaussianNoise(0.1, seed=1)
>>> x = np.ones((2, 3), "float32")
>>> bool((layer(x, training=False).numpy() == x).all()), bool((layer(x, training=True).numpy() != x).all())
(True, True)
>>> SpatialDropout2D(0.5)(np.ones((1, 4, 4, 3), "float32"), training=True).shape
TensorShape([1, 4, 4, 3])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import ops
from chainrule.keras import random as keras_random
from chainrule.keras import regularizers
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.core import Dropout, check_data_format
from chainrule.ops.no_gradient import no_gradient


def _fraction(value, name: str, layer: str) -> float:
    """A number in [0, 1], with Keras's error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: Invalid value received for argument `{name}`. Expected a float value between 0 "
                         f"and 1. Received: {name}={value}")
    return float(value)


class _Noise(Layer):
    """A layer that adds or multiplies noise in training (``training=True``) and is the identity otherwise."""

    _supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras_random.SeedGenerator(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GaussianNoise(_Noise):
    """Add zero-centred Gaussian noise of standard deviation ``stddev`` in training: ``inputs + N(0, stddev²)``."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.stddev = _fraction(stddev, "stddev", "GaussianNoise")

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + keras_random.normal(inputs.shape, 0.0, self.stddev, dtype=inputs.dtype, seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_Noise):
    """Multiply by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))`` in training."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = _fraction(rate, "rate", "GaussianDropout")

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * keras_random.normal(inputs.shape, 1.0, stddev, dtype=inputs.dtype, seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


# SELU's constants: AlphaDropout sets dropped units to SELU's negative saturation value
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout that keeps a SELU network's mean and variance: in training, each unit is kept with probability
    ``1 - rate`` or set to SELU's saturation value ``-alpha * scale``, then ``a x + b`` restores the mean 0 and
    variance 1 (Klambauer et al., 2017). ``noise_shape`` shares the draw along axes given as 1."""

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = _fraction(rate, "rate", "AlphaDropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape)
        if self.noise_shape is not None:
            if len(self.noise_shape) != len(shape):
                raise ValueError(f"Layer '{self.name}': noise_shape {self.noise_shape} does not have the rank of "
                                 f"the inputs {shape}")
            shape = tuple(d if n is None else n for n, d in zip(self.noise_shape, shape))
        saturation = -_SELU_ALPHA * _SELU_SCALE
        draws = keras_random.uniform(shape, dtype=inputs.dtype, seed=self.seed_generator)
        kept = ops.cast(no_gradient(np.greater_equal, draws, self.rate), inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * saturation ** 2)) ** -0.5
        b = -a * saturation * self.rate
        return (inputs * kept + (1.0 - kept) * saturation) * a + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per example and channel, shared along the spatial axes."""

    _rank = 1

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype=None,
                 data_format=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        kind = type(self).__name__
        self.data_format = check_data_format(data_format, kind, allow_channels_first=True)
        spatial = (1,) * self._rank
        self.noise_shape = ((None, None) + spatial if self.data_format == "channels_first"
                            else (None,) + spatial + (None,))
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of (batch, steps, channels) inputs in training, scaling the rest by 1 / (1 - rate)."""

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)


class SpatialDropout2D(_SpatialDropout):
    """Drop whole channels (feature maps) of images in training, scaling the rest by 1 / (1 - rate)."""

    _rank = 2

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Drop whole channels of volumes (batch, depth, height, width, channels) in training, scaling the rest by
    1 / (1 - rate)."""

    _rank = 3


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * Σ|x| + l2 * Σx²`` of its input (per sample) to the model's losses."""

    _supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
           "SpatialDropout3D", "ActivityRegularization"]
