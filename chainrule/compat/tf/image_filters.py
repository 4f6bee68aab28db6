"""``tf.image``'s filters and colour spaces: ``sobel_edges`` (REFLECT padding, as TensorFlow), ``ssim``,
``image_gradients``, ``rgb_to_yiq``/``yiq_to_rgb``, ``rgb_to_yuv``/``yuv_to_rgb`` and ``adjust_gamma``, built from
ops (differentiable with respect to the images).

>>> import numpy as np
>>> import chainrule as tf
>>> image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> dy, dx = tf.image.image_gradients(image)
>>> dy.numpy()[0, :, 0, 0], dx.numpy()[0, 0, :, 0]
(array([4., 4., 4., 0.], dtype=float32), array([1., 1., 1., 0.], dtype=float32))
>>> tf.image.sobel_edges(image).shape
TensorShape([1, 4, 4, 1, 2])
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.image_filters import SOBEL_X, SOBEL_Y, _filtered
from chainrule.keras.ops.image_filters import ssim as _keras_ssim

# TensorFlow's colour-space matrices (pixel rows times the matrix)
RGB_TO_YIQ = ((0.299, 0.59590059, 0.2115), (0.587, -0.27455667, -0.52273617), (0.114, -0.32134392, 0.31119955))
YIQ_TO_RGB = ((1.0, 1.0, 1.0), (0.95598634, -0.27201283, -1.10674021), (0.6208248, -0.64720424, 1.70423049))
RGB_TO_YUV = ((0.299, -0.14714119, 0.61497538), (0.587, -0.28886916, -0.51496512), (0.114, 0.43601035, -0.10001026))
YUV_TO_RGB = ((1.0, 1.0, 1.0), (0.0, -0.394642334, 2.03206185), (1.13988303, -0.58062185, 0.0))


def _nhwc(image: TensorLike, fn: str) -> Tensor:
    x = as_tensor(image)
    if x.ndim != 4:
        raise ValueError(f"tf.image.{fn}: expected a 4-D batch of images (batch, height, width, channels), got shape "
                         f"{tuple(x.shape)}")
    return x if x.dtype.kind == "f" else knp.cast(x, "float32")


def sobel_edges(image: TensorLike) -> Tensor:
    """The Sobel gradients [d/dy, d/dx] of each channel, the border padded by reflection: (N, H, W, C, 2)."""
    x = _nhwc(image, "sobel_edges")
    padded = knp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    return knp.stack([_filtered(padded, np.asarray(k), ((0, 0), (0, 0))) for k in (SOBEL_Y, SOBEL_X)], axis=-1)


def image_gradients(image: TensorLike) -> tuple[Tensor, Tensor]:
    """``(dy, dx)``: each pixel's difference to the next one down and to the right, 0 in the last row/column."""
    x = _nhwc(image, "image_gradients")
    dy = knp.pad(x[:, 1:] - x[:, :-1], ((0, 0), (0, 1), (0, 0), (0, 0)))
    dx = knp.pad(x[:, :, 1:] - x[:, :, :-1], ((0, 0), (0, 0), (0, 1), (0, 0)))
    return dy, dx


def ssim(img1: TensorLike, img2: TensorLike, max_val: float, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, return_index_map: bool = False) -> Tensor:
    """The mean structural similarity of each pair of images over Gaussian windows (no padding) and channels."""
    if return_index_map:
        raise NotImplementedError("tf.image.ssim: return_index_map=True is not supported; chainrule returns the mean "
                                  "SSIM of each image")
    return _keras_ssim(img1, img2, max_val=max_val, filter_size=filter_size, filter_sigma=filter_sigma, k1=k1, k2=k2)


def _mixed(images: TensorLike, matrix, fn: str) -> Tensor:
    x = as_tensor(images)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"tf.image.{fn}: the last axis must hold 3 channels, got shape {tuple(x.shape)}")
    x = x if x.dtype.kind == "f" else knp.cast(x, "float32")
    return knp.tensordot(x, np.asarray(matrix, dtype=x.dtype), axes=1)


def rgb_to_yiq(images: TensorLike) -> Tensor:
    """RGB to YIQ (luma and two chroma channels)."""
    return _mixed(images, RGB_TO_YIQ, "rgb_to_yiq")


def yiq_to_rgb(images: TensorLike) -> Tensor:
    """YIQ to RGB."""
    return _mixed(images, YIQ_TO_RGB, "yiq_to_rgb")


def rgb_to_yuv(images: TensorLike) -> Tensor:
    """RGB to YUV."""
    return _mixed(images, RGB_TO_YUV, "rgb_to_yuv")


def yuv_to_rgb(images: TensorLike) -> Tensor:
    """YUV to RGB."""
    return _mixed(images, YUV_TO_RGB, "yuv_to_rgb")


def adjust_gamma(image: TensorLike, gamma: float = 1, gain: float = 1) -> Tensor:
    """``gain * image ** gamma`` (integer images scaled to [0, 1] and back, as TensorFlow)."""
    x = as_tensor(image)
    if gamma < 0:
        raise ValueError(f"tf.image.adjust_gamma: gamma must be non-negative, got {gamma}")
    if x.dtype.kind == "f":
        return knp.power(x, float(gamma)) * float(gain)
    top = float(np.iinfo(x.dtype).max)
    scaled = knp.power(knp.cast(x, "float32") / top, float(gamma)) * float(gain)
    return knp.cast(knp.clip(knp.round(scaled * top), 0, top), x.dtype)


__all__ = ["adjust_gamma", "image_gradients", "rgb_to_yiq", "rgb_to_yuv", "sobel_edges", "ssim", "yiq_to_rgb",
           "yuv_to_rgb"]
