"""``tf.RaggedTensor`` and ``tf.ragged``: rows of different lengths, as TensorFlow stores them: the rows' values
one after another (``values``) and where each row starts and ends (``row_splits``, one more than the rows).

A value nested deeper is a RaggedTensor of RaggedTensors (``ragged_rank`` > 1). Elementwise arithmetic with numbers
or a RaggedTensor of the same rows works on the flat values (and keeps their gradient); ``to_tensor`` pads to a
dense Tensor; ``to_list`` gives the nested lists back.

>>> import chainrule as tf
>>> rt = tf.ragged.constant([[0, 1, 2, 3], [4, 5], [6, 7, 8], [9]])
>>> print(rt)
<tf.RaggedTensor [[0, 1, 2, 3], [4, 5], [6, 7, 8], [9]]>
>>> rt.shape, rt.row_lengths().numpy().tolist()
(TensorShape([4, None]), [4, 2, 3, 1])
>>> (rt * 2)[1].numpy().tolist(), rt.to_tensor().shape
([8, 10], TensorShape([4, 4]))
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras.layers.preprocessing.ragged_rows import register_ragged_builder
from chainrule.utils.tensor_shape import TensorShape


def _int_vector(value, name: str) -> np.ndarray:
    array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"RaggedTensor: {name} must be a vector of integers, got {array!r}")
    return array.astype(np.int64)


class RaggedTensor:
    """Rows of different lengths: ``values`` (a Tensor, or a RaggedTensor for deeper nesting) cut by
    ``row_splits``."""

    def __init__(self, values, row_splits, validate: bool = True):
        self._values = values if isinstance(values, (Tensor, RaggedTensor)) else as_tensor(values)
        self._row_splits = _int_vector(row_splits, "row_splits")
        if validate:
            splits, count = self._row_splits, _nrows(self._values)
            if splits.size == 0 or splits[0] != 0 or (np.diff(splits) < 0).any() or splits[-1] != count:
                raise ValueError(f"RaggedTensor: row_splits must start at 0, never decrease and end at the number "
                                 f"of values ({count}); got {splits.tolist()}")

    # --- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate: bool = True) -> "RaggedTensor":
        return cls(values, row_splits, validate)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate: bool = True) -> "RaggedTensor":
        lengths = _int_vector(row_lengths, "row_lengths")
        if validate and (lengths < 0).any():
            raise ValueError(f"RaggedTensor: row_lengths must be >= 0, got {lengths.tolist()}")
        return cls(values, np.concatenate([[0], np.cumsum(lengths)]), validate)

    @classmethod
    def from_row_starts(cls, values, row_starts, name=None, validate: bool = True) -> "RaggedTensor":
        starts = _int_vector(row_starts, "row_starts")
        return cls(values, np.concatenate([starts, [_nrows(values if isinstance(values, (Tensor, RaggedTensor))
                                                           else as_tensor(values))]]), validate)

    @classmethod
    def from_row_limits(cls, values, row_limits, name=None, validate: bool = True) -> "RaggedTensor":
        return cls(values, np.concatenate([[0], _int_vector(row_limits, "row_limits")]), validate)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate: bool = True) -> "RaggedTensor":
        rowids = _int_vector(value_rowids, "value_rowids")
        if validate and (np.diff(rowids) < 0).any():
            raise ValueError(f"RaggedTensor: value_rowids must be sorted, got {rowids.tolist()}")
        count = int(nrows) if nrows is not None else (int(rowids[-1]) + 1 if rowids.size else 0)
        return cls.from_row_lengths(values, np.bincount(rowids, minlength=count)[:count], validate=validate)

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate: bool = True):
        result = flat_values
        for splits in reversed(list(nested_row_splits)):
            result = cls(result, splits, validate)
        return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank: int = 1, name=None) -> "RaggedTensor":
        """Rows of a dense (rows, columns, ...) tensor, cut at ``lengths`` or before trailing ``padding``."""
        tensor = as_tensor(tensor)
        if ragged_rank != 1:
            raise NotImplementedError("RaggedTensor.from_tensor: only ragged_rank=1 is supported")
        rows, columns = tensor.shape[0], tensor.shape[1]
        if lengths is not None:
            keep = _int_vector(lengths, "lengths")
        elif padding is not None:
            is_pad = np.asarray(tensor.numpy() == np.asarray(padding))
            is_pad = is_pad.reshape(rows, columns, -1).all(axis=2)
            keep = np.array([columns - int(np.argmin(row[::-1])) if not row.all() else 0 for row in is_pad])
        else:
            keep = np.full(rows, columns)
        mask = np.arange(columns)[None, :] < keep[:, None]
        flat_index = np.flatnonzero(mask.reshape(-1))
        values = ops.take(ops.reshape(tensor, (rows * columns, *tensor.shape[2:])), flat_index, axis=0)
        return cls.from_row_lengths(values, keep)

    # --- what it holds --------------------------------------------------------------------------------------------
    @property
    def values(self):
        return self._values

    @property
    def row_splits(self) -> Tensor:
        return Tensor(self._row_splits)

    @property
    def flat_values(self) -> Tensor:
        values = self._values
        while isinstance(values, RaggedTensor):
            values = values.values
        return values

    @property
    def nested_row_splits(self) -> tuple:
        splits, values = [self.row_splits], self._values
        while isinstance(values, RaggedTensor):
            splits.append(values.row_splits)
            values = values.values
        return tuple(splits)

    @property
    def ragged_rank(self) -> int:
        return 1 + (self._values.ragged_rank if isinstance(self._values, RaggedTensor) else 0)

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def shape(self) -> TensorShape:
        """The number of rows, None for the ragged axis (even when the rows happen to be equal, as in TensorFlow),
        then the values' own axes."""
        return TensorShape([self.nrows(), None, *list(self._values.shape)[1:]])

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def nrows(self) -> int:
        return int(self._row_splits.size - 1)

    def row_lengths(self, axis: int = 1) -> Tensor:
        if axis != 1:
            raise NotImplementedError("RaggedTensor.row_lengths: only axis=1 is supported")
        return Tensor(np.diff(self._row_splits))

    def row_starts(self) -> Tensor:
        return Tensor(self._row_splits[:-1])

    def row_limits(self) -> Tensor:
        return Tensor(self._row_splits[1:])

    def value_rowids(self) -> Tensor:
        return Tensor(np.repeat(np.arange(self.nrows()), np.diff(self._row_splits)))

    def bounding_shape(self) -> Tensor:
        """The shape of the smallest dense tensor that holds every row."""
        inner = self._values.bounding_shape().numpy()[1:] if isinstance(self._values, RaggedTensor) else \
            np.asarray(self._values.shape[1:], dtype=np.int64)
        longest = int(np.diff(self._row_splits).max()) if self.nrows() else 0
        return Tensor(np.array([self.nrows(), longest, *inner], dtype=np.int64))

    # --- rows -----------------------------------------------------------------------------------------------------
    def _row(self, i: int):
        start, stop = int(self._row_splits[i]), int(self._row_splits[i + 1])
        return self._values[start:stop]

    def __len__(self) -> int:
        return self.nrows()

    def __iter__(self):
        return (self._row(i) for i in range(self.nrows()))

    def __getitem__(self, key):
        if isinstance(key, numbers.Integral):
            index = int(key) + self.nrows() if key < 0 else int(key)
            if not 0 <= index < self.nrows():
                raise IndexError(f"RaggedTensor: row {key} is out of range for {self.nrows()} rows")
            return self._row(index)
        if isinstance(key, slice):
            rows = range(*key.indices(self.nrows()))
            return _stack_rows([self._row(i) for i in rows], self)
        if isinstance(key, tuple) and key and isinstance(key[0], numbers.Integral):
            row = self[key[0]]
            return row[key[1:]] if len(key) > 1 else row
        if isinstance(key, tuple) and key and isinstance(key[0], slice):
            # rows, then within each row (rt[:, :128], TensorFlow's transformer tutorial trims its token rows)
            if len(key) == 1:
                return self[key[0]]
            if not isinstance(key[1], slice):
                raise ValueError(f"Cannot index into an inner ragged dimension (index {key!r}); slice it instead")
            rows = range(*key[0].indices(self.nrows()))
            return _stack_rows([self._row(i)[key[1:] if len(key) > 2 else key[1]] for i in rows], self)
        raise TypeError(f"RaggedTensor indices must be an int, a slice, or a tuple of them; got {key!r}")

    # --- conversion -----------------------------------------------------------------------------------------------
    def to_list(self) -> list:
        return [row.to_list() if isinstance(row, RaggedTensor) else row.numpy().tolist() for row in self]

    def numpy(self) -> np.ndarray:
        """An object array of the rows' arrays, as TensorFlow gives."""
        rows = np.empty(self.nrows(), dtype=object)
        for i, row in enumerate(self):
            rows[i] = row.numpy()
        return rows

    def to_tensor(self, default_value=None, name=None, shape=None) -> Tensor:
        """A dense tensor: rows padded with ``default_value`` (0) to the longest (or to ``shape``)."""
        bounding = self.bounding_shape().numpy().tolist()
        target = [b if s is None else int(s) for b, s in zip(bounding, shape)] if shape is not None else bounding
        fill = 0 if default_value is None else default_value
        rows = []
        for row in self:
            dense = row.to_tensor(default_value, shape=[None, *target[2:]]) if isinstance(row, RaggedTensor) else row
            dense = dense[:target[1]]
            pad = [(0, target[1] - dense.shape[0])] + [(0, t - s) for t, s in zip(target[2:], dense.shape[1:])]
            rows.append(ops.pad(dense, pad, constant_values=fill))
        if not rows:
            return Tensor(np.full(target, fill, dtype=self.dtype))
        out = ops.stack(rows[:target[0]], axis=0)
        if target[0] > out.shape[0]:
            out = ops.pad(out, [(0, target[0] - out.shape[0])] + [(0, 0)] * (out.ndim - 1), constant_values=fill)
        return out

    def with_values(self, new_values) -> "RaggedTensor":
        return RaggedTensor(new_values, self._row_splits, validate=False)

    def with_flat_values(self, new_values) -> "RaggedTensor":
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def __repr__(self) -> str:
        return f"<tf.RaggedTensor {self.to_list()}>"

    __str__ = __repr__

    # --- elementwise arithmetic on the flat values ----------------------------------------------------------------
    def _elementwise(self, other, fn: Callable, reverse: bool = False) -> "RaggedTensor":
        if isinstance(other, RaggedTensor):
            if not _same_rows(self, other):
                raise ValueError("RaggedTensor arithmetic: the two ragged tensors have different row lengths")
            other = other.flat_values
        elif not isinstance(other, numbers.Number):
            raise TypeError(f"RaggedTensor arithmetic takes a number or a RaggedTensor with the same rows, got "
                            f"{type(other).__name__}")
        a, b = (other, self.flat_values) if reverse else (self.flat_values, other)
        return self.with_flat_values(fn(a, b))

    def __add__(self, other):
        return self._elementwise(other, lambda a, b: a + b)

    def __radd__(self, other):
        return self._elementwise(other, lambda a, b: a + b, reverse=True)

    def __sub__(self, other):
        return self._elementwise(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._elementwise(other, lambda a, b: a - b, reverse=True)

    def __mul__(self, other):
        return self._elementwise(other, lambda a, b: a * b)

    def __rmul__(self, other):
        return self._elementwise(other, lambda a, b: a * b, reverse=True)

    def __truediv__(self, other):
        return self._elementwise(other, lambda a, b: a / b)

    def __neg__(self):
        return self.with_flat_values(-self.flat_values)


def _nrows(values) -> int:
    return values.nrows() if isinstance(values, RaggedTensor) else int(values.shape[0])


def _same_rows(a: RaggedTensor, b: RaggedTensor) -> bool:
    """Whether two RaggedTensors cut their values alike at every ragged level."""
    splits_a, splits_b = a.nested_row_splits, b.nested_row_splits
    return len(splits_a) == len(splits_b) and all(np.array_equal(x.numpy(), y.numpy())
                                                  for x, y in zip(splits_a, splits_b))


def _stack_rows(rows: list, like: RaggedTensor) -> RaggedTensor:
    """A RaggedTensor of the given rows (each a Tensor, or a RaggedTensor when ``like`` is nested deeper)."""
    lengths = [_nrows(row) for row in rows]
    if isinstance(like.values, RaggedTensor):
        inner = _stack_rows([r for row in rows for r in row], like.values) if rows else like.values[0:0]
        return RaggedTensor.from_row_lengths(inner, lengths)
    values = ops.concat(rows, axis=0) if rows else like.values[0:0]
    return RaggedTensor.from_row_lengths(values, lengths)


def _depth(value) -> int:
    if isinstance(value, np.ndarray):  # TensorFlow nests NumPy arrays as it nests lists
        return value.ndim
    if isinstance(value, (list, tuple)):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def constant(pylist, dtype=None, ragged_rank: int | None = None, inner_shape=None, name=None,
             row_splits_dtype=None) -> RaggedTensor:
    """A RaggedTensor of nested Python lists whose rows may differ in length (``tf.ragged.constant``); a NumPy
    array (a pandas column of lists is an object array of them) is taken as the lists it holds, as TensorFlow does."""
    if isinstance(pylist, np.ndarray):
        pylist = pylist.tolist()
    if not isinstance(pylist, (list, tuple)):
        raise ValueError(f"tf.ragged.constant: expected a nested list, got {type(pylist).__name__}")
    depth = _depth(pylist)
    inner = len(inner_shape) if inner_shape is not None else 0
    rank = depth - 1 - inner if ragged_rank is None else int(ragged_rank)
    if rank < 1:
        raise ValueError(f"tf.ragged.constant: ragged_rank must be at least 1, got {rank}")

    def build(items, level: int):
        if level == rank:
            return as_tensor(np.asarray(items, dtype=dtype) if dtype is not None else items) if items else \
                Tensor(np.zeros((0, *(inner_shape or ())), dtype=dtype or np.float32))
        lengths = [len(item) for item in items]
        flat = [x for item in items for x in item]
        return RaggedTensor.from_row_lengths(build(flat, level + 1), lengths)

    return build(list(pylist), 0)


def map_flat_values(op: Callable, *args, **kwargs) -> Any:
    """``op`` applied to the flat values of the RaggedTensor arguments (which must share their rows)."""
    ragged = [a for a in (*args, *kwargs.values()) if isinstance(a, RaggedTensor)]
    if not ragged:
        return op(*args, **kwargs)
    if not all(_same_rows(ragged[0], r) for r in ragged[1:]):
        raise ValueError("tf.ragged.map_flat_values: the RaggedTensor arguments have different row lengths")
    flat = lambda a: a.flat_values if isinstance(a, RaggedTensor) else a  # noqa: E731
    return ragged[0].with_flat_values(op(*map(flat, args), **{k: flat(v) for k, v in kwargs.items()}))


def stack(values, axis: int = 0, name=None) -> RaggedTensor:
    """The rows of several RaggedTensors (or nested lists) one after another, each as one row (axis 0)."""
    if axis != 0:
        raise NotImplementedError("tf.ragged.stack: only axis=0 is supported")
    if not values:
        raise ValueError("tf.ragged.stack: expected at least one value")
    rows = [v if isinstance(v, RaggedTensor) else constant(v) for v in values]
    return RaggedTensor.from_row_lengths(_stack_rows([row for rt in rows for row in rt], rows[0]),
                                         [r.nrows() for r in rows])


# keras's layers hand out ragged rows (TextVectorization(ragged=True)) through this builder: keras sits below this module
register_ragged_builder(lambda values, row_lengths: RaggedTensor.from_row_lengths(values, row_lengths))

__all__ = ["RaggedTensor", "constant", "map_flat_values", "stack"]
