"""``tf.sets``: set operations on the last axis of dense tensors or ``tf.sparse.SparseTensor``\\ s, row by row
(``intersection``, ``union``, ``difference``) and the number of distinct values per row (``size``), as TensorFlow
gives them: each result row sorted, the results as a SparseTensor whose last dimension is the longest row.

>>> import chainrule as tf
>>> result = tf.sets.intersection(tf.constant([[1, 2, 3], [4, 5, 6]]), tf.constant([[3, 1, 9], [7, 8, 9]]))
>>> tf.sparse.to_dense(result).numpy().tolist(), tf.sets.size(tf.constant([[1, 1, 2]])).numpy().tolist()
([[1, 3], [0, 0]], [2])
"""
from __future__ import annotations

import numpy as np

from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.compat.tf.sparse import SparseTensor
from chainrule.engine.tensor import Tensor


def _rows(value, name: str, argument: str) -> tuple[list[set], tuple, np.dtype]:
    """The set in each row of ``value`` (row-major over all but its last axis), those leading dims, its dtype."""
    if isinstance(value, SparseTensor):
        shape = tuple(int(d) for d in value.dense_shape.numpy())
        indices, values = value.indices.numpy(), np.asarray(value.values.data)
        lead, dtype = shape[:-1], values.dtype
        rows: list[set] = [set() for _ in range(int(np.prod(lead)))]
        flat = np.ravel_multi_index(indices[:, :-1].T, lead) if len(indices) and lead else np.zeros(len(indices), int)
        for row, item in zip(flat.tolist(), values.tolist()):
            rows[row].add(item)
    else:
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        shape, lead, dtype = array.shape, array.shape[:-1], array.dtype
        rows = [set(row) for row in array.reshape(int(np.prod(lead)), shape[-1] if shape else 0).tolist()] \
            if len(shape) >= 2 else []
    if len(shape) < 2:
        raise InvalidArgumentError(None, None, f"tf.sets.{name}: `{argument}` must have rank >= 2 (sets along the "
                                               f"last axis), got shape {list(shape)}")
    if dtype.kind not in "iuOUS":
        raise TypeError(f"tf.sets.{name}: `{argument}` must hold integers or strings, got dtype {dtype}")
    return rows, lead, dtype


def _sparse_result(rows: list, lead: tuple, dtype: np.dtype) -> SparseTensor:
    ordered = [sorted(row) for row in rows]
    width = max((len(row) for row in ordered), default=0)
    coords = [np.unravel_index(r, lead) + (j,) for r, row in enumerate(ordered) for j in range(len(row))]
    values = np.array([v for row in ordered for v in row], dtype=dtype)
    return SparseTensor(np.array(coords, np.int64).reshape(-1, len(lead) + 1), Tensor._wrap(values), [*lead, width])


def _operation(a, b, name: str, combine) -> SparseTensor:
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        raise ValueError("Sparse,Dense is not supported, but Dense,Sparse is. Please flip the order of your inputs.")
    rows_a, lead_a, dtype_a = _rows(a, name, "a")
    rows_b, lead_b, dtype_b = _rows(b, name, "b")
    if lead_a != lead_b:
        raise InvalidArgumentError(None, None, f"tf.sets.{name}: shapes of `a` and `b` must match in all but the last "
                                               f"dimension, got {list(lead_a)} and {list(lead_b)}")
    if (dtype_a.kind in "OUS") != (dtype_b.kind in "OUS"):
        raise TypeError(f"tf.sets.{name}: `a` and `b` must be of the same type, got {dtype_a} and {dtype_b}")
    return _sparse_result([combine(x, y) for x, y in zip(rows_a, rows_b)], lead_a, np.result_type(dtype_a, dtype_b))


def intersection(a, b, validate_indices: bool = True) -> SparseTensor:
    """The values in both ``a`` and ``b``, per row of the last axis."""
    return _operation(a, b, "intersection", set.intersection)


def union(a, b, validate_indices: bool = True) -> SparseTensor:
    """The values in ``a`` or ``b``, per row of the last axis."""
    return _operation(a, b, "union", set.union)


def difference(a, b, aminusb: bool = True, validate_indices: bool = True) -> SparseTensor:
    """The values of ``a`` not in ``b`` (``aminusb=False``: of ``b`` not in ``a``), per row of the last axis."""
    return _operation(a, b, "difference", set.difference if aminusb else lambda x, y: y - x)


def size(a, validate_indices: bool = True) -> Tensor:
    """The number of distinct values in each row of the last axis (int32, the leading dims' shape)."""
    rows, lead, _ = _rows(a, "size", "a")
    return Tensor._wrap(np.array([len(row) for row in rows], np.int32).reshape(lead))


set_intersection, set_union, set_difference, set_size = intersection, union, difference, size  # TF 1 names

__all__ = ["difference", "intersection", "set_difference", "set_intersection", "set_size", "set_union", "size",
           "union"]
