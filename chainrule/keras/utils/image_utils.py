"""Images between NumPy arrays, PIL images and files: ``keras.utils.array_to_img``, ``img_to_array``, ``load_img``
and ``save_img`` (also under ``keras.preprocessing.image``), as Keras 3 defines them; PIL (Pillow) does the work.

An image array is ``(height, width, channels)`` (``data_format="channels_first"``: ``(channels, height, width)``)
with 1 (grayscale), 3 (RGB) or 4 (RGBA) channels.

>>> image = array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]]))
>>> image.mode, image.size
('L', (2, 2))
>>> img_to_array(image)[..., 0]
array([[  0., 127.],
       [255.,  63.]], dtype=float32)
"""
from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from chainrule import backend

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # Pillow is an optional dependency (pip install 'chainrule[train]')
        raise ImportError("Could not import PIL.Image. The use of image utilities such as `array_to_img` requires "
                          "PIL (pip install pillow).") from e
    return Image


def _data_format(data_format: str | None) -> str:
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                         f"Received: data_format={data_format}")
    return data_format


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """A PIL image of a rank-3 array. With ``scale`` the values are stretched to 0..255 (the minimum to 0, the
    maximum to 255); without it they are taken as 0..255 already. One channel gives a grayscale image (32-bit
    ``"I"`` when values pass 255), three RGB, four RGBA."""
    data_format = _data_format(data_format)
    image_module = _pil()
    x = getattr(x, "data", x)
    x = np.asarray(backend.to_host(x) if backend.is_array(x) else x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """A PIL image as a rank-3 array of ``dtype`` (default floatx); a grayscale image gets a channel axis of 1."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[np.newaxis] if data_format == "channels_first" else x[..., np.newaxis]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format: str | None = None, file_format: str | None = None, scale: bool = True,
             **kwargs) -> None:
    """Write an image array to ``path`` (a file name, whose extension gives the format, or a file object with
    ``file_format``); ``kwargs`` go to ``PIL.Image.save``. An RGBA image saved as JPEG loses its alpha (warned)."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format is not None and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False):
    """Read an image file (a path or ``io.BytesIO``) as a PIL image in ``color_mode`` (``"grayscale"``, ``"rgb"``
    or ``"rgba"``), resized to ``target_size`` ``(height, width)`` when given, with ``interpolation``; with
    ``keep_aspect_ratio`` the largest centred crop of the target's aspect ratio is resized instead of the whole."""
    image_module = _pil()
    if isinstance(path, io.BytesIO):
        img = image_module.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:
            img = image_module.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):  # 8-, 16- and 32-bit grayscale stay as they are
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))  # PIL's (width, height)
    if img.size == size:
        return img
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                         f"{', '.join(_INTERPOLATIONS)}")
    resample = getattr(image_module.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_width = min(width, height * size[0] // size[1])
    crop_height = min(height, width * size[1] // size[0])
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return img.resize(size, resample, box=(left, top, left + crop_width, top + crop_height))
