"""``tf.nn.local_response_normalization`` (``tf.nn.lrn``): AlexNet's normalization of each channel by the squared
sum of its neighbouring channels, built from ops so gradients flow.

>>> import numpy as np
>>> import chainrule as tf
>>> tf.nn.lrn(np.ones((1, 1, 1, 3), "float32"), depth_radius=1, bias=1.0, alpha=1.0, beta=1.0).numpy().ravel()
array([0.33333334, 0.25      , 0.33333334], dtype=float32)
"""
from __future__ import annotations

import numbers

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def local_response_normalization(input: TensorLike, depth_radius: int = 5, bias: float = 1.0,  # noqa: A002
                                 alpha: float = 1.0, beta: float = 0.5, name=None) -> Tensor:
    """``input / (bias + alpha * sqr_sum) ** beta``, ``sqr_sum`` the sum of squares over channels
    ``d - depth_radius .. d + depth_radius`` (the last axis) of a 4-D input."""
    x = as_tensor(input)
    if x.ndim != 4:
        raise ValueError(f"tf.nn.local_response_normalization: input must be 4-D (batch, height, width, channels), "
                         f"got shape {list(x.shape)}")
    if not isinstance(depth_radius, numbers.Integral) or depth_radius < 0:
        raise ValueError(f"tf.nn.local_response_normalization: depth_radius must be a non-negative int, got "
                         f"{depth_radius!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"tf.nn.local_response_normalization: input must be floating point, got {x.dtype}")
    channels = x.shape[-1]
    padded = ops.pad(x * x, ((0, 0), (0, 0), (0, 0), (depth_radius, depth_radius)))
    window = [padded[..., k:k + channels] for k in range(2 * depth_radius + 1)]
    sqr_sum = sum(window[1:], window[0])
    return x / (sqr_sum * alpha + bias) ** beta


lrn = local_response_normalization

__all__ = ["local_response_normalization", "lrn"]
