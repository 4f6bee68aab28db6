"""Geometric augmentations resampled by projective transforms (:func:`chainrule.ops.image_transform.
affine_transform`, exact gradients in the images): RandomShear and RandomPerspective; and RandomElasticTransform,
resampled along a random smooth displacement field (``keras.ops.image.map_coordinates``); with Keras 3's arguments
and defaults.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
>>> RandomShear(x_factor=0.2, seed=1)(images).shape
TensorShape([2, 8, 8, 3])
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.keras.layers.augmentation_base import _Augmentation, factor_range, value_range_pair
from chainrule.keras.ops.image_filters import gaussian_kernel_1d
from chainrule.keras.ops.image_geometry import homography, map_coordinates
from chainrule.ops.image_transform import affine_transform

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _check_interpolation(interpolation: str) -> str:
    if interpolation not in _INTERPOLATIONS:
        raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}.")
    return interpolation


def _shear_range(factor, name: str) -> tuple[float, float]:
    """RandomShear's factor: f gives (-f, f), a pair is sorted; every number within [0, 1]."""
    message = "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1.0]. "
    values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
    if len(values) not in (1, 2) or (isinstance(factor, (tuple, list)) and len(values) != 2) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v <= 1 for v in values):
        raise ValueError(message + f"Received: {name}={factor}")
    if len(values) == 1:
        return -float(values[0]), float(values[0])
    lower, upper = sorted(float(v) for v in values)
    return lower, upper


class RandomShear(_Augmentation):
    """Shear each image along x by a draw from ``x_factor`` and along y by one from ``y_factor`` (both with one
    random sign per image), resampled with ``interpolation`` and ``fill_mode``."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.x_factor = _shear_range(x_factor, "x_factor")
        self.y_factor = _shear_range(y_factor, "y_factor")
        self._given = (x_factor, y_factor)  # the config keeps them as given: the ranges hold negative numbers
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}.")
        self.interpolation = _check_interpolation(interpolation)
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)

    def _sample(self, rng, shape):
        batch = shape[0]
        sign = np.where(rng.uniform(0.0, 1.0, batch) > 0.5, -1.0, 1.0)
        shear_y = rng.uniform(self.y_factor[0], self.y_factor[1], batch)
        shear_x = rng.uniform(self.x_factor[0], self.x_factor[1], batch)
        one, zero = np.ones(batch), np.zeros(batch)
        return {"transforms": np.stack([one, shear_x * sign, zero, shear_y * sign, one, zero, zero, zero], axis=1)}

    def _apply(self, images, drawn):
        return affine_transform(images, drawn["transforms"], self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        x_factor, y_factor = (list(f) if isinstance(f, tuple) else f for f in self._given)
        return {**super().get_config(), "x_factor": x_factor, "y_factor": y_factor,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value}


class RandomPerspective(_Augmentation):
    """With probability drawn from ``factor``, move each corner of an image by up to ``scale`` / 2 of its
    coordinates (Keras's draw) and warp the image accordingly; outside points read ``fill_value``."""

    def __init__(self, factor=1.0, scale: float = 1.0, interpolation: str = "bilinear", fill_value: float = 0.0,
                 seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 0 <= scale <= 1:
            raise ValueError(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        self.scale = float(scale)
        self.interpolation = _check_interpolation(interpolation)
        self.fill_value = float(fill_value)

    def _sample(self, rng, shape):
        batch, height, width = shape[:3]
        chance = rng.uniform(self.factor[0], self.factor[1], batch)
        apply = rng.uniform(0.0, 1.0, batch) < chance
        moves = rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (batch, 4, 2))
        start = np.broadcast_to([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]],
                                (batch, 4, 2))
        end = np.where(apply[:, None, None], start + start * moves, start)
        return {"transforms": homography(start, end), "apply": apply[:, None, None, None]}

    def _apply(self, images, drawn):
        warped = affine_transform(images, drawn["transforms"], self.interpolation, "constant", self.fill_value)
        return ops.where(drawn["apply"], warped, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _blurred(field: np.ndarray, sigma: float) -> np.ndarray:
    """(n, h, w) blurred along h and w by a Gaussian of ``sigma`` over ``int(6 sigma) | 1`` taps, zero padding
    keeping the size (what keras.ops.image.elastic_transform does to its noise)."""
    taps = int(6 * sigma) | 1
    kernel = gaussian_kernel_1d(taps, sigma, "float64")
    for axis in (1, 2):
        field = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), axis, field)
    return field


class RandomElasticTransform(_Augmentation):
    """With probability drawn from ``factor``, displace each pixel by a smooth random field: normal noise blurred
    by a Gaussian of ``sigma = 0.05 s min(h, w)``, times ``alpha = 0.1 s max(h, w)``, ``s`` drawn once per batch
    from ``scale`` (Keras's parameters); read with ``interpolation`` and ``fill_mode``."""

    _FILL_MODES = ("reflect", "wrap", "constant", "nearest")

    def __init__(self, factor=1.0, scale=1.0, interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, value_range=(0, 255), seed: int | None = None, data_format=None,
                 **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.scale = factor_range(scale, (0, 1), "scale")
        self.interpolation = _check_interpolation(interpolation)
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {self._FILL_MODES}.")
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)
        self.value_range = value_range_pair(value_range, "RandomElasticTransform")

    def _sample(self, rng, shape):
        batch, height, width, channels = shape
        chance = rng.uniform(self.factor[0], self.factor[1], batch)
        apply = rng.uniform(0.0, 1.0, batch) < chance
        strength = rng.uniform(self.scale[0], self.scale[1])
        alpha, sigma = max(height, width) * 0.1 * strength, min(height, width) * 0.05 * strength
        rows = np.broadcast_to(np.arange(height, dtype=np.float64)[None, :, None], (batch, height, width))
        cols = np.broadcast_to(np.arange(width, dtype=np.float64)[None, None, :], (batch, height, width))
        if sigma > 0:
            cols = cols + alpha * _blurred(rng.normal(size=(batch, height, width)) * sigma, sigma)
            rows = rows + alpha * _blurred(rng.normal(size=(batch, height, width)) * sigma, sigma)
        full = (batch, height, width, channels)
        coordinates = np.stack([np.broadcast_to(np.arange(batch, dtype=np.float64)[:, None, None, None], full),
                                np.broadcast_to(rows[..., None], full), np.broadcast_to(cols[..., None], full),
                                np.broadcast_to(np.arange(channels, dtype=np.float64), full)])
        return {"coordinates": coordinates, "apply": apply[:, None, None, None]}

    def _apply(self, images, drawn):
        order = 1 if self.interpolation == "bilinear" else 0
        warped = map_coordinates(images, drawn["coordinates"], order, self.fill_mode, self.fill_value)
        return ops.where(drawn["apply"], warped, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": list(self.value_range)}


__all__ = ["RandomShear", "RandomPerspective", "RandomElasticTransform"]
