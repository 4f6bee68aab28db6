"""RandomFourierFeatures: TensorFlow 2's ``tf.keras.layers.experimental.RandomFourierFeatures``.

It maps inputs to ``sqrt(2 / output_dim) * cos(x @ W / scale + b)`` with ``W`` drawn once (Gaussian for the
Gaussian RBF kernel, Cauchy for the Laplacian one) and ``b`` uniform in ``[0, 2*pi)``, so the dot product of two
outputs approximates a shift-invariant kernel (Rahimi & Recht, "Random Features for Large-Scale Kernel Machines").
Only ``scale`` may train (``trainable=True``); ``W`` and ``b`` stay fixed.

>>> import numpy as np
>>> rff = RandomFourierFeatures(output_dim=8, scale=2.0)
>>> rff(np.zeros((3, 4), "float32")).shape
TensorShape([3, 8])
>>> [w.name for w in rff.trainable_weights], len(rff.non_trainable_weights)
([], 3)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule.keras import constraints
from chainrule.keras import initializers
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.ops.linalg import Linear
from chainrule.ops.transcendental import cos

SUPPORTED_KERNELS = ("gaussian", "laplacian")


class CauchyDraws(initializers.RandomInitializer):
    """Standard Cauchy samples (location 0, scale 1): the spectral density of the Laplacian kernel."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        probs = self._uniform(shape, dtype, 0.0, 1.0)
        return np.tan(np.pi * (probs - 0.5)).astype(probs.dtype)


def _features_initializer(kernel_initializer):
    """The initializer of the random projection: a kernel's name picks its distribution, anything else is used as is."""
    if isinstance(kernel_initializer, str):
        kind = kernel_initializer.lower()
        if kind == "gaussian":
            return initializers.RandomNormal(stddev=1.0)
        if kind == "laplacian":
            return CauchyDraws()
    return initializers.get(kernel_initializer)


class RandomFourierFeatures(Layer):
    """Project inputs of shape ``(batch, input_dim)`` to ``(batch, output_dim)`` random Fourier features."""

    def __init__(self, output_dim: int, kernel_initializer="gaussian", scale: float | None = None,
                 trainable: bool = False, name: str | None = None, **kwargs):
        if isinstance(output_dim, bool) or not isinstance(output_dim, (int, np.integer)) or output_dim <= 0:
            raise ValueError(f"`output_dim` should be a positive integer. Received: output_dim={output_dim!r}")
        if isinstance(kernel_initializer, str) and kernel_initializer.lower() not in SUPPORTED_KERNELS:
            raise ValueError(f"Unsupported `kernel_initializer`: {kernel_initializer!r}. Expected one of "
                             f"{list(SUPPORTED_KERNELS)} or an initializer")
        if scale is not None and not scale > 0.0:
            raise ValueError(f"When provided, `scale` should be a positive float. Received: scale={scale!r}")
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.output_dim = int(output_dim)
        self.kernel_initializer = kernel_initializer
        self.scale = scale

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}': the rank of the input tensor should be 2. Received input with "
                             f"rank {len(input_shape)} (shape {input_shape})")
        input_dim = input_shape[1]
        if input_dim is None:
            raise ValueError(f"Layer '{self.name}': the last dimension of the input tensor should be defined. "
                             f"Found `None` (shape {input_shape})")
        self.input_spec = InputSpec(ndim=2, axes={1: input_dim})
        self.unscaled_kernel = self.add_weight(
            name="unscaled_kernel", shape=(input_dim, self.output_dim),
            initializer=_features_initializer(self.kernel_initializer), trainable=False)
        self.bias = self.add_weight(name="bias", shape=(self.output_dim,),
                                    initializer=initializers.RandomUniform(0.0, 2 * math.pi), trainable=False)
        if self.scale is None:
            # the Gaussian kernel's default bandwidth, sqrt(d / 2), as TensorFlow picks it
            gaussian = isinstance(self.kernel_initializer, str) and self.kernel_initializer.lower() == "gaussian"
            self.scale = math.sqrt(input_dim / 2.0) if gaussian else 1.0
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=(1,),
                                            initializer=initializers.Constant(self.scale), trainable=True,
                                            constraint=constraints.NonNeg())
        super().build(input_shape)

    def call(self, inputs):
        kernel = self.unscaled_kernel / self.kernel_scale
        return math.sqrt(2.0 / self.output_dim) * cos(Linear.apply(inputs, kernel, self.bias))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}': expected inputs of shape (batch, input_dim) with input_dim "
                             f"defined, got {input_shape}")
        return (input_shape[0], self.output_dim)

    def get_config(self):
        kernel_initializer = self.kernel_initializer
        if not isinstance(kernel_initializer, str):
            kernel_initializer = initializers.serialize(kernel_initializer)
        return {**super().get_config(), "output_dim": self.output_dim, "kernel_initializer": kernel_initializer,
                "scale": self.scale}


__all__ = ["RandomFourierFeatures"]
