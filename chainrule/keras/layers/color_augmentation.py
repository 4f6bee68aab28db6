"""Colour augmentations of RGB images: RandomGrayscale, RandomHue, RandomSaturation, RandomColorDegeneration and
RandomColorJitter (brightness, contrast, saturation and hue in turn), with Keras 3's arguments and defaults.

Each acts in training only and draws one value per image; hue and saturation go through HSV
(:mod:`chainrule.keras.ops.image_color`), so the images' gradient flows as in Keras's JAX backend.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
>>> gray = RandomGrayscale(factor=1.0)(images).numpy()
>>> bool(np.allclose(gray[..., 0], gray[..., 2]))
True
>>> bool(np.allclose(RandomSaturation((0.5, 0.5))(images).numpy(), images, atol=1e-3))
True
"""
from __future__ import annotations

from chainrule import ops
from chainrule.keras.layers.augmentation_base import (_Augmentation, _is_number, factor_range, per_image, rescaled,
                                                      value_range_pair)
from chainrule.keras.layers.image_preprocessing import RandomBrightness, RandomContrast
from chainrule.keras.ops import image as image_ops
from chainrule.keras.ops.image_color import hsv_to_rgb, rgb_to_hsv


class RandomGrayscale(_Augmentation):
    """Turn each image grey (its luma in every channel) with probability ``factor``."""

    def __init__(self, factor: float = 0.5, data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if not _is_number(factor) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = float(factor)

    def _sample(self, rng, shape):
        return {"apply": (rng.uniform(0.0, 1.0, shape[0]) < self.factor)[:, None, None, None]}

    def _apply(self, images, drawn):
        return ops.where(drawn["apply"], image_ops.rgb_to_grayscale(images), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class _ColorFactorLayer(_Augmentation):
    """A layer with a ``factor`` range in [0, 1] and a ``value_range`` its output stays in."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.value_range = value_range_pair(value_range, type(self).__name__)

    def _sample(self, rng, shape):
        return {"factor": rng.uniform(self.factor[0], self.factor[1], shape[0])}

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class RandomHue(_ColorFactorLayer):
    """Turn each image's hue by a draw from ``factor`` times half a turn, clockwise or not with equal chance
    (``factor=1`` reaches the opposite hue)."""

    def _sample(self, rng, shape):
        sign = (rng.uniform(0.0, 1.0, shape[0]) <= 0.5) * 2.0 - 1.0  # Keras: -1 where the draw is above 0.5
        return {"shift": sign * rng.uniform(self.factor[0], self.factor[1], shape[0]) * 0.5}

    def _apply(self, images, drawn):
        hsv = rgb_to_hsv(rescaled(images, self.value_range, (0.0, 1.0)))
        hue = hsv[..., 0] + ops.reshape(drawn["shift"], (-1, 1, 1))
        hue = ops.where(hue > 1.0, hue - 1.0, ops.where(hue < 0.0, hue + 1.0, hue))
        rgb = hsv_to_rgb(ops.stack([hue, hsv[..., 1], hsv[..., 2]], axis=-1))
        return rescaled(ops.clip(rgb, 0.0, 1.0), (0.0, 1.0), self.value_range)


class RandomSaturation(_ColorFactorLayer):
    """Scale each image's saturation by ``f / (1 - f)``, ``f`` drawn from ``factor``: 0.5 keeps the image, 0 makes
    it grey, 1 fully saturated. The saturation is clipped to [0, 1] (TensorFlow's adjust_saturation; Keras clips
    to ``value_range``, which lets 0-255 images leave their range)."""

    def _apply(self, images, drawn):
        f = drawn["factor"]
        scale = ops.reshape(f / (1.0 - f + 1e-7), (-1, 1, 1))
        hsv = rgb_to_hsv(images)
        saturation = ops.clip(hsv[..., 1] * scale, 0.0, 1.0)
        return hsv_to_rgb(ops.stack([hsv[..., 0], saturation, hsv[..., 2]], axis=-1))


class RandomColorDegeneration(_ColorFactorLayer):
    """Move each image towards its grey version by a share drawn from ``factor`` (0 keeps it, 1 makes it grey),
    clipped to ``value_range``."""

    def _apply(self, images, drawn):
        gray = image_ops.rgb_to_grayscale(images)
        out = images + per_image(drawn["factor"]) * (gray - images)
        return ops.clip(out, *self.value_range)


class RandomColorJitter(_Augmentation):
    """RandomBrightness, RandomContrast, RandomSaturation and RandomHue in turn, each only when its factor is given."""

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = value_range_pair(value_range, "RandomColorJitter")
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        steps = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        # each step its own seed, so that one given seed does not draw the same numbers for every step
        self.steps = [kind(factor, value_range=self.value_range, seed=None if seed is None else seed + i)
                      for i, (kind, factor) in enumerate(steps) if factor is not None]

    def _augment(self, images):
        for step in self.steps:
            images = step._augment(images)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range),
                "brightness_factor": self.brightness_factor, "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}


__all__ = ["RandomGrayscale", "RandomHue", "RandomSaturation", "RandomColorDegeneration", "RandomColorJitter"]
