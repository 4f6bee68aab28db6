"""``keras.preprocessing.image.smart_resize``: resize images to ``size`` without distorting them, by first cropping
the largest centred box of the target's aspect ratio (Keras's rule and rounding), then resizing it.

>>> import numpy as np
>>> out = smart_resize(np.arange(24.0).reshape(4, 6, 1), (2, 2))
>>> out.shape, type(out).__name__
((2, 2, 1), 'ndarray')
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.ops import image as image_ops
from chainrule.keras.ops import numpy as knp


def smart_resize(x, size, interpolation: str = "bilinear", data_format: str = "channels_last", **kwargs):
    """``x`` (H, W, C) or (N, H, W, C) (channels first with ``data_format``) cropped to ``size``'s aspect ratio about
    its centre and resized to ``size``; a NumPy array in gives a NumPy array out."""
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"smart_resize: data_format must be 'channels_last' or 'channels_first'. Received: "
                         f"data_format={data_format}")
    img = x if isinstance(x, Tensor) else knp.to_tensor(np.asarray(x))
    if not 3 <= img.ndim <= 4:
        raise ValueError(f"Expected an image array with shape `(height, width, channels)`, or `(batch_size, height, "
                         f"width, channels)`, but got input with incorrect rank, of shape {tuple(img.shape)}.")
    if data_format == "channels_first":  # the work is channels-last
        img = knp.moveaxis(img, -3, -1)
    height, width = img.shape[-3], img.shape[-2]
    target_height, target_width = size
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int(float(height - crop_height) / 2), int(float(width - crop_width) / 2)
    img = img[..., top:top + crop_height, left:left + crop_width, :]
    if img.dtype.kind != "f":
        img = knp.cast(img, "float32")
    img = image_ops.resize(img, tuple(size), interpolation=interpolation)
    if data_format == "channels_first":
        img = knp.moveaxis(img, -1, -3)
    return img.numpy() if isinstance(x, np.ndarray) else img
