"""Filter augmentations: RandomSharpness (blend with a 3x3 smoothing) and RandomGaussianBlur, with Keras 3's
arguments and defaults, each a depthwise convolution of the images (differentiable in them).

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (2, 6, 6, 3)).astype("float32")
>>> bool(np.allclose(RandomSharpness((0.5, 0.5))(images).numpy(), images, atol=1e-4))  # factor 0.5 keeps them
True
>>> RandomGaussianBlur(seed=1)(images).shape
TensorShape([2, 6, 6, 3])
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.keras.layers.augmentation_base import _Augmentation, factor_range, per_image, value_range_pair
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.image_filters import _filtered, _same_pads, gaussian_kernel_1d
from chainrule.ops.depthwise import depthwise_conv2d

SMOOTH = np.array([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0  # PIL's ImageFilter.SMOOTH


class RandomSharpness(_Augmentation):
    """``images + (1 - 2 f) (smoothed - images)``, ``f`` drawn per image from ``factor``: 0 smooths, 0.5 keeps the
    image, 1 sharpens; clipped to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.value_range = value_range_pair(value_range, "RandomSharpness")

    def _sample(self, rng, shape):
        return {"factor": rng.uniform(self.factor[0], self.factor[1], shape[0])}

    def _apply(self, images, drawn):
        smoothed = _filtered(images, SMOOTH, _same_pads(3, 3))
        out = images + (1.0 - per_image(drawn["factor"]) * 2.0) * (smoothed - images)
        return ops.clip(out, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


def _odd_sizes(kernel_size) -> tuple[int, int]:
    sizes = list(kernel_size) if isinstance(kernel_size, (tuple, list)) else [kernel_size, kernel_size]
    if len(sizes) != 2 or not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k > 0 and k % 2
                                  for k in sizes):
        raise ValueError(f"kernel_size must be an odd number. Received: kernel_size={kernel_size}")
    return int(sizes[0]), int(sizes[1])


class RandomGaussianBlur(_Augmentation):
    """Blur each image with probability drawn from ``factor`` by a Gaussian of ``kernel_size`` taps (odd; one
    number or (height, width)), its two sigmas drawn once per batch from ``sigma`` (f gives [0, f])."""

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None,
                 seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.kernel_size = _odd_sizes(kernel_size)
        self.sigma = factor_range(sigma, (0, 1), "sigma")
        self.value_range = value_range_pair(value_range, "RandomGaussianBlur")

    def _sample(self, rng, shape):
        chance = rng.uniform(self.factor[0], self.factor[1], shape[0])
        apply = rng.uniform(0.0, 1.0, shape[0]) < chance
        sigma_y, sigma_x = rng.uniform(self.sigma[0], self.sigma[1], 2) + 1e-6
        (kh, kw), channels = self.kernel_size, shape[-1]
        kernel = np.outer(gaussian_kernel_1d(kh, sigma_y, "float64"), gaussian_kernel_1d(kw, sigma_x, "float64"))
        return {"apply": apply[:, None, None, None], "kernel": np.repeat(kernel[:, :, None, None], channels, axis=2)}

    def _apply(self, images, drawn):
        (top, bottom), (left, right) = _same_pads(*self.kernel_size)
        padded = knp.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
        return ops.where(drawn["apply"], depthwise_conv2d(padded, drawn["kernel"]), images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "kernel_size": list(self.kernel_size),
                "sigma": list(self.sigma), "value_range": list(self.value_range)}


__all__ = ["RandomSharpness", "RandomGaussianBlur"]
