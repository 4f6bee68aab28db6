"""``keras.preprocessing.image.ImageDataGenerator`` (Keras 2's, which TensorFlow's "tf.data: Build TensorFlow input
pipelines" guide still uses): batches of images, each with a random affine transform (rotation, shifts, shear, zoom,
flips) and channel/brightness shifts, then ``preprocessing_function``, ``rescale`` and the per-sample centring,
read from arrays (:meth:`ImageDataGenerator.flow`) or from a folder of one subfolder per class
(:meth:`ImageDataGenerator.flow_from_directory`). The iterators loop over the data for ever, reshuffled each pass,
as Keras 2's do; ``len()`` is the number of batches in one pass.

The random draws come from NumPy's global generator (``seed`` reseeds it per batch, as Keras 2 did).

>>> import numpy as np
>>> generator = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
>>> batches = generator.flow(np.full((5, 8, 8, 3), 255.0), np.arange(5), batch_size=2, shuffle=False)
>>> x, y = next(batches)
>>> x.shape, float(x.max()), y.tolist(), len(batches)
((2, 8, 8, 3), 1.0, [0, 1], 3)
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np

from chainrule.keras.utils.image_utils import img_to_array, load_img
from chainrule.ops.image_transform import affine_transform

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)


def _range(value, name: str) -> tuple[float, float]:
    """A zoom or brightness range given as one number z ([1 - z, 1 + z]) or as [low, high]."""
    if np.isscalar(value):
        return 1.0 - float(value), 1.0 + float(value)
    if len(value) == 2:
        return float(value[0]), float(value[1])
    raise ValueError(f"`{name}` should be a float or a tuple or list of two floats. Received: {value!r}")


class ImageDataGenerator:
    """Random augmentation and standardization of image batches (channels last)."""

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False, samplewise_std_normalization: bool = False,
                 zca_whitening: bool = False, zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: float = 0.0, height_shift_range: float = 0.0, brightness_range=None,
                 shear_range: float = 0.0, zoom_range=0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: float | None = None,
                 preprocessing_function: Callable | None = None, data_format: str | None = None,
                 validation_split: float = 0.0, interpolation_order: int = 1, dtype="float32"):
        if featurewise_center or featurewise_std_normalization or zca_whitening:
            raise NotImplementedError("ImageDataGenerator: featurewise_center, featurewise_std_normalization and "
                                      "zca_whitening need fit(); chainrule's generator does per-sample and "
                                      "rescale standardization only")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ImageDataGenerator: chainrule takes channels_last images, got data_format="
                             f"{data_format!r}")
        if fill_mode not in ("nearest", "constant", "reflect", "wrap"):
            raise ValueError(f"`fill_mode` should be one of 'nearest', 'constant', 'reflect', 'wrap'. Received: "
                             f"{fill_mode!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"`validation_split` must be strictly between 0 and 1. Received: {validation_split}")
        self.samplewise_center, self.samplewise_std_normalization = samplewise_center, samplewise_std_normalization
        self.rotation_range, self.shear_range = float(rotation_range), float(shear_range)
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.zoom_range = _range(zoom_range, "zoom_range")
        self.brightness_range = None if brightness_range is None else _range(brightness_range, "brightness_range")
        self.channel_shift_range = float(channel_shift_range)
        self.fill_mode, self.cval = fill_mode, float(cval)
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.validation_split, self.dtype = float(validation_split), np.dtype(dtype)
        self.interpolation = "nearest" if interpolation_order == 0 else "bilinear"

    # --- one image ---------------------------------------------------------------------------------------------------
    def _shift(self, value, size: int) -> float:
        if not value:
            return 0.0
        if np.isscalar(value):
            shift = np.random.uniform(-value, value)
        else:
            shift = float(np.random.choice(value))
        return shift * size if abs(shift) < 1 else shift

    def get_random_transform(self, img_shape: tuple, seed: int | None = None) -> dict[str, Any]:
        """The random parameters of one image's transform (Keras 2's names)."""
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0.0
        tx = self._shift(self.height_shift_range, img_shape[0])
        ty = self._shift(self.width_shift_range, img_shape[1])
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0.0
        zx, zy = (1.0, 1.0) if self.zoom_range == (1.0, 1.0) else np.random.uniform(*self.zoom_range, 2)
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": bool(self.horizontal_flip and np.random.random() < 0.5),
                "flip_vertical": bool(self.vertical_flip and np.random.random() < 0.5),
                "channel_shift_intensity": (np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
                                            if self.channel_shift_range else None),
                "brightness": None if self.brightness_range is None else np.random.uniform(*self.brightness_range)}

    def apply_transform(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """``x`` (height, width, channels) moved by ``params``' affine transform, then shifted and flipped."""
        x = np.asarray(x, dtype=self.dtype)
        matrix = self._matrix(params, x.shape[0], x.shape[1])
        if matrix is not None:  # output (row, col) -> input (row, col); TensorFlow's transform takes (col, row)
            transform = [matrix[1, 1], matrix[1, 0], matrix[1, 2], matrix[0, 1], matrix[0, 0], matrix[0, 2], 0, 0]
            x = affine_transform(x.astype(np.float32), np.asarray(transform, np.float32),
                                 interpolation=self.interpolation, fill_mode=self.fill_mode,
                                 fill_value=self.cval).numpy().astype(self.dtype)
        if params.get("channel_shift_intensity") is not None:
            low, high = x.min(), x.max()
            x = np.clip(x + params["channel_shift_intensity"], low, high)
        if params.get("flip_horizontal"):
            x = x[:, ::-1]
        if params.get("flip_vertical"):
            x = x[::-1]
        if params.get("brightness") is not None:
            x = np.clip(x * params["brightness"], 0, 255)
        return np.ascontiguousarray(x, dtype=self.dtype)

    @staticmethod
    def _matrix(params: dict[str, Any], height: int, width: int) -> np.ndarray | None:
        """Keras 2's transform: rotation, shift, shear, zoom (in that order) about the image's centre."""
        parts = []
        if params.get("theta"):
            t = np.deg2rad(params["theta"])
            parts.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]))
        if params.get("tx") or params.get("ty"):
            parts.append(np.array([[1, 0, params.get("tx", 0)], [0, 1, params.get("ty", 0)], [0, 0, 1]]))
        if params.get("shear"):
            s = np.deg2rad(params["shear"])
            parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
        if params.get("zx", 1) != 1 or params.get("zy", 1) != 1:
            parts.append(np.array([[params.get("zx", 1), 0, 0], [0, params.get("zy", 1), 0], [0, 0, 1]]))
        if not parts:
            return None
        matrix = parts[0]
        for part in parts[1:]:
            matrix = matrix @ part
        o_row, o_col = height / 2 - 0.5, width / 2 - 0.5
        to_centre = np.array([[1, 0, o_row], [0, 1, o_col], [0, 0, 1]])
        from_centre = np.array([[1, 0, -o_row], [0, 1, -o_col], [0, 0, 1]])
        return to_centre @ matrix @ from_centre

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """``x`` with a random transform."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """``preprocessing_function``, then ``rescale``, then the per-sample centring and scaling."""
        if self.preprocessing_function is not None:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        if self.samplewise_center:
            x = x - np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, keepdims=True) + 1e-6)
        return np.asarray(x, dtype=self.dtype)

    # --- batches -----------------------------------------------------------------------------------------------------
    def flow(self, x, y=None, batch_size: int = 32, shuffle: bool = True, sample_weight=None, seed: int | None = None,
             subset: str | None = None) -> "BatchIterator":
        """Batches of the arrays ``x`` (N, height, width, channels), with ``y`` (and ``sample_weight``) beside."""
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"Input data in `ImageDataGenerator.flow` should have rank 4. You passed an array with "
                             f"shape {x.shape}")
        if y is not None and len(y) != len(x):
            raise ValueError(f"`x` (images tensor) and `y` (labels) should have the same length. Found: "
                             f"x.shape = {x.shape}, y.shape = {np.shape(y)}")
        rows = self._subset(len(x), subset)
        extras = [np.asarray(a)[rows] for a in (y, sample_weight) if a is not None]
        images = x[rows]
        return BatchIterator(len(rows), batch_size, shuffle, seed, lambda i: images[i], extras,
                             self, mode="arrays")

    def flow_from_directory(self, directory, target_size: tuple[int, int] = (256, 256), color_mode: str = "rgb",
                            classes: list[str] | None = None, class_mode: str | None = "categorical",
                            batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                            save_to_dir=None, save_prefix: str = "", save_format: str = "png",
                            follow_links: bool = False, subset: str | None = None,
                            interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> "BatchIterator":
        """Batches of the images in ``directory``'s class subfolders (sorted by name: the class indices),
        resized to ``target_size``, with labels as ``class_mode`` asks."""
        if class_mode not in _CLASS_MODES:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of {list(_CLASS_MODES)}")
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"Invalid color mode: {color_mode}; expected 'rgb', 'rgba', or 'grayscale'.")
        directory = os.fspath(directory)
        if classes is None:
            classes = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        class_indices = {name: i for i, name in enumerate(classes)}
        files, labels = [], []
        for name in classes:
            for root, _, names in sorted(os.walk(os.path.join(directory, name), followlinks=follow_links)):
                for file in sorted(names):
                    if file.lower().endswith(_IMAGE_SUFFIXES):
                        files.append(os.path.join(root, file))
                        labels.append(class_indices[name])
        rows = self._subset(len(files), subset)
        files, labels = [files[i] for i in rows], np.asarray(labels, dtype=np.int64)[rows]
        print(f"Found {len(files)} images belonging to {len(classes)} classes.")

        def read(i: int) -> np.ndarray:
            image = load_img(files[i], color_mode=color_mode, target_size=tuple(target_size),
                             interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio)
            return img_to_array(image, dtype=self.dtype)

        if class_mode == "categorical":
            targets = [np.eye(len(classes), dtype=self.dtype)[labels]]
        elif class_mode in ("binary", "sparse"):
            targets = [labels.astype(self.dtype)]
        else:
            targets = []
        iterator = BatchIterator(len(files), batch_size, shuffle, seed, read, targets, self,
                                 mode="input" if class_mode == "input" else "directory")
        iterator.filenames = [os.path.relpath(f, directory) for f in files]
        iterator.filepaths, iterator.classes, iterator.class_indices = files, labels, class_indices
        iterator.num_classes, iterator.directory = len(classes), directory
        return iterator

    def _subset(self, n: int, subset: str | None) -> np.ndarray:
        """The rows of ``subset`` ('training': after the first validation_split share; 'validation': that share)."""
        if subset is None:
            return np.arange(n)
        if subset not in ("training", "validation"):
            raise ValueError(f"Invalid subset name: {subset}; expected 'training' or 'validation'")
        split = int(math.ceil(self.validation_split * n))
        return np.arange(split) if subset == "validation" else np.arange(split, n)


class BatchIterator:
    """Keras 2's NumpyArrayIterator / DirectoryIterator: ``next()`` gives a batch, for ever; ``it[i]`` batch i of
    this pass; ``len()`` batches per pass; ``samples`` images."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None, read: Callable[[Any], np.ndarray],
                 targets: list[np.ndarray], generator: ImageDataGenerator, mode: str):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.n = self.samples = n
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, seed
        self._read, self._targets, self._generator, self._mode = read, targets, generator, mode
        self.batch_index, self.total_batches_seen = 0, 0
        self.index_array: np.ndarray | None = None

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self) -> None:
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def reset(self) -> None:
        self.batch_index = 0

    def __getitem__(self, idx: int):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self.on_epoch_end()
        return self._batch(self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)])

    def __iter__(self) -> "BatchIterator":
        return self

    def __next__(self):
        if self.n == 0:
            raise ValueError("ImageDataGenerator: there are no images to take batches of")
        if self.batch_index == 0:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            self.on_epoch_end()
        start = self.batch_index * self.batch_size
        self.batch_index = self.batch_index + 1 if start + self.batch_size < self.n else 0
        self.total_batches_seen += 1
        return self._batch(self.index_array[start:start + self.batch_size])

    def next(self):
        return next(self)

    def _batch(self, rows: np.ndarray):
        generator = self._generator
        images = []
        for i in rows:
            image = np.asarray(self._read(int(i)), dtype=generator.dtype)
            image = generator.apply_transform(image, generator.get_random_transform(image.shape))
            images.append(generator.standardize(image))
        x = np.stack(images)
        if self._mode == "input":
            return x, x.copy()
        extras = [target[rows] for target in self._targets]
        return x if not extras else (x, *extras)


__all__ = ["BatchIterator", "ImageDataGenerator"]
