"""``tf.image``'s HSV colour ops: ``rgb_to_hsv``, ``hsv_to_rgb``, ``adjust_saturation`` and ``adjust_hue``, on the
last axis of RGB images (any leading axes). Integer images are converted to floats in [0, 1] and back, as
TensorFlow does; the ops are not differentiable (TensorFlow registers no gradient for AdjustSaturation/AdjustHue).

>>> import numpy as np
>>> import chainrule as tf
>>> [round(v, 4) for v in tf.image.rgb_to_hsv(np.array([1.0, 0.5, 0.0], "float32")).numpy().tolist()]
[0.0833, 1.0, 1.0]
>>> tf.image.adjust_saturation(np.array([[0.8, 0.4, 0.4]], "float32"), 0.0).numpy().tolist()  # grey
[[0.800000011920929, 0.800000011920929, 0.800000011920929]]
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def _rgb(images: TensorLike, fn: str) -> tuple[np.ndarray, np.dtype]:
    array = np.asarray(backend.to_host(as_tensor(images).data))
    if array.ndim < 1 or array.shape[-1] != 3:
        raise ValueError(f"tf.image.{fn}: the last axis must hold 3 channels (RGB), got shape {array.shape}")
    if array.dtype.kind == "f":
        return array.astype(np.float64), array.dtype
    if array.dtype.kind not in "iu":
        raise TypeError(f"tf.image.{fn}: images must be floats or integers, got {array.dtype}")
    return array / np.iinfo(array.dtype).max, array.dtype


def _back(values: np.ndarray, dtype: np.dtype) -> Tensor:
    if dtype.kind != "f":  # back to the integer range, saturating (convert_image_dtype(saturate=True))
        top = np.iinfo(dtype).max
        values = np.clip(np.round(values * top), 0, top)
    return Tensor._wrap(backend.xp.asarray(values.astype(dtype)))


def _to_hsv(rgb: np.ndarray) -> np.ndarray:
    top, bottom = rgb.max(axis=-1), rgb.min(axis=-1)
    spread = top - bottom
    safe = np.where(spread > 0, spread, 1.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(top == r, (g - b) / safe, np.where(top == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    hue = np.where(spread > 0, (hue / 6.0) % 1.0, 0.0)
    saturation = np.where(top > 0, spread / np.where(top > 0, top, 1.0), 0.0)
    return np.stack([hue, saturation, top], axis=-1)


def _to_rgb(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    sector = (h % 1.0) * 6.0
    # each channel's distance around the hue circle, TensorFlow's (and colorsys's) piecewise-linear formula
    channels = [v * (1.0 - s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
                for k in ((sector + n) % 6.0 for n in (5.0, 3.0, 1.0))]
    return np.stack(channels, axis=-1)


def rgb_to_hsv(images: TensorLike, name=None) -> Tensor:
    """Hue, saturation and value, each in [0, 1], of float RGB images in [0, 1]."""
    rgb, dtype = _rgb(images, "rgb_to_hsv")
    return Tensor._wrap(backend.xp.asarray(_to_hsv(rgb).astype(dtype if dtype.kind == "f" else np.float32)))


def hsv_to_rgb(images: TensorLike, name=None) -> Tensor:
    """RGB of float HSV images (each channel in [0, 1])."""
    hsv, dtype = _rgb(images, "hsv_to_rgb")
    return Tensor._wrap(backend.xp.asarray(_to_rgb(hsv).astype(dtype if dtype.kind == "f" else np.float32)))


def adjust_saturation(image: TensorLike, saturation_factor: float, name=None) -> Tensor:
    """The images with their saturation multiplied by ``saturation_factor`` (clipped to [0, 1]), in HSV."""
    rgb, dtype = _rgb(image, "adjust_saturation")
    hsv = _to_hsv(rgb)
    hsv[..., 1] = np.clip(hsv[..., 1] * float(saturation_factor), 0.0, 1.0)
    return _back(_to_rgb(hsv), dtype)


def adjust_hue(image: TensorLike, delta: float, name=None) -> Tensor:
    """The images with ``delta`` (in [-1, 1]: a fraction of the hue circle) added to their hue, in HSV."""
    if not -1.0 <= float(delta) <= 1.0:
        raise ValueError(f"tf.image.adjust_hue: delta must be in the interval [-1, 1], got {delta}")
    rgb, dtype = _rgb(image, "adjust_hue")
    hsv = _to_hsv(rgb)
    hsv[..., 0] = (hsv[..., 0] + float(delta)) % 1.0
    return _back(_to_rgb(hsv), dtype)


__all__ = ["adjust_hue", "adjust_saturation", "hsv_to_rgb", "rgb_to_hsv"]
