"""Nested structures of arrays as tf.data sees them: a leaf, or a tuple or dict of structures.

Lists are leaves, as in TensorFlow's tf.data (``[1, 2, 3]`` is one array, ``(x, y)`` a pair); otherwise these are
:mod:`chainrule.utils.tree`'s functions, and a dict's values come in the order of its sorted keys.

>>> import numpy as np
>>> map_structure(lambda a: a * 2, (np.array([1]), {"w": np.array([2])}))
(array([2]), {'w': array([4])})
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.utils import tree

Structure = Any  # a leaf (array, Tensor or list), or a tuple / dict of structures


def _is_list(structure: Any) -> bool:
    return isinstance(structure, list)


def map_structure(fn: Callable[[Any], Any], structure: Structure) -> Structure:
    """Apply ``fn`` to every leaf, keeping the tuples and dicts around them."""
    return tree.map_structure(fn, structure, is_leaf=_is_list)


def leaves(structure: Structure) -> list[Any]:
    """The leaves in order.

    >>> leaves((1, {"a": 2, "b": [3, 4]}))
    [1, 2, [3, 4]]
    """
    return tree.flatten(structure, is_leaf=_is_list)


def stack_structures(elements: Sequence[Structure]) -> Structure:
    """Stack same-shaped structures leaf by leaf along a new first axis (a batch).

    >>> stack_structures([(np.array(1), np.array(2)), (np.array(3), np.array(4))])
    (array([1, 3]), array([2, 4]))
    """
    columns = [leaves(element) for element in elements]
    return tree.pack_sequence_as(elements[0], [np.stack(column) for column in zip(*columns)], is_leaf=_is_list)
