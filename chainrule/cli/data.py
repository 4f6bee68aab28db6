"""The datasets of the command line, as float32 images in [0, 1] of shape (N, height, width, 1) and integer labels.

A dataset is a name (``mnist``, ``fashion_mnist``: loaded through :mod:`chainrule.data.datasets`, from the cache or
downloaded once) or a folder holding the four files of any MNIST-format dataset (KMNIST, EMNIST, your own):
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
each plain or gzip'd (``.gz``).

>>> data = load("mnist")          # doctest: +SKIP
>>> data.x_train.shape, data.x_train.dtype, data.class_names[:3]  # doctest: +SKIP
((60000, 28, 28, 1), dtype('float32'), ('0', '1', '2'))
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.data.datasets import fashion_mnist, mnist
from chainrule.data.datasets.idx import IDXFormatError, read_idx
from chainrule.data.datasets.sources import Folder

NAMES = {"mnist": mnist, "fashion_mnist": fashion_mnist}
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DIGITS = tuple(str(i) for i in range(10))


@dataclass(frozen=True)
class ImageData:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def load(name: str) -> ImageData:
    """The dataset called ``name``, or the one in the folder ``name``. Raises ValueError for neither."""
    if name in NAMES:
        (x_train, y_train), (x_test, y_test) = NAMES[name].load_data()
        class_names = getattr(NAMES[name], "CLASS_NAMES", DIGITS)
    elif Path(name).is_dir():
        x_train, y_train, x_test, y_test = _read_folder(Path(name))
        class_names = _numbered(int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1)
    else:
        raise ValueError(f"unknown dataset {name!r}: use {' or '.join(NAMES)}, or a folder with the four IDX files "
                         f"of an MNIST-format dataset ({', '.join(FILES)})")
    return ImageData(name, images(x_train), labels(y_train), images(x_test), labels(y_test), tuple(class_names))


def images(x: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, H, W) or (N, H, W, C) as float32 in [0, 1] with a channel axis."""
    x = np.asarray(x, dtype=np.float32) / np.float32(255)
    return x[..., None] if x.ndim == 3 else x


def labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.int64).reshape(-1)


def _read_folder(folder: Path) -> list[np.ndarray]:
    source = Folder(folder)
    arrays = []
    for filename in FILES:
        try:
            arrays.append(read_idx(source(filename)))
        except FileNotFoundError as error:
            raise ValueError(f"dataset folder {folder}: {error}") from error
        except (IDXFormatError, OSError, EOFError, zlib.error) as error:  # a damaged or truncated .gz
            raise ValueError(f"dataset folder {folder}: {filename}: {error}") from error
    x_train, y_train, x_test, y_test = arrays
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim not in (3, 4) or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"dataset folder {folder}: {split} images of shape {x.shape} do not pair with labels "
                             f"of shape {y.shape}")
    return arrays


def _numbered(count: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(count))
