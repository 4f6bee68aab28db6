"""Nested structures of arrays, as tf.data sees them: a leaf, or a tuple or dict of structures.

Lists are leaves, as in TensorFlow: ``[1, 2, 3]`` is one array, ``(x, y)`` is a pair.

>>> import numpy as np
>>> map_structure(lambda a: a * 2, (np.array([1]), {"w": np.array([2])}))
(array([2]), {'w': array([4])})
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Structure = Any  # a leaf (array or Tensor), or a tuple / dict of structures


def map_structure(fn: Callable[[Any], Any], structure: Structure) -> Structure:
    """Apply ``fn`` to every leaf, keeping the tuples and dicts around them."""
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, item) for key, item in structure.items()}
    return fn(structure)


def leaves(structure: Structure) -> list[Any]:
    """The leaves in order.

    >>> leaves((1, {"a": 2, "b": (3,)}))
    [1, 2, 3]
    """
    found: list[Any] = []
    map_structure(found.append, structure)
    return found


def stack_structures(elements: Sequence[Structure]) -> Structure:
    """Stack same-shaped structures leaf by leaf along a new first axis (a batch).

    >>> stack_structures([(np.array(1), np.array(2)), (np.array(3), np.array(4))])
    (array([1, 3]), array([2, 4]))
    """
    columns = [leaves(element) for element in elements]
    stacked = iter([np.stack(column) for column in zip(*columns)])
    return map_structure(lambda _: next(stacked), elements[0])
