"""What Keras 3's newer image augmentation layers (MixUp, CutMix, RandAugment, the colour and tone layers) share:
a dict input ``{"images": ..., "labels": ...}`` besides a plain image batch (labels are mixed by MixUp and CutMix,
passed through by the others), one random draw per call from the layer's SeedGenerator, and Keras's argument
checks (``factor`` ranges, ``value_range``).

A layer draws its transformation once per call (``_sample``: NumPy arrays from a NumPy generator, as a replayed
draw, so a traced training step draws anew on every replay), then applies it to the channels-last images with ops
(``_apply``, differentiable in the images wherever the transform is) and, given labels, to the labels.

>>> import numpy as np
>>> factor_range(0.3, (0, 1))
(0.0, 0.3)
>>> factor_range((0.5, 0.2), (-1, 1))
(0.2, 0.5)
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import backend, ops
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras import random as keras_random
from chainrule.keras.layers.augmentation import _ImageAugmentation


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def factor_range(factor, bounds: tuple[float, float], name: str = "factor") -> tuple[float, float]:
    """Keras's ``_set_factor``: a number f gives (max(-f, low), f), a pair gives (min, max); every number within
    ``bounds``, else Keras's message."""
    low, high = bounds
    message = (f"The `{name}` argument should be a number (or a list of two numbers) in the range [{low}, {high}]. "
               f"Received: {name}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_is_number(f) and low <= f <= high for f in factor):
            raise ValueError(message)
        lower, upper = sorted(float(f) for f in factor)
        return lower, upper
    if not _is_number(factor) or not low <= factor <= high:
        raise ValueError(message)
    return float(max(-abs(factor), low)), float(abs(factor))


def value_range_pair(value_range, layer: str) -> tuple[float, float]:
    """``value_range`` as (low, high), sorted as Keras sorts it; anything but two numbers is refused."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(map(_is_number, value_range)):
        raise ValueError(f"{layer}: The `value_range` argument should be a list of two numbers. Received: "
                         f"value_range={value_range}")
    low, high = sorted(float(v) for v in value_range)
    if low == high:
        raise ValueError(f"{layer}: `value_range` must have low < high, got {value_range!r}")
    return low, high


def rescaled(images: Tensor, source: tuple[float, float], target: tuple[float, float]) -> Tensor:
    """Images mapped linearly from the ``source`` value range onto ``target`` (Keras's _transform_value_range)."""
    if tuple(source) == tuple(target):
        return images
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return (images - source[0]) * scale + target[0]


@replayed  # a traced step draws anew on every replay
def draw(sample, shape: tuple, dtype: str, seed_generator) -> dict:
    """``sample(rng, shape)``'s arrays as Tensors (floating ones in the images' ``dtype``), ``rng`` the layer's
    next NumPy generator."""
    arrays = sample(keras_random.draw_generator(seed_generator), shape)
    # drawn on the host, moved once to the images' device
    return {key: Tensor._wrap(backend.to_device(np.asarray(value, dtype=dtype) if np.asarray(value).dtype.kind == "f"
                                                else np.asarray(value))) for key, value in arrays.items()}


class _Augmentation(_ImageAugmentation):
    """An augmentation layer that takes images or ``{"images", "labels"}``: ``_sample`` draws, ``_apply`` changes a
    channels-last batch, ``_transform_labels`` the labels (unchanged unless the layer mixes images)."""

    _in_dict_call = False

    def call(self, inputs, training=True):
        if not isinstance(inputs, dict):
            outputs = super().call(inputs, training)
            if not self._in_dict_call:
                self._drawn = None  # kept only for a dict's labels: a draw can be image-sized
            return outputs
        self._drawn, self._in_dict_call = None, True
        try:
            outputs = super().call(inputs, training)  # the keys checked, the images transformed, the labels kept
        finally:
            self._in_dict_call = False
        if "labels" in inputs and self._drawn is not None:
            outputs["labels"] = self._transform_labels(as_tensor(inputs["labels"]), self._drawn)
        self._drawn = None
        return outputs

    def _augment(self, images):
        drawn = draw(self._sample, tuple(images.shape), images.dtype.name, self.seed_generator)
        self._drawn = drawn  # the labels of a dict input take the same draw
        return self._apply(images, drawn)

    def _sample(self, rng: np.random.Generator, shape: tuple) -> dict:
        """The transformation for images of ``shape`` (batch, height, width, channels), as NumPy arrays."""
        return {}

    def _apply(self, images: Tensor, drawn: dict) -> Tensor:
        raise NotImplementedError

    def _transform_labels(self, labels: Tensor, drawn: dict) -> Tensor:
        return labels

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def per_image(values: Tensor) -> Tensor:
    """(batch,) values shaped to broadcast over (batch, height, width, channels) images."""
    return ops.reshape(values, (-1, 1, 1, 1))


__all__ = ["factor_range", "value_range_pair", "rescaled", "draw", "per_image"]
