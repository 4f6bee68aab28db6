"""``padded_batch``: elements of different shapes stacked into one batch, each component padded to a shape.

A padded shape gives a size per axis; None (or -1) there means the largest size in the batch. Padding goes after
the values on every axis, with 0 (``""`` for text) unless another value is given.

>>> pad_and_stack([np.array([1]), np.array([2, 2])], [None], [None])
array([[1, 0],
       [2, 2]])
>>> pad_and_stack([np.array([1])], [(3,)], [-1])
array([[ 1, -1, -1]])
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.data.structure import Structure, columns, pack


def flatten_up_to(shallow: Structure, value: Any, what: str) -> list:
    """``value``'s parts at the leaves of ``shallow`` (an element's structure): a leaf of ``shallow`` takes the
    whole of what ``value`` holds there, so ``padded_shapes=(5,)`` is one shape for a single component."""
    if isinstance(shallow, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(shallow):
            raise ValueError(f"{what} {value!r} does not match the structure of the dataset's elements {shallow!r}")
        return [part for s, v in zip(shallow, value) for part in flatten_up_to(s, v, what)]
    if isinstance(shallow, dict):
        if not isinstance(value, dict) or set(value) != set(shallow):
            raise ValueError(f"{what} {value!r} does not match the structure of the dataset's elements {shallow!r}")
        return [part for key in sorted(shallow) for part in flatten_up_to(shallow[key], value[key], what)]
    return [value]


def as_padded_shape(value: Any) -> tuple | None:
    """A padded shape from an int (one axis), a list or tuple of sizes (None or -1: the largest), or None (also
    ``tf.TensorShape(None)``: any rank)."""
    if value is None or getattr(value, "rank", 0) is None:
        return None
    sizes = [value] if np.ndim(value) == 0 else list(np.asarray(value, dtype=object).reshape(-1))
    shape = []
    for size in sizes:
        if size is None or int(size) == -1:
            shape.append(None)
        elif int(size) < 0:
            raise ValueError(f"padded_shapes sizes must be non-negative, -1 or None, got {value!r}")
        else:
            shape.append(int(size))
    return tuple(shape)


def pad_and_stack(elements: Sequence[Structure], shapes: list, values: list) -> Structure:
    """The elements as one batch: component k padded to ``shapes[k]`` (None: the batch's largest sizes) with
    ``values[k]`` (None: zero)."""
    stacked = []
    for k, column in enumerate(columns(elements)):
        arrays = [np.asarray(leaf) for leaf in column]
        stacked.append(_pad_component(arrays, shapes[k], values[k], k))
    return pack(elements[0], stacked)


def _pad_component(arrays: list[np.ndarray], shape: tuple | None, value, component: int) -> np.ndarray:
    rank = arrays[0].ndim
    if any(a.ndim != rank for a in arrays):
        raise ValueError(f"padded_batch: the elements of component {component} have different ranks "
                         f"{sorted({a.ndim for a in arrays})}")
    if shape is not None and len(shape) != rank:
        raise ValueError(f"The padded shape {list(shape)} is not compatible with the shape {list(arrays[0].shape)} "
                         f"of component {component}: they have different ranks")
    largest = tuple(max(a.shape[axis] for a in arrays) for axis in range(rank))
    target = largest if shape is None else tuple(n if n is not None else m for n, m in zip(shape, largest))
    if any(m > n for m, n in zip(largest, target)):
        raise ValueError(f"Attempted to pad to a smaller size than the input element: component {component} has "
                         f"shape {list(largest)} at most, padded shape is {list(target)}.")
    dtype = np.result_type(*arrays) if arrays[0].dtype.kind in "US" else arrays[0].dtype
    fill = ("" if dtype.kind in "US" else 0) if value is None else np.asarray(value).item()
    out = np.full((len(arrays),) + target, fill, dtype=dtype)
    for i, a in enumerate(arrays):
        out[(i,) + tuple(slice(0, n) for n in a.shape)] = a
    return out
