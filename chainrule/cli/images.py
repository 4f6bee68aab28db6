"""Image files (PNG, JPEG, ... anything Pillow reads) turned into a model's input, as MNIST presents digits.

The steps: transparent pixels are laid on white; the image becomes grayscale (or RGB for a 3-channel model); it is
padded to a square with its border colour, so the drawing keeps its proportions; it is resized to the model's
input size (28x28 for MNIST) and scaled to [0, 1]. MNIST digits are light on a dark background, so an image that
is mostly light (a dark digit on white paper) is inverted.

>>> pixels, inverted = load_image("digit.png", (28, 28, 1))  # doctest: +SKIP
>>> pixels.shape, pixels.dtype                                # doctest: +SKIP
((28, 28, 1), dtype('float32'))
"""
from __future__ import annotations

import math
import os

import numpy as np


class ImageError(ValueError):
    """An image file that cannot be read, or a model input that is not an image."""


def load_image(path: str | os.PathLike, input_shape: tuple) -> tuple[np.ndarray, bool]:
    """The image at ``path`` as one model input of ``input_shape`` (batch axis excluded), and whether it was
    inverted (mostly light)."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as error:
        raise ImageError("reading images needs Pillow: pip install 'chainrule[train]'") from error
    height, width, channels = _image_size(input_shape)
    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
    except FileNotFoundError as error:
        raise ImageError(f"{path}: no such file") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: cannot read it as an image ({error})") from error
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    image = _pad_to_square(image.convert("L" if channels == 1 else "RGB"))
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
    inverted = bool(pixels.mean() > 0.5)
    if inverted:
        pixels = 1.0 - pixels
    return pixels.reshape(input_shape), inverted


def _image_size(input_shape: tuple) -> tuple[int, int, int]:
    """(height, width, channels) for a model input of shape (H, W, C), (H, W) or (H*W,) with H == W."""
    shape = tuple(input_shape)
    if len(shape) == 3 and shape[2] in (1, 3):
        return shape
    if len(shape) == 2:
        return shape[0], shape[1], 1
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return side, side, 1
    raise ImageError(f"the model's input shape {shape} is not an image (expected height x width x 1 or 3, "
                     f"height x width, or a flattened square)")


def _pad_to_square(image):
    """Centre ``image`` on a square of its border's median colour."""
    from PIL import Image

    w, h = image.size
    if w == h:
        return image
    pixels = np.asarray(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    fill = np.median(border, axis=0).astype(np.uint8)
    square = Image.new(image.mode, (max(w, h),) * 2, tuple(fill.tolist()) if fill.ndim else int(fill))
    square.paste(image, ((max(w, h) - w) // 2, (max(w, h) - h) // 2))
    return square
