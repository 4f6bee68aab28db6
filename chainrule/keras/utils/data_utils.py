"""Keras's helpers for data given to ``fit``: ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight`` (the
batch layout ``train_step`` receives) and ``split_dataset`` (two datasets from arrays, tuples of arrays or a
Dataset, by fractions or counts).

>>> import numpy as np
>>> left, right = split_dataset(np.arange(10), left_size=0.8)
>>> [int(x) for x in right]
[8, 9]
>>> unpack_x_y_sample_weight((1, 2))
(1, 2, None)
"""
from __future__ import annotations

import random

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.utils import tree


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """``x`` (``(x,)`` when x itself is a tuple or list), ``(x, y)`` or ``(x, y, sample_weight)``."""
    from chainrule.keras.training.trainer import _pack

    return _pack(x, y, sample_weight)


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (a list as a tuple)."""
    from chainrule.keras.training.adapters import unpack

    return unpack(tuple(data) if isinstance(data, list) else data)


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's rules: a float is a fraction in (0, 1) rounded to rows, an int a count in (0, total); the missing side
    is the rest; neither side may be empty."""
    for value, side in ((left_size, "left_size"), (right_size, "right_size")):
        if value is not None and type(value) not in (int, float):
            raise TypeError(f"Invalid `{side}` Type. Expected: int or float or None, Received: "
                            f"type({side})={type(value)}.")
        if (type(value) is int and not 0 < value < total) or (type(value) is float and not 0 < value < 1):
            raise ValueError(f"`{side}` should be either a positive integer smaller than {total}, or a float within "
                             f"the range `[0, 1]`. Received: {side}={value}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal "
                         "to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. Received: "
                         f"left_size + right_size = {left + right} and total_length = {total}")
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and `right_size`={right}. "
                             f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned "
                             f"parameters")
    return int(left), int(right)


def _samples(dataset) -> list:
    """The dataset as a list of samples (rows of the arrays, elements of a Dataset)."""
    if isinstance(dataset, Dataset):
        return [tree.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, element)
                for element in dataset]
    if isinstance(dataset, np.ndarray):
        return list(dataset)
    if isinstance(dataset, (list, tuple)) and dataset and all(hasattr(a, "__len__") for a in dataset):
        arrays = [np.asarray(a) for a in dataset]
        if len({len(a) for a in arrays}) != 1:
            raise ValueError(f"The arrays of `dataset` must have the same length; got lengths "
                             f"{[len(a) for a in arrays]}")
        return [tuple(a[i] for a in arrays) for i in range(len(arrays[0]))]
    raise TypeError(f"The `dataset` argument must be either a `tf.data.Dataset` object, or a list/tuple of arrays. "
                    f"Received: dataset={dataset!r} of type {type(dataset)}")


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False,
                  seed: int | None = None) -> tuple[Dataset, Dataset]:
    """Two Datasets: the first ``left_size`` samples and the last ``right_size`` (each a fraction or a count; one
    given, the other is the rest), after a seeded shuffle when asked. A Dataset's elements are taken as the samples
    (a batched Dataset is split by batches)."""
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: "
                         "left_size=None and right_size=None")
    samples = _samples(dataset)
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(samples)
    left, right = _split_sizes(left_size, right_size, len(samples))
    return _as_dataset(samples[:left]), _as_dataset(samples[len(samples) - right:])


def _as_dataset(samples: list) -> Dataset:
    """Samples stacked leaf by leaf into one structure of arrays, then sliced: the samples again, as a Dataset."""
    columns = [np.stack(leaves) for leaves in zip(*(tree.flatten(s) for s in samples))]
    structure = tree.lists_to_tuples(tree.pack_sequence_as(samples[0], columns))
    return Dataset.from_tensor_slices(structure)
