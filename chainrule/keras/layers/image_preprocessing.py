"""Image preprocessing layers: Resizing and CenterCrop (always applied), RandomCrop, RandomContrast and
RandomBrightness (random in training), with Keras 3's arguments and defaults.

Resizing and cropping are :mod:`chainrule.keras.ops.image` (differentiable in the images); the random layers draw
from their SeedGenerator as the other augmentation layers do (:mod:`chainrule.keras.layers.augmentation`), one draw
per image for contrast and brightness, one crop offset per batch, as Keras draws them.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (2, 10, 8, 3)).astype("float32")
>>> Resizing(5, 4)(images).shape, CenterCrop(4, 4)(images).shape
(TensorShape([2, 5, 4, 3]), TensorShape([2, 4, 4, 3]))
>>> RandomCrop(6, 6, seed=1)(images, training=True).shape
TensorShape([2, 6, 6, 3])
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import backend, ops
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor
from chainrule.keras import random as keras_random
from chainrule.keras.layers.augmentation import _ImageAugmentation
from chainrule.keras.ops import image as image_ops


def _size(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{layer}: `{name}` must be a positive int, got {value!r}")
    return int(value)


class _SizedImageLayer(_ImageAugmentation):
    """A layer whose output images are ``height`` x ``width``, in inference as in training."""

    _changes_in_inference = True

    def __init__(self, height: int, width: int, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.height = _size(height, "height", type(self).__name__)
        self.width = _size(width, "width", type(self).__name__)

    def _infer(self, images):
        return self._augment(images)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        shape[axes[0]], shape[axes[1]] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def _without_seed(config: dict) -> dict:
    """A deterministic layer's config: Keras's has no seed."""
    config.pop("seed", None)
    return config


class Resizing(_SizedImageLayer):
    """Resize images to ``height`` x ``width`` ('bilinear', 'nearest', 'bicubic', 'lanczos3' or 'lanczos5', as
    ``keras.ops.image.resize``), optionally cropping or padding them to the target's aspect ratio first."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format=None, **kwargs):
        super().__init__(height, width, None, data_format, **kwargs)
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(f"Resizing: interpolation must be one of {image_ops.INTERPOLATIONS}, got "
                             f"{interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be `True`.")
        self.interpolation, self.crop_to_aspect_ratio = interpolation, bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio, self.fill_mode, self.fill_value = bool(pad_to_aspect_ratio), fill_mode, fill_value
        self.antialias = bool(antialias)

    def _augment(self, images):
        return image_ops.resize(images, (self.height, self.width), interpolation=self.interpolation,
                                antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                                pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                                fill_value=self.fill_value)

    def get_config(self):
        return {**_without_seed(super().get_config()), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio, "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "antialias": self.antialias}


def _centre_or_resize(images, height: int, width: int):
    """The central ``height`` x ``width`` window; an image smaller than that is resized, cropped to the target's
    aspect ratio first (Keras's CenterCrop and RandomCrop in inference)."""
    h, w = images.shape[1], images.shape[2]
    if h < height or w < width:
        return image_ops.resize(images, (height, width), crop_to_aspect_ratio=True)
    top, left = (h - height) // 2, (w - width) // 2
    return images[:, top:top + height, left:left + width]


class CenterCrop(_SizedImageLayer):
    """The central ``height`` x ``width`` window of each image (smaller images are resized to it, keeping the
    aspect ratio by cropping)."""

    def __init__(self, height: int, width: int, data_format=None, **kwargs):
        super().__init__(height, width, None, data_format, **kwargs)

    def _augment(self, images):
        return _centre_or_resize(images, self.height, self.width)

    def get_config(self):
        return _without_seed(super().get_config())


@replayed  # a traced step draws anew on every replay
def _crop_offsets(height_room: int, width_room: int, seed_generator) -> Tensor:
    """One (top, left) offset for the batch, uniform over the room left around the crop."""
    rng = keras_random.draw_generator(seed_generator)
    return Tensor._wrap(np.array([rng.integers(0, height_room + 1), rng.integers(0, width_room + 1)]))


class RandomCrop(_SizedImageLayer):
    """In training, a ``height`` x ``width`` window at a random place (one place per batch, as Keras draws it); in
    inference, the central window (images smaller than the target are resized, keeping the aspect ratio)."""

    def __init__(self, height: int, width: int, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(height, width, seed, data_format, **kwargs)

    def _infer(self, images):
        return _centre_or_resize(images, self.height, self.width)

    def _augment(self, images):
        h, w = images.shape[1], images.shape[2]
        if h < self.height or w < self.width:
            return _centre_or_resize(images, self.height, self.width)
        top, left = (int(v) for v in _crop_offsets(h - self.height, w - self.width, self.seed_generator).numpy())
        return images[:, top:top + self.height, left:left + self.width]


def _value_range(value_range, layer: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: `value_range` must be a pair (low, high), got {value_range!r}") from None
    if not low < high:
        raise ValueError(f"{layer}: `value_range` must have low < high, got {value_range!r}")
    return low, high


@replayed  # a traced step draws anew on every replay
def _per_image(batch: int, low: float, high: float, dtype: str, seed_generator) -> Tensor:
    """One uniform draw in [low, high) per image, shaped (batch, 1, 1, 1)."""
    draws = keras_random.draw_generator(seed_generator).uniform(low, high, (batch, 1, 1, 1))
    return Tensor._wrap(backend.to_device(draws.astype(dtype)))  # drawn on the host, moved once


class RandomContrast(_ImageAugmentation):
    """In training, scale each image's deviation from its per-channel mean by a factor drawn from
    [1 - lower, 1 + upper] (``factor`` = f gives lower = upper = f), then clip to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed, kwargs.pop("data_format", None), **kwargs)
        pair = tuple(factor) if isinstance(factor, (tuple, list)) else (factor, factor)
        if len(pair) != 2 or any(isinstance(f, bool) or not isinstance(f, numbers.Real) or not 0 <= f <= 1
                                 for f in pair):
            raise ValueError(f"The `factor` argument should be a number (or a list of two numbers) in the range "
                             f"[0.0, 1.0]. Received: factor={factor}")
        self.factor = factor
        self._lower, self._upper = (float(f) for f in pair)
        self.value_range = _value_range(value_range, "RandomContrast")

    def _augment(self, images):
        factor = _per_image(images.shape[0], 1.0 - self._lower, 1.0 + self._upper, images.dtype.name,
                            self.seed_generator)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        return ops.clip((images - mean) * factor + mean, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}


class RandomBrightness(_ImageAugmentation):
    """In training, add to each image a delta drawn from ``factor`` (f gives [-f, f]; a pair (a, b)) times the width
    of ``value_range``, the same for every channel, then clip to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed, kwargs.pop("data_format", None), **kwargs)
        pair = tuple(factor) if isinstance(factor, (tuple, list)) else (-abs(factor), abs(factor))
        if len(pair) != 2 or any(isinstance(f, bool) or not isinstance(f, numbers.Real) or not -1 <= f <= 1
                                 for f in pair):
            raise ValueError(f"The `factor` argument should be a number (or a list of two numbers) in the range "
                             f"[-1.0, 1.0]. Received: factor={factor}")
        self.factor = factor
        self._lower, self._upper = sorted(float(f) for f in pair)
        self.value_range = _value_range(value_range, "RandomBrightness")

    def _augment(self, images):
        span = self.value_range[1] - self.value_range[0]
        delta = _per_image(images.shape[0], self._lower * span, self._upper * span, images.dtype.name,
                           self.seed_generator)
        return ops.clip(images + delta, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}


__all__ = ["CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "Resizing"]
