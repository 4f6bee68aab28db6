"""``keras.ops.image``: resizing, patches, colour and padding of images (N, H, W, C) or one image (H, W, C).

Channels last only (chainrule's layout); every function is differentiable with respect to the images where Keras's is:
bilinear resizing is the registered ``resize_bilinear`` op, nearest resizing, patches and crops are index gathers
(``take``, whose gradient scatters back).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> images = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> ops.image.resize(images, (2, 2)).numpy()[0, :, :, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]], dtype=float32)
>>> ops.image.extract_patches(images, 2).shape
TensorShape([1, 2, 2, 4])
"""
from __future__ import annotations

import functools
import numbers

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import image_transform as _image_transform
from chainrule.ops import upsampling as _upsampling

TensorLike = Tensor | np.ndarray | float

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
# the resampling kernel of scale_and_translate for each interpolation that is not the bilinear op or nearest
_KERNEL_OF = {"bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5"}
# Keras's weights for the luma of RGB (ITU-R 601-2), the same as tf.image.rgb_to_grayscale's
GRAYSCALE_WEIGHTS = (0.2989, 0.5870, 0.1140)


def is_channels_first(data_format: str | None, fn: str) -> bool:
    """Whether ``data_format`` puts the channels first (None: channels last, chainrule's layout), or Keras's error."""
    data_format = "channels_last" if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                         f"Received: data_format={data_format}")
    return data_format == "channels_first"


def to_channels_last(x: TensorLike, first: bool, spatial: int = 2) -> Tensor:
    """Images or volumes with ``spatial`` axes, their channel axis moved last when it came first."""
    x = knp.to_tensor(x)
    return knp.moveaxis(x, x.ndim - spatial - 1, -1) if first and x.ndim > spatial else x


def from_channels_last(x: Tensor, first: bool, spatial: int = 2, trailing: int = 0) -> Tensor:
    """The inverse of :func:`to_channels_last` (``trailing`` axes after the channels stay where they are)."""
    if not first:
        return x
    channel = x.ndim - 1 - trailing
    return knp.moveaxis(x, channel, channel - spatial)


def batched_channels_last(images: TensorLike, fn: str, data_format) -> tuple[Tensor, bool, bool]:
    """Images as a 4-D channels-last Tensor, whether one 3-D image was given, and whether they came channels first
    (:func:`restored` gives a result back in their layout)."""
    first = is_channels_first(data_format, fn)
    x, single = _batched(to_channels_last(images, first) if knp.ndim(images) in (3, 4) else images, fn)
    return x, single, first


def restored(out: Tensor, single: bool, first: bool, trailing: int = 0) -> Tensor:
    """A batched channels-last result in the layout and rank its images came in."""
    out = from_channels_last(out, first, trailing=trailing)
    return out[0] if single else out


def _batched(images: TensorLike, fn: str) -> tuple[Tensor, bool]:
    """The images as a 4-D Tensor, and whether a single 3-D image was given (to unbatch the result)."""
    images = knp.to_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"{fn}: Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(images.shape)}")
    return (images[None], True) if images.ndim == 3 else (images, False)


def _pair(value, name: str, fn: str) -> tuple[int, int]:
    values = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                                   for v in values):
        raise ValueError(f"{fn}: {name} must be a positive int or a tuple of 2 positive ints, got {value!r}")
    return int(values[0]), int(values[1])


def _takes_image_keyword(fn):
    """``fn`` also taking its images as ``image=``: Keras 3.0 to 3.3 named that argument ``image``, and programs of
    that time pass it by that name (keras-io's Perceiver calls ``extract_patches(image=images, ...)``)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "image" in kwargs:
            if args or "images" in kwargs:
                raise TypeError(f"{fn.__name__}() got its images twice: pass `images` (Keras 3.0's `image`) once")
            kwargs["images"] = kwargs.pop("image")
        return fn(*args, **kwargs)

    return wrapper


def area_weights(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) weights of area resizing along one axis: output pixel i averages the input span
    [i * s, (i + 1) * s), s = in_size / out_size, each input pixel weighted by the part of it the span covers.

    >>> area_weights(4, 2)
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]])
    """
    scale = in_size / out_size
    starts = np.arange(out_size)[:, None] * scale
    pixels = np.arange(in_size)[None, :]
    overlap = np.minimum(starts + scale, pixels + 1) - np.maximum(starts, pixels)
    return np.clip(overlap, 0.0, None) / scale


def nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """The source row of each output row for nearest-neighbour resizing with half-pixel centres (TensorFlow 2's
    and JAX's): ``floor((i + 0.5) * in / out)``, clamped to the image.

    >>> nearest_indices(4, 2), nearest_indices(2, 4)
    (array([1, 3]), array([0, 0, 1, 1]))
    """
    return np.minimum(np.floor((np.arange(out_size) + 0.5) * (in_size / out_size)).astype(np.int64), in_size - 1)


@_takes_image_keyword
def resize(images: TensorLike, size, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """Resize images to ``size`` = (height, width): 'bilinear' (half-pixel centres, float output), 'nearest' (the
    input's dtype), or 'bicubic' (Keys), 'lanczos3', 'lanczos5' (JAX's ``image.resize``: ``scale_and_translate``,
    integer images rounded back); ``antialias`` widens the kernel when shrinking. ``crop_to_aspect_ratio`` crops
    the centre to the target's aspect ratio first, ``pad_to_aspect_ratio`` pads it with ``fill_value`` instead."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {INTERPOLATIONS}. Received: "
                         f"interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be `True`.")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant', got {fill_mode!r}")
    height, width = _pair(size, "size", "resize")
    x, single, first = batched_channels_last(images, "resize", data_format)
    in_h, in_w = x.shape[1], x.shape[2]
    if crop_to_aspect_ratio:
        crop_h = min(in_h, int(round(in_w * height / width)))
        crop_w = min(in_w, int(round(in_h * width / height)))
        top, left = (in_h - crop_h) // 2, (in_w - crop_w) // 2
        x = x[:, top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        pad_h = max(in_h, int(round(in_w * height / width)))
        pad_w = max(in_w, int(round(in_h * width / height)))
        top, left = (pad_h - in_h) // 2, (pad_w - in_w) // 2
        x = knp.pad(x, ((0, 0), (top, pad_h - in_h - top), (left, pad_w - in_w - left), (0, 0)),
                    constant_values=fill_value)
    if interpolation == "nearest":
        for axis, target in ((1, height), (2, width)):
            if x.shape[axis] != target:
                x = knp.take(x, nearest_indices(x.shape[axis], target), axis=axis)
    elif interpolation == "bilinear" and not antialias:
        if x.dtype.kind != "f":
            x = knp.cast(x, "float32")
        x = _upsampling.resize_bilinear(x, (height, width))
    elif interpolation == "area":  # TensorFlow's ResizeArea: each output pixel the mean of the input area it covers
        if x.dtype.kind != "f":
            x = knp.cast(x, "float32")
        x = knp.einsum("hi,nijc->nhjc", area_weights(x.shape[1], height).astype(x.dtype), x)
        x = knp.einsum("wj,nhjc->nhwc", area_weights(x.shape[2], width).astype(x.dtype), x)
    else:
        x = scale_and_translate(x, (x.shape[0], height, width, x.shape[3]), [height / x.shape[1], width / x.shape[2]],
                                [0.0, 0.0], (1, 2), _KERNEL_OF[interpolation], antialias=bool(antialias))
    return restored(x, single, first)


@_takes_image_keyword
def affine_transform(images: TensorLike, transform: TensorLike, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """Apply a projective transform (8 numbers, or one row of 8 per image), as Keras's ``ops.image.affine_transform``."""
    x, single, first = batched_channels_last(images, "affine_transform", data_format)
    return restored(_image_transform.affine_transform(x, transform, interpolation=interpolation,
                                                      fill_mode=fill_mode, fill_value=fill_value), single, first)


def _window_indices(in_size: int, size: int, stride: int, dilation: int, padding: str) -> tuple[np.ndarray, tuple]:
    """(out, size) source indices of each patch along one axis, and the (before, after) padding they assume:
    'valid' keeps whole windows only, 'same' pads so that ``ceil(in / stride)`` windows fit, as a convolution."""
    span = (size - 1) * dilation + 1
    if padding == "valid":
        out, pads = (in_size - span) // stride + 1, (0, 0)
        if out < 1:
            raise ValueError(f"extract_patches: a patch of {span} pixels does not fit in {in_size} with padding "
                             f"'valid'")
    else:
        out = -(-in_size // stride)
        total = max((out - 1) * stride + span - in_size, 0)
        pads = (total // 2, total - total // 2)
    return np.arange(out)[:, None] * stride + np.arange(size)[None, :] * dilation, pads


@_takes_image_keyword
def extract_patches(images: TensorLike, size, strides=None, dilation_rate=1, padding: str = "valid",
                    data_format: str | None = None) -> Tensor:
    """The patches of ``size`` (int or (height, width)) every ``strides`` pixels (default: ``size``, no overlap),
    each flattened to the last axis in (row, column, channel) order: (N, H', W', ph*pw*C), as Keras's
    ``ops.image.extract_patches`` and ``tf.image.extract_patches``; a ``size`` of 3 numbers takes the patches of
    volumes, as :func:`extract_patches_3d`."""
    if not isinstance(size, numbers.Integral) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"extract_patches: padding must be 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(size, "size", "extract_patches")
    sh, sw = _pair(strides if strides is not None else (ph, pw), "strides", "extract_patches")
    dh, dw = _pair(dilation_rate, "dilation_rate", "extract_patches")
    x, single, first = batched_channels_last(images, "extract_patches", data_format)
    rows, row_pads = _window_indices(x.shape[1], ph, sh, dh, padding)
    cols, col_pads = _window_indices(x.shape[2], pw, sw, dw, padding)
    if any(row_pads) or any(col_pads):
        x = knp.pad(x, ((0, 0), row_pads, col_pads, (0, 0)))
    n, channels = x.shape[0], x.shape[3]
    x = knp.take(x, rows.reshape(-1), axis=1)                        # (N, H'*ph, W, C)
    x = knp.take(x, cols.reshape(-1), axis=2)                        # (N, H'*ph, W'*pw, C)
    x = knp.reshape(x, (n, rows.shape[0], ph, cols.shape[0], pw, channels))
    x = knp.reshape(knp.transpose(x, (0, 1, 3, 2, 4, 5)), (n, rows.shape[0], cols.shape[0], ph * pw * channels))
    return restored(x, single, first)


@_takes_image_keyword
def rgb_to_grayscale(images: TensorLike, data_format: str | None = None) -> Tensor:
    """The luma of RGB images, keeping a channel axis of 1: ``0.2989 R + 0.5870 G + 0.1140 B``."""
    first = is_channels_first(data_format, "rgb_to_grayscale")
    images = to_channels_last(images, first)
    if images.ndim < 3 or images.shape[-1] != 3:
        raise ValueError(f"rgb_to_grayscale: images must end in 3 channels (RGB), got shape {tuple(images.shape)}")
    dtype = images.dtype
    x = images if dtype.kind == "f" else knp.cast(images, "float32")
    gray = knp.tensordot(x, np.asarray(GRAYSCALE_WEIGHTS, dtype=x.dtype)[:, None], axes=1)
    return from_channels_last(gray if dtype.kind == "f" else knp.cast(knp.round(gray), dtype), first)


def _margins(before, after, target, size: int, verb: str, names: tuple[str, str, str], fn: str) -> tuple[int, int]:
    """The (before, after) margins along one axis from two of (before, after, target size): padding makes
    ``size + before + after == target``, cropping ``size - before - after == target``."""
    if target is None:
        before, after = before or 0, after or 0
    else:
        if before is None and after is None:
            raise ValueError(f"{fn}: with {names[2]}={target}, give {names[0]} or {names[1]} too")
        total = (target - size) if verb == "pad" else (size - target)
        if before is None:
            before = total - after
        elif after is None:
            after = total - before
        elif before + after != total:
            raise ValueError(f"{fn}: {names[0]}={before} and {names[1]}={after} do not make {names[2]}={target} "
                             f"from {size} pixels")
    if not all(isinstance(m, numbers.Integral) and m >= 0 for m in (before, after)):
        raise ValueError(f"{fn}: {names[0]} and {names[1]} must be ints >= 0, got {before} and {after} (an image of "
                         f"{size} pixels along that axis)")
    return int(before), int(after)


def pad_images(images: TensorLike, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format: str | None = None) -> Tensor:
    """Pad images with zeros: give two of (top, bottom, target_height) and two of (left, right, target_width)."""
    x, single, first = batched_channels_last(images, "pad_images", data_format)
    top, bottom = _margins(top_padding, bottom_padding, target_height, x.shape[1], "pad",
                           ("top_padding", "bottom_padding", "target_height"), "pad_images")
    left, right = _margins(left_padding, right_padding, target_width, x.shape[2], "pad",
                           ("left_padding", "right_padding", "target_width"), "pad_images")
    x = knp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    return restored(x, single, first)


def crop_images(images: TensorLike, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format: str | None = None) -> Tensor:
    """Crop images: give two of (top, bottom, target_height) and two of (left, right, target_width)."""
    x, single, first = batched_channels_last(images, "crop_images", data_format)
    top, bottom = _margins(top_cropping, bottom_cropping, target_height, x.shape[1], "crop",
                           ("top_cropping", "bottom_cropping", "target_height"), "crop_images")
    left, right = _margins(left_cropping, right_cropping, target_width, x.shape[2], "crop",
                           ("left_cropping", "right_cropping", "target_width"), "crop_images")
    if top + bottom >= x.shape[1] or left + right >= x.shape[2]:
        raise ValueError(f"crop_images: cropping top={top}, bottom={bottom}, left={left}, right={right} leaves "
                         f"nothing of an image of {x.shape[1]}x{x.shape[2]}")
    x = x[:, top:x.shape[1] - bottom, left:x.shape[2] - right]
    return restored(x, single, first)


__all__ = ["affine_transform", "crop_images", "extract_patches", "pad_images", "resize", "rgb_to_grayscale"]
wrap_namespace(globals(), __all__, "keras.ops.image.")

# the functions kept in modules of their own (they use the helpers above), under keras.ops.image's names
from chainrule.keras.ops.image_color import hsv_to_rgb, rgb_to_hsv  # noqa: E402
from chainrule.keras.ops.image_filters import gaussian_blur, sobel_edges, ssim  # noqa: E402
from chainrule.keras.ops.image_patches import extract_patches_3d, reconstruct_patches  # noqa: E402
from chainrule.keras.ops.image_geometry import (elastic_transform, map_coordinates, perspective_transform,  # noqa: E402
                                                scale_and_translate)

__all__ += ["elastic_transform", "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates",
            "perspective_transform", "reconstruct_patches", "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim"]
