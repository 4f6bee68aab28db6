"""``keras.ops.image.rgb_to_hsv`` and ``hsv_to_rgb``: colour-space conversions of float images (N, H, W, 3) or one
image (H, W, 3), built from ops so that gradients flow to the images (as Keras's, which follow dm_pix).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> hsv = ops.image.rgb_to_hsv(np.array([[[1.0, 0.5, 0.0]]], "float32"))
>>> [round(v, 4) for v in hsv.numpy()[0, 0].tolist()]
[0.0833, 1.0, 1.0]
>>> [round(v, 4) for v in ops.image.hsv_to_rgb(hsv).numpy()[0, 0].tolist()]
[1.0, 0.5, 0.0]
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.image import from_channels_last, is_channels_first, to_channels_last
from chainrule.keras.ops.symbolic import wrap_namespace


def _three_planes(images: TensorLike, fn: str, first: bool) -> tuple[Tensor, Tensor, Tensor]:
    """The three channel planes of float images, or Keras's errors for a wrong rank or dtype."""
    images = knp.to_tensor(images, "images")
    if images.ndim not in (3, 4):
        raise ValueError(f"{fn}: Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(images.shape)}")
    if images.dtype.kind != "f":
        raise ValueError(f"{fn}: Invalid images dtype: expected float dtype. Received: images.dtype={images.dtype}")
    images = to_channels_last(images, first)
    if images.shape[-1] != 3:
        raise ValueError(f"{fn}: images must have 3 channels, got shape {tuple(images.shape)}")
    return images[..., 0], images[..., 1], images[..., 2]


def rgb_to_hsv(images: TensorLike, data_format: str | None = None) -> Tensor:
    """Hue, saturation and value in [0, 1] of RGB images in [0, 1] (values within the dtype's eps of 0 count as 0)."""
    first = is_channels_first(data_format, "rgb_to_hsv")
    red, green, blue = _three_planes(images, "rgb_to_hsv", first)
    eps = float(np.finfo(red.dtype).eps)
    red, green, blue = (knp.where(knp.abs(p) < eps, 0.0, p) for p in (red, green, blue))
    value = knp.maximum(knp.maximum(red, green), blue)
    spread = value - knp.minimum(knp.minimum(red, green), blue)
    # the safe denominators keep the unused branch of each `where` finite, so its gradient is 0, not NaN
    saturation = knp.where(value > 0, spread / knp.where(value > 0, value, 1.0), 0.0)
    scale = 1.0 / (6.0 * knp.where(spread > 0, spread, 1.0))
    hue = knp.where(value == green, scale * (blue - red) + 2.0 / 6.0, scale * (red - green) + 4.0 / 6.0)
    hue = knp.where(value == red, scale * (green - blue), hue)
    hue = knp.where(spread > 0, hue, 0.0)
    hue = hue + knp.cast(hue < 0.0, hue.dtype)
    return from_channels_last(knp.stack([hue, saturation, value], axis=-1), first)


def hsv_to_rgb(images: TensorLike, data_format: str | None = None) -> Tensor:
    """RGB images from hue, saturation and value planes (hue wraps around at 1)."""
    first = is_channels_first(data_format, "hsv_to_rgb")
    hue, saturation, value = _three_planes(images, "hsv_to_rgb", first)
    sector = knp.mod(hue, 1.0) * 6.0
    # each channel's share: a piecewise-linear function of the hue sector, 1 where the channel is the brightest
    shares = (knp.clip(knp.abs(sector - 3.0) - 1.0, 0.0, 1.0),
              knp.clip(2.0 - knp.abs(sector - 2.0), 0.0, 1.0),
              knp.clip(2.0 - knp.abs(sector - 4.0), 0.0, 1.0))
    return from_channels_last(knp.stack([value * (1.0 - saturation + saturation * share) for share in shares],
                                        axis=-1), first)


__all__ = ["hsv_to_rgb", "rgb_to_hsv"]
wrap_namespace(globals(), __all__, "keras.ops.image.")
