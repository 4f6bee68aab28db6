"""Image augmentation layers: RandomFlip, RandomRotation, RandomTranslation, RandomZoom, with Keras 3's arguments,
defaults and random draws.

They act in training only: ``training=False`` (``predict``, ``evaluate``) returns the images unchanged, cast to the
layer's dtype. Called with no ``training`` (directly, or in a model called directly) they augment, as Keras's
image preprocessing layers, whose ``call`` defaults to ``training=True``.

Each call draws one transform per image from the layer's SeedGenerator (``keras.random``: the same seed gives the
same sequence; a traced training step draws anew at each replay) and resamples the images with
:func:`chainrule.ops.image_transform.affine_transform` (rotation, translation, zoom) or flips them. As in Keras's
JAX and PyTorch backends the result is differentiable with respect to the images (the exact gradient of the
resampling), so a model with an augmentation layer after trainable layers still trains them; the random transform
itself gets no gradient.

>>> import numpy as np
>>> images = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
>>> layer = RandomRotation(0.1, seed=1)
>>> layer(images, training=True).shape
TensorShape([2, 8, 8, 3])
>>> bool((layer(images, training=False).numpy() == images).all())
True
"""
from __future__ import annotations

import numpy as np

from chainrule import backend, ops
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor
from chainrule.keras import random as keras_random
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.core import check_data_format
from chainrule.ops.image_transform import affine_transform

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class _ImageAugmentation(Layer):
    """Images (batch, height, width, channels) or one image (height, width, channels), channels first with
    ``data_format='channels_first'``; ``_augment`` transforms a channels-last batch in training."""

    def __init__(self, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__, allow_channels_first=True)
        self.seed = seed
        self.seed_generator = keras_random.SeedGenerator(seed)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):  # Keras's {"images": ..., "labels": ...}: the labels pass through
            if "images" not in inputs or set(inputs) - {"images", "labels"}:
                raise NotImplementedError(f"{type(self).__name__}: a dict input holds 'images' and optionally "
                                          f"'labels'; got keys {sorted(inputs)} (bounding boxes and segmentation "
                                          f"masks are not supported)")
            return {**inputs, "images": self.call(inputs["images"], training)}
        if inputs.ndim not in (3, 4):
            raise ValueError(f"Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                             f"Received: data.shape={inputs.shape}")
        images = inputs if inputs.dtype == np.dtype(self.compute_dtype) else ops.cast(inputs, self.compute_dtype)
        if not training and not self._changes_in_inference:
            return images
        single = images.ndim == 3
        if single:
            images = ops.expand_dims(images, 0)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 2, 3, 1))
        images = self._augment(images) if training else self._infer(images)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 3, 1, 2))
        return ops.squeeze(images, 0) if single else images

    _changes_in_inference = False  # True for the resizing and cropping layers, whose output size never changes

    def _augment(self, images):
        raise NotImplementedError

    def _infer(self, images):
        """What a layer whose ``_changes_in_inference`` does to a channels-last batch outside training."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


@replayed  # a traced step draws anew on every replay
def _flip_draw(batch: int, dtype: str, seed_generator) -> Tensor:
    """Which images to flip: uniform draws <= 0.5, one per image (Keras's RandomFlip), as a (batch, 1, 1, 1) mask of
    ones (flip) and zeros."""
    draws = keras_random.draw_generator(seed_generator).uniform(0.0, 1.0, (batch, 1, 1, 1))
    return Tensor._wrap(backend.to_device((draws <= 0.5).astype(dtype)))  # drawn on the host, moved once


class RandomFlip(_ImageAugmentation):
    """Flip each image left-right ('horizontal'), upside down ('vertical') or both ('horizontal_and_vertical', the
    default: one draw per image decides both flips), each with probability 1/2."""

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(f"RandomFlip: mode must be '{HORIZONTAL}', '{VERTICAL}' or '{HORIZONTAL_AND_VERTICAL}'. "
                             f"Received: mode={mode!r}")
        self.mode = mode

    def _augment(self, images):
        flip = _flip_draw(images.shape[0], images.dtype.name, self.seed_generator)
        keep = 1.0 - flip
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):  # 1 * flipped + 0 * image: the flipped values exactly
            images = images[:, :, ::-1] * flip + images * keep
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            images = images[:, ::-1] * flip + images * keep
        return images

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


# --- resampling layers ----------------------------------------------------------------------------------------------
def _factor_range(factor, name: str, low: float, low_open: bool, message: str) -> tuple[float, float]:
    """Keras's factor: a number f gives (-f, f), a pair (a, b) gives (min, max); each within [low, 1] (or (low, 1])."""
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v > 1 or v < low or (low_open and v == low):
            raise ValueError(message + f"Received: {name}={factor}")

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(message + f"Received: {name}={factor}")
        check(factor[0])
        check(factor[1])
        lower, upper = sorted(float(f) for f in factor)
        return lower, upper
    check(factor)
    return -abs(float(factor)), abs(float(factor))


@replayed  # a traced step draws anew on every replay
def _random_transforms(kind: str, batch: int, height: int, width: int, ranges: tuple, seed_generator) -> Tensor:
    """One projective transform (8 numbers, Keras's layout) per image, drawn as Keras's layers draw them."""
    rng = keras_random.draw_generator(seed_generator)
    one, zero = np.ones(batch), np.zeros(batch)
    if kind == "rotation":
        (lower, upper), = ranges
        angle = np.radians(rng.uniform(lower * 360.0, upper * 360.0, batch))
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        a0, a1, b0, b1 = np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)
        rows = [a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, zero, zero]
    elif kind == "translation":  # Keras draws the height shift, then the width shift (fractions of the size)
        (h_low, h_high), (w_low, w_high) = ranges
        dy = rng.uniform(h_low, h_high, batch) * height
        dx = rng.uniform(w_low, w_high, batch) * width
        rows = [one, zero, -dx, zero, one, -dy, zero, zero]
    else:  # zoom: 1 + factor, the width's own draw only when a width factor is given
        (h_low, h_high), widths = ranges[0], ranges[1]
        zy = rng.uniform(1.0 + h_low, 1.0 + h_high, batch)
        zx = zy if widths is None else rng.uniform(1.0 + widths[0], 1.0 + widths[1], batch)
        rows = [zx, zero, (width - 1) / 2.0 * (1 - zx), zero, zy, (height - 1) / 2.0 * (1 - zy), zero, zero]
    return Tensor._wrap(backend.to_device(np.stack(rows, axis=1)))  # drawn on the host, moved once


class _RandomResample(_ImageAugmentation):
    """A random projective transform per image, resampled with ``interpolation`` and ``fill_mode``."""

    _FILL_MODES = ("reflect", "wrap", "constant", "nearest")
    _INTERPOLATIONS = ("nearest", "bilinear")
    _kind = ""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {self._FILL_MODES}.")
        if interpolation not in self._INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one "
                                      f"{self._INTERPOLATIONS}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _ranges(self) -> tuple:
        raise NotImplementedError

    def _augment(self, images):
        n, h, w, _ = images.shape
        transforms = _random_transforms(self._kind, n, h, w, self._ranges(), self.seed_generator)
        return affine_transform(images, transforms, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation}


class RandomRotation(_RandomResample):
    """Rotate each image about its centre by an angle drawn from ``factor`` (a fraction of a full turn: 0.1 is up
    to ±36°, (a, b) between a and b turns; positive angles turn counter-clockwise on screen)."""

    _kind = "rotation"

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        message = "The `factor` argument should be a number (or a list of two numbers) in the range [-1, 1]. "
        self.factor = _factor_range(factor, "factor", -1.0, False, message)

    def _ranges(self):
        return (self.factor,)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomTranslation(_RandomResample):
    """Shift each image by fractions of its height and width drawn from ``height_factor`` and ``width_factor``
    (0.2 is up to ±20%; (a, b) between a and b)."""

    _kind = "translation"
    _MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _factor_range(height_factor, "height_factor", -1.0, False, self._MESSAGE)
        self._width = _factor_range(width_factor, "width_factor", -1.0, False, self._MESSAGE)

    def _ranges(self):
        return self._height, self._width

    def get_config(self):
        return {**super().get_config(), "height_factor": _listed(self.height_factor),
                "width_factor": _listed(self.width_factor)}


class RandomZoom(_RandomResample):
    """Zoom each image about its centre by ``1 + factor``, the factor drawn from ``height_factor`` (and
    ``width_factor``; None keeps the aspect ratio). Positive factors zoom out, negative ones zoom in, as in Keras."""

    _kind = "zoom"
    _MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) in "
                "the range (-1.0, 1.0]. ")

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _factor_range(height_factor, "height_factor", -1.0, True, self._MESSAGE)
        self._width = (None if width_factor is None
                       else _factor_range(width_factor, "width_factor", -1.0, True, self._MESSAGE))

    def _ranges(self):
        return self._height, self._width

    def get_config(self):
        return {**super().get_config(), "height_factor": _listed(self.height_factor),
                "width_factor": _listed(self.width_factor)}


def _listed(factor):
    return list(factor) if isinstance(factor, tuple) else factor


__all__ = ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]
