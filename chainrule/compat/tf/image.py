"""``tf.image``: resizing, flips and rotations, crops and pads, colour and contrast, patches, image metrics.

Images are (height, width, channels) or batches (N, height, width, channels), as in TensorFlow. Resizing, crops,
flips, patches, grayscale, brightness and standardization are differentiable; ``adjust_contrast`` is not, and asking
a tape for its gradient raises TensorFlow's ``LookupError`` (the autodiff guide's example of an op without one).

>>> import numpy as np
>>> import chainrule as tf
>>> image = tf.constant(np.arange(16.0).reshape(4, 4, 1))
>>> tf.image.resize(image, (2, 2)).numpy()[..., 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]], dtype=float32)
>>> tf.image.flip_left_right(image).numpy()[0, :, 0]
array([3., 2., 1., 0.])
>>> tf.image.central_crop(image, 0.5).shape
TensorShape([2, 2, 1])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function
from chainrule.engine.tensor import Tensor
from chainrule.keras.ops import image as _kimage
from chainrule.keras.ops import numpy as knp
from chainrule.ops.random import uniform as _uniform
from chainrule.compat.tf.image_color import adjust_hue, adjust_saturation, hsv_to_rgb, rgb_to_hsv
from chainrule.compat.tf.image_codecs import (decode_bmp, decode_gif, decode_image, decode_jpeg,  # noqa: F401
                                           decode_png, encode_jpeg, encode_png, is_jpeg)

TensorLike = Tensor | np.ndarray | float


class ResizeMethod:
    """The names ``tf.image.resize`` takes for ``method``."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


def _image(image: TensorLike, fn: str, least: int = 3) -> Tensor:
    image = knp.to_tensor(image)
    if image.ndim < least or image.ndim > 4:
        raise ValueError(f"tf.image.{fn}: 'image' (shape {tuple(image.shape)}) must be 3-D (height, width, channels) "
                         f"or 4-D (batch, height, width, channels)")
    return image


def resize(images: TensorLike, size, method: str = ResizeMethod.BILINEAR, preserve_aspect_ratio: bool = False,
           antialias: bool = False, name=None) -> Tensor:
    """Resize to ``size`` = [height, width]: float32 out, except 'nearest', which keeps the dtype (TensorFlow's
    rule); ``preserve_aspect_ratio`` fits the image inside ``size`` instead of filling it."""
    images = _image(images, "resize")
    height, width = (int(s) for s in np.asarray(size.numpy() if isinstance(size, Tensor) else size).reshape(-1))
    if preserve_aspect_ratio:
        scale = min(height / images.shape[-3], width / images.shape[-2])
        height = max(int(round(images.shape[-3] * scale)), 1)
        width = max(int(round(images.shape[-2] * scale)), 1)
    if method != ResizeMethod.NEAREST_NEIGHBOR and images.dtype.kind != "f":
        images = knp.cast(images, "float32")  # TensorFlow interpolates integers as floats, unrounded
    out = _kimage.resize(images, (height, width), interpolation=str(method), antialias=antialias)
    return out if method == ResizeMethod.NEAREST_NEIGHBOR else knp.cast(out, "float32")


def resize_with_pad(image: TensorLike, target_height: int, target_width: int, method: str = ResizeMethod.BILINEAR,
                    antialias: bool = False) -> Tensor:
    """Resize keeping the aspect ratio, then pad with zeros to ``target_height`` x ``target_width``, centred."""
    resized = resize(image, (target_height, target_width), method, preserve_aspect_ratio=True, antialias=antialias)
    return resize_with_crop_or_pad(resized, target_height, target_width)


def flip_left_right(image: TensorLike) -> Tensor:
    """The image mirrored across its vertical axis (columns reversed)."""
    return knp.flip(_image(image, "flip_left_right"), axis=-2)


def flip_up_down(image: TensorLike) -> Tensor:
    """The image mirrored across its horizontal axis (rows reversed)."""
    return knp.flip(_image(image, "flip_up_down"), axis=-3)


def transpose(image: TensorLike, name=None) -> Tensor:
    """Rows and columns swapped."""
    image = _image(image, "transpose")
    axes = list(range(image.ndim))
    axes[-3], axes[-2] = axes[-2], axes[-3]
    return knp.transpose(image, axes)


def rot90(image: TensorLike, k: int = 1, name=None) -> Tensor:
    """The image turned ``k`` quarter turns counter-clockwise."""
    image = _image(image, "rot90")
    k = int(k) % 4
    if k == 1:
        return flip_up_down(transpose(image))
    if k == 2:
        return flip_up_down(flip_left_right(image))
    if k == 3:
        return transpose(flip_up_down(image))
    return image


def _random_flip(image: TensorLike, seed, flip, fn: str) -> Tensor:
    image = _image(image, fn)
    if image.ndim == 3:
        return flip(image) if float(_uniform((), seed=seed).numpy()) < 0.5 else image
    chosen = _uniform((image.shape[0], 1, 1, 1), seed=seed) < 0.5
    return knp.where(chosen, flip(image), image)


def random_flip_left_right(image: TensorLike, seed=None) -> Tensor:
    """Each image mirrored left-right with probability 1/2."""
    return _random_flip(image, seed, flip_left_right, "random_flip_left_right")


def random_flip_up_down(image: TensorLike, seed=None) -> Tensor:
    """Each image mirrored up-down with probability 1/2."""
    return _random_flip(image, seed, flip_up_down, "random_flip_up_down")


def _float(image: Tensor) -> tuple[Tensor, object]:
    """The image as floats in [0, 1] (integers scaled as convert_image_dtype does), and the dtype to return."""
    return (image, image.dtype) if image.dtype.kind == "f" else (convert_image_dtype(image, "float32"), image.dtype)


def adjust_brightness(image: TensorLike, delta: float) -> Tensor:
    """``image + delta`` (integer images are converted to floats in [0, 1] and back)."""
    image, dtype = _float(_image(image, "adjust_brightness"))
    return convert_image_dtype(image + delta, dtype, saturate=True) if dtype.kind != "f" else image + delta


def random_brightness(image: TensorLike, max_delta: float, seed=None) -> Tensor:
    """``adjust_brightness`` by a delta drawn uniformly from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError(f"tf.image.random_brightness: max_delta must be non-negative, got {max_delta}")
    return adjust_brightness(image, float(_uniform((), -max_delta, max_delta, seed=seed).numpy()))


class AdjustContrast(Function):
    # y = (x - mean_hw(x)) * factor + mean_hw(x), per image and channel. TensorFlow registers no gradient for it
    # (AdjustContrastv2), so the autodiff guide's tape.gradient raises LookupError; the same here.
    def forward(self, x, factor):
        xp = backend.array_namespace(x)
        mean = xp.mean(x, axis=(-3, -2), keepdims=True)
        return xp.astype((x - mean) * xp.asarray(factor, dtype=x.dtype) + mean, x.dtype, copy=False)

    def backward(self, g):
        raise LookupError("gradient registry has no entry for: AdjustContrastv2")


def adjust_contrast(images: TensorLike, contrast_factor: float) -> Tensor:
    """``(x - mean) * contrast_factor + mean`` with the mean over each image's pixels, per channel (no gradient,
    as in TensorFlow)."""
    images, dtype = _float(_image(images, "adjust_contrast"))
    out = AdjustContrast.apply(images, contrast_factor)
    out = out if isinstance(out, Tensor) else Tensor._wrap(out)
    return convert_image_dtype(out, dtype, saturate=True) if dtype.kind != "f" else out


def random_contrast(image: TensorLike, lower: float, upper: float, seed=None) -> Tensor:
    """``adjust_contrast`` by a factor drawn uniformly from [lower, upper)."""
    if not 0 <= lower < upper:
        raise ValueError(f"tf.image.random_contrast: need 0 <= lower < upper, got lower={lower}, upper={upper}")
    return adjust_contrast(image, float(_uniform((), lower, upper, seed=seed).numpy()))


def rgb_to_grayscale(images: TensorLike, name=None) -> Tensor:
    """The luma ``0.2989 R + 0.5870 G + 0.1140 B``, keeping a channel axis of 1."""
    images, dtype = _float(_image(knp.to_tensor(images), "rgb_to_grayscale", least=1))
    gray = _kimage.rgb_to_grayscale(images)
    return convert_image_dtype(gray, dtype) if dtype.kind != "f" else gray


def grayscale_to_rgb(images: TensorLike, name=None) -> Tensor:
    """The single channel repeated three times."""
    images = knp.to_tensor(images)
    if images.shape[-1] != 1:
        raise ValueError(f"tf.image.grayscale_to_rgb: the last axis must be 1 channel, got shape {tuple(images.shape)}")
    return knp.concatenate([images] * 3, axis=-1)


def convert_image_dtype(image: TensorLike, dtype, saturate: bool = False, name=None) -> Tensor:
    """Change the dtype, rescaling between integer ranges and floats in [0, 1] as TensorFlow does (float to
    integer multiplies by ``max + 0.5`` and truncates; ``saturate`` clips first)."""
    image = knp.to_tensor(image)
    source, target = image.dtype, np.dtype(backend.as_dtype(dtype))
    if source == target:
        return image
    if source.kind == "f" and target.kind == "f":
        return knp.cast(image, target)
    if source.kind != "f" and target.kind == "f":
        return knp.cast(image, target) * (1.0 / np.iinfo(source).max)
    if source.kind == "f":
        scaled = image * (np.iinfo(target).max + 0.5)
        if saturate:
            scaled = knp.clip(scaled, np.iinfo(target).min, np.iinfo(target).max)
        return knp.cast(scaled, target)
    # integer to integer: shift by the difference of their bit widths, as TensorFlow does
    shift = (np.iinfo(source).bits - (source.kind == "i")) - (np.iinfo(target).bits - (target.kind == "i"))
    wide = knp.cast(image, "int64")
    out = wide // (2 ** shift) if shift > 0 else wide * (2 ** -shift)
    return knp.cast(out, target)


def per_image_standardization(image: TensorLike) -> Tensor:
    """Each image scaled to mean 0 and variance 1: ``(x - mean) / max(stddev, 1/sqrt(pixels))``."""
    image = _image(image, "per_image_standardization")
    image = image if image.dtype.kind == "f" else knp.cast(image, "float32")
    count = image.shape[-1] * image.shape[-2] * image.shape[-3]
    mean = knp.mean(image, axis=(-3, -2, -1), keepdims=True)
    stddev = knp.std(image, axis=(-3, -2, -1), keepdims=True)
    return (image - mean) / knp.maximum(stddev, 1.0 / math.sqrt(count))


def crop_to_bounding_box(image: TensorLike, offset_height: int, offset_width: int, target_height: int,
                         target_width: int) -> Tensor:
    """The ``target_height`` x ``target_width`` window whose top-left corner is at the offsets."""
    image = _image(image, "crop_to_bounding_box")
    height, width = image.shape[-3], image.shape[-2]
    if offset_height < 0 or offset_width < 0 or target_height <= 0 or target_width <= 0 or \
            offset_height + target_height > height or offset_width + target_width > width:
        raise ValueError(f"tf.image.crop_to_bounding_box: the box at ({offset_height}, {offset_width}) of size "
                         f"{target_height}x{target_width} does not fit in the {height}x{width} image")
    return image[..., offset_height:offset_height + target_height, offset_width:offset_width + target_width, :]


def pad_to_bounding_box(image: TensorLike, offset_height: int, offset_width: int, target_height: int,
                        target_width: int) -> Tensor:
    """The image placed at the offsets in a ``target_height`` x ``target_width`` canvas of zeros."""
    image = _image(image, "pad_to_bounding_box")
    bottom = target_height - offset_height - image.shape[-3]
    right = target_width - offset_width - image.shape[-2]
    if min(offset_height, offset_width, bottom, right) < 0:
        raise ValueError(f"tf.image.pad_to_bounding_box: the {image.shape[-3]}x{image.shape[-2]} image at "
                         f"({offset_height}, {offset_width}) does not fit in {target_height}x{target_width}")
    pads = [(0, 0)] * (image.ndim - 3) + [(offset_height, bottom), (offset_width, right), (0, 0)]
    return knp.pad(image, pads)


def resize_with_crop_or_pad(image: TensorLike, target_height: int, target_width: int) -> Tensor:
    """Crop or pad with zeros, centred, to ``target_height`` x ``target_width``."""
    image = _image(image, "resize_with_crop_or_pad")
    height, width = image.shape[-3], image.shape[-2]
    cropped = crop_to_bounding_box(image, max((height - target_height) // 2, 0), max((width - target_width) // 2, 0),
                                   min(height, target_height), min(width, target_width))
    return pad_to_bounding_box(cropped, max((target_height - height) // 2, 0), max((target_width - width) // 2, 0),
                               target_height, target_width)


def central_crop(image: TensorLike, central_fraction: float) -> Tensor:
    """The central ``central_fraction`` of the image along both axes."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"tf.image.central_crop: central_fraction must be within (0, 1], got {central_fraction}")
    image = _image(image, "central_crop")
    height, width = image.shape[-3], image.shape[-2]
    top = int((height - height * central_fraction) / 2)
    left = int((width - width * central_fraction) / 2)
    return crop_to_bounding_box(image, top, left, height - 2 * top, width - 2 * left)


def random_crop(value: TensorLike, size, seed=None, name=None) -> Tensor:
    """A window of shape ``size`` (one size per axis of ``value``) at a random offset."""
    value = knp.to_tensor(value)
    size = [int(s) for s in size]
    if len(size) != value.ndim or any(s < 0 or s > n for s, n in zip(size, value.shape)):
        raise ValueError(f"tf.image.random_crop: size {size} must have one entry per axis of the value's shape "
                         f"{tuple(value.shape)}, none larger")
    draws = _uniform((value.ndim,), seed=seed).numpy()
    offsets = [int(d * (n - s + 1)) for d, n, s in zip(draws, value.shape, size)]
    return value[tuple(slice(o, o + s) for o, s in zip(offsets, size))]


def extract_patches(images: TensorLike, sizes, strides, rates, padding: str, name=None) -> Tensor:
    """Patches of ``sizes`` = [1, rows, cols, 1] every ``strides`` = [1, r, c, 1], dilated by ``rates``, each
    flattened in (row, column, channel) order: (N, out_rows, out_cols, rows*cols*channels)."""
    for arg, value in (("sizes", sizes), ("strides", strides), ("rates", rates)):
        if len(value) != 4 or value[0] != 1 or value[3] != 1:
            raise ValueError(f"tf.image.extract_patches: {arg} must be [1, rows, cols, 1], got {list(value)}")
    return _kimage.extract_patches(images, tuple(sizes[1:3]), tuple(strides[1:3]), tuple(rates[1:3]),
                                   padding=str(padding).lower())


def total_variation(images: TensorLike, name=None) -> Tensor:
    """The sum of absolute differences between neighbouring pixels, per image (a scalar for one image)."""
    images = _image(images, "total_variation")
    axes = tuple(range(images.ndim - 3, images.ndim))
    rows = knp.abs(images[..., 1:, :, :] - images[..., :-1, :, :])
    cols = knp.abs(images[..., :, 1:, :] - images[..., :, :-1, :])
    return knp.sum(rows, axis=axes) + knp.sum(cols, axis=axes)


def psnr(a: TensorLike, b: TensorLike, max_val: float, name=None) -> Tensor:
    """Peak signal-to-noise ratio in dB per image: ``10 log10(max_val² / mean((a - b)²))``."""
    a, b = knp.to_tensor(a), knp.to_tensor(b)
    a = a if a.dtype.kind == "f" else knp.cast(a, "float32")
    b = b if b.dtype.kind == "f" else knp.cast(b, "float32")
    mse = knp.mean(knp.square(a - b), axis=(-3, -2, -1))
    return 20.0 * math.log10(max_val) - 10.0 * knp.log10(mse)


def _stateless_uniform(seed, fn: str, shape=(), low: float = 0.0, high: float = 1.0) -> np.ndarray:
    from chainrule.compat.tf.random import _stateless_generator  # (tf.random builds on the layers' ops)

    return _stateless_generator(seed, fn).uniform(low, high, shape)


def stateless_random_brightness(image: TensorLike, max_delta: float, seed) -> Tensor:
    """``adjust_brightness`` by a delta drawn uniformly from [-max_delta, max_delta), the same for the same
    ``seed`` (two ints)."""
    if max_delta < 0:
        raise ValueError(f"tf.image.stateless_random_brightness: max_delta must be non-negative, got {max_delta}")
    delta = float(_stateless_uniform(seed, "stateless_random_brightness", (), -max_delta, max_delta))
    return adjust_brightness(image, delta)


def stateless_random_contrast(image: TensorLike, lower: float, upper: float, seed) -> Tensor:
    """``adjust_contrast`` by a factor drawn uniformly from [lower, upper), the same for the same ``seed``."""
    if not 0 <= lower < upper:
        raise ValueError(f"tf.image.stateless_random_contrast: need 0 <= lower < upper, got lower={lower}, "
                         f"upper={upper}")
    return adjust_contrast(image, float(_stateless_uniform(seed, "stateless_random_contrast", (), lower, upper)))


def stateless_random_crop(value: TensorLike, size, seed, name=None) -> Tensor:
    """A window of shape ``size`` at an offset drawn from ``seed`` (two ints): the same for the same seed."""
    value = knp.to_tensor(value)
    size = [int(s) for s in size]
    if len(size) != value.ndim or any(s < 0 or s > n for s, n in zip(size, value.shape)):
        raise ValueError(f"tf.image.stateless_random_crop: size {size} must have one entry per axis of the "
                         f"value's shape {tuple(value.shape)}, none larger")
    draws = _stateless_uniform(seed, "stateless_random_crop", (value.ndim,))
    offsets = [int(d * (n - s + 1)) for d, n, s in zip(draws, value.shape, size)]
    return value[tuple(slice(o, o + s) for o, s in zip(offsets, size))]


def stateless_random_flip_left_right(image: TensorLike, seed) -> Tensor:
    """The image mirrored left-right or not, as ``seed`` (two ints) decides."""
    image = _image(image, "stateless_random_flip_left_right")
    return flip_left_right(image) if _stateless_uniform(seed, "stateless_random_flip_left_right") < 0.5 else image


def stateless_random_flip_up_down(image: TensorLike, seed) -> Tensor:
    """The image mirrored up-down or not, as ``seed`` (two ints) decides."""
    image = _image(image, "stateless_random_flip_up_down")
    return flip_up_down(image) if _stateless_uniform(seed, "stateless_random_flip_up_down") < 0.5 else image


def stateless_random_saturation(image: TensorLike, lower: float, upper: float, seed) -> Tensor:
    """``adjust_saturation`` by a factor drawn uniformly from [lower, upper), the same for the same ``seed``."""
    if not 0 <= lower < upper:
        raise ValueError(f"tf.image.stateless_random_saturation: need 0 <= lower < upper, got lower={lower}, "
                         f"upper={upper}")
    return adjust_saturation(image, float(_stateless_uniform(seed, "stateless_random_saturation", (), lower, upper)))


__all__ = ["ResizeMethod", "adjust_brightness", "adjust_contrast", "central_crop", "convert_image_dtype",
           "crop_to_bounding_box", "extract_patches", "flip_left_right", "flip_up_down", "grayscale_to_rgb",
           "pad_to_bounding_box", "per_image_standardization", "psnr", "random_brightness", "random_contrast",
           "random_crop", "random_flip_left_right", "random_flip_up_down", "resize", "resize_with_crop_or_pad",
           "resize_with_pad", "rgb_to_grayscale", "rot90", "total_variation", "transpose",
           "adjust_hue", "adjust_saturation", "hsv_to_rgb", "rgb_to_hsv", "stateless_random_brightness",
           "stateless_random_contrast", "stateless_random_crop", "stateless_random_flip_left_right",
           "stateless_random_flip_up_down", "stateless_random_saturation", "decode_bmp", "decode_gif", "decode_image",
           "decode_jpeg", "decode_png", "encode_jpeg", "encode_png", "is_jpeg"]

from chainrule.compat.tf.image_filters import *  # noqa: E402,F401,F403  (sobel_edges, ssim, YIQ/YUV, gamma)
from chainrule.compat.tf import image_filters as _image_filters  # noqa: E402

__all__ += _image_filters.__all__
from chainrule.compat.tf.image_nms import *  # noqa: E402,F401,F403  (non_max_suppression*, combined_non_max_suppression)
from chainrule.compat.tf import image_nms as _image_nms  # noqa: E402

__all__ += _image_nms.__all__
from chainrule.compat.tf.image_crop_resize import crop_and_resize  # noqa: E402,F401

__all__ += ["crop_and_resize"]
from chainrule.compat.tf.image_draw import draw_bounding_boxes  # noqa: E402,F401

__all__ += ["draw_bounding_boxes"]
from chainrule.compat.tf.image_ssim_multiscale import ssim_multiscale  # noqa: E402,F401

__all__ += ["ssim_multiscale"]
