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


def map_structure(fn: Callable[..., Any], *structures: Structure) -> Structure:
    """Apply ``fn`` to every leaf (to the leaves in the same place, given several structures that nest alike),
    keeping the tuples and dicts around them."""
    return tree.map_structure(fn, *structures, is_leaf=_is_list)


def leaves(structure: Structure) -> list[Any]:
    """The leaves in order.

    >>> leaves((1, {"a": 2, "b": [3, 4]}))
    [1, 2, [3, 4]]
    """
    return tree.flatten(structure, is_leaf=_is_list)


def pack(structure: Structure, flat: Sequence[Any]) -> Structure:
    """``flat`` (leaves in :func:`leaves`' order) in the shape of ``structure``.

    >>> pack((0, {"a": 0}), [1, 2])
    (1, {'a': 2})
    """
    return tree.pack_sequence_as(structure, flat, is_leaf=_is_list)


def columns(elements: Sequence[Structure]) -> list[list[Any]]:
    """The leaves of same-structured elements, one list per leaf position."""
    return [list(column) for column in zip(*(leaves(element) for element in elements))]


def is_composite(leaf: Any) -> bool:
    """A composite tensor (tf.sparse.SparseTensor: indices, values, dense_shape), which a dataset keeps whole."""
    return all(hasattr(leaf, name) for name in ("indices", "values", "dense_shape"))


def _stack_sparse(column: list, component: int) -> Any:
    """Sparse elements batched as TensorFlow batches them: one SparseTensor with the batch index before each entry's
    index, its dense shape the largest of each dimension."""
    shapes = [np.asarray(leaf.dense_shape.data, dtype=np.int64) for leaf in column]
    if len({len(shape) for shape in shapes}) > 1:
        raise ValueError(f"Cannot batch sparse tensors of different ranks in component {component}: "
                         f"{[len(shape) for shape in shapes]}")
    rank = len(shapes[0])
    indices = [np.asarray(leaf.indices.data, dtype=np.int64).reshape(-1, rank) for leaf in column]
    batched = np.concatenate([np.column_stack([np.full(len(rows), b, np.int64), rows])
                              for b, rows in enumerate(indices)])
    values = np.concatenate([np.asarray(leaf.values.data) for leaf in column])
    return type(column[0])(batched, values, [len(column), *np.max(shapes, axis=0).tolist()])


def stack_structures(elements: Sequence[Structure]) -> Structure:
    """Stack same-shaped structures leaf by leaf along a new first axis (a batch).

    >>> stack_structures([(np.array(1), np.array(2)), (np.array(3), np.array(4))])
    (array([1, 3]), array([2, 4]))
    """
    stacked = []
    for component, column in enumerate(columns(elements)):
        if any(hasattr(leaf, "element_spec") for leaf in column):
            raise TypeError("Cannot batch a component that is a dataset (such as the windows of "
                            "Dataset.window); flatten it first, e.g. with flat_map(lambda w: w.batch(size))")
        if is_composite(column[0]):
            stacked.append(_stack_sparse(column, component))
            continue
        try:
            stacked.append(np.stack(column))
        except ValueError:
            shapes = [np.shape(leaf) for leaf in column]
            other = next((i for i, shape in enumerate(shapes) if shape != shapes[0]), 0)
            raise ValueError(f"Cannot batch tensors with different shapes in component {component}. First element "
                             f"had shape {list(shapes[0])} and element {other} had shape {list(shapes[other])}."
                             ) from None
    return pack(elements[0], stacked)
