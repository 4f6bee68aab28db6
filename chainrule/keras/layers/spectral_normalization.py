"""SpectralNormalization (``keras.layers.SpectralNormalization``, Miyato et al., 2018): in training, before each
call, the wrapped layer's kernel (or embeddings) is divided by its largest singular value, estimated by
``power_iterations`` steps of the power method from the kept vector ``vector_u``; both are written back, as Keras
does. Outside training the layer runs with its kernel as it stands.

>>> import numpy as np
>>> layer = SpectralNormalization(Dense(3, kernel_initializer="ones"), power_iterations=5)
>>> _ = layer(np.ones((1, 4), "float32"), training=True)
>>> round(float(np.linalg.svd(layer.kernel.numpy(), compute_uv=False)[0]), 4)
1.0
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.engine.function import replayed
from chainrule.keras import initializers
from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.core import Dense  # noqa: F401  (the doctest's)
from chainrule.keras.layers.wrappers import Wrapper


def _unit(x: np.ndarray) -> np.ndarray:
    """``x / ||x||`` over all its entries (Keras's normalize with axis=None)."""
    return x / np.sqrt(max(float(np.sum(x * x)), 1e-12))


@replayed  # a traced training step renormalizes on every replay, from that step's kernel
def _normalize_in_place(kernel, vector_u, iterations: int) -> None:
    """One spectral normalization of ``kernel``: power iterations from ``vector_u``, then both written back."""
    w = np.asarray(kernel.numpy(), dtype=np.float64)
    if not w.any():  # an all-zero kernel has no direction to normalize (Keras leaves it)
        return
    matrix = w.reshape(-1, w.shape[-1])
    u = np.asarray(vector_u.numpy(), dtype=np.float64)
    for _ in range(iterations):
        v = _unit(u @ matrix.T)
        u = _unit(v @ matrix)
    sigma = float(((v @ matrix) @ u.T).item())
    vector_u.assign(u.astype(vector_u.dtype))
    kernel.assign((w / sigma).astype(kernel.dtype))


class SpectralNormalization(Wrapper):
    """Wraps a layer with a ``kernel`` (Dense, Conv*) or ``embeddings`` (Embedding); ``power_iterations`` > 0."""

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, numbers.Integral) \
                or power_iterations <= 0:
            raise ValueError(f"`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = int(power_iterations)
        self.kernel = self.vector_u = None

    def build(self, input_shape=None) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        kernel = getattr(self.layer, "embeddings", None) if kernel is None else kernel
        if kernel is None:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        self.kernel = kernel
        self.vector_u = self.add_weight(shape=(1, kernel.shape[-1]), trainable=False, name="vector_u",
                                        initializer=initializers.TruncatedNormal(stddev=0.02), dtype=kernel.dtype)
        self.built = True

    def call(self, inputs, training=False):
        if training:
            _normalize_in_place(self.kernel, self.vector_u, self.power_iterations)
        output = self.layer(inputs)
        return output if output.dtype == inputs.dtype else ops.cast(output, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "power_iterations": self.power_iterations}
