"""``keras.utils.image_dataset_from_directory``: a folder of class subfolders of images as a labelled Dataset.

As Keras 3's: ``.bmp``, ``.gif``, ``.jpeg``, ``.jpg`` and ``.png`` files (the first frame of a GIF), decoded with
Pillow into ``color_mode`` channels, resized to ``image_size`` (bilinear by default; ``crop_to_aspect_ratio`` or
``pad_to_aspect_ratio`` keep the aspect), float32 values in [0, 255], batched; the labels, split and shuffling are
those of :func:`chainrule.keras.utils.dataset_utils.dataset_from_directory`. Files are read as the dataset is
iterated.

>>> import os, tempfile
>>> import numpy as np
>>> from PIL import Image
>>> root = tempfile.mkdtemp()
>>> for name in ("cats", "dogs"):
...     os.makedirs(os.path.join(root, name))
...     Image.fromarray(np.zeros((8, 6, 3), "uint8")).save(os.path.join(root, name, "a.png"))
>>> ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=2, verbose=False)
>>> images, labels = next(iter(ds))
>>> images.shape, ds.class_names
(TensorShape([2, 4, 4, 3]), ['cats', 'dogs'])
"""
from __future__ import annotations

import os

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.utils import dataset_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
INTERPOLATIONS = ("bilinear", "nearest")


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format="tf", verbose=True):
    """The images of ``directory`` (one subfolder per class) with their labels, as Keras's function of this name;
    ``subset='both'`` returns the training and the validation dataset."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: '
                         f"color_mode={color_mode}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {INTERPOLATIONS} in chainrule. Received: "
                         f"interpolation={interpolation}")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"`data_format` must be 'channels_last' (chainrule keeps images channels last). Received: "
                         f"data_format={data_format}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be set to `True`.")
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in size):
        raise ValueError(f"`image_size` must be (height, width) with positive ints. Received: image_size={image_size}")

    def load(path):
        return load_image(path, size, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)

    return dataset_utils.dataset_from_directory(
        directory, load, ALLOWLIST_FORMATS, "image", labels=labels, label_mode=label_mode, class_names=class_names,
        batch_size=batch_size, shuffle=shuffle, seed=seed, validation_split=validation_split, subset=subset,
        follow_links=follow_links, format=format, verbose=verbose)


def load_image(path, image_size: tuple[int, int], color_mode: str = "rgb", interpolation: str = "bilinear",
               crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False) -> Tensor:
    """One image file as a float32 (height, width, channels) tensor of values in [0, 255], resized."""
    from PIL import Image

    from chainrule.engine.autograd import no_grad
    from chainrule.keras.ops import image as image_ops

    name = os.fsdecode(np.asarray(path).item())
    mode, _ = COLOR_MODES[color_mode]
    with Image.open(name) as file:
        array = np.asarray(file.convert(mode), dtype="float32")
    if array.ndim == 2:
        array = array[:, :, None]
    with no_grad():
        return image_ops.resize(array, image_size, interpolation=interpolation,
                                crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio)
