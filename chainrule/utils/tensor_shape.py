"""``tf.TensorShape``: a shape whose sizes may be unknown (None), or whose rank may be unknown.

It is a tuple of ints and Nones, so it goes wherever a shape tuple goes (``keras.Input(shape=...)``, comparisons
with tuples), with TensorFlow's methods on top: ``as_list``, ``rank``, ``is_fully_defined``, ``merge_with``, ...
An unknown rank (``TensorShape(None)``) has no length and no items, as in TensorFlow.

>>> import chainrule as tf
>>> s = tf.TensorShape([None, 28, 28])
>>> s.rank, s.as_list(), s[1:], s.num_elements()
(3, [None, 28, 28], TensorShape([28, 28]), None)
>>> s.merge_with([32, None, 28]), s == (None, 28, 28)
(TensorShape([32, 28, 28]), True)
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _dimension(value: Any) -> int | None:
    """One size: an int >= 0, or None for unknown."""
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, (int, np.integer)):  # a tf.compat.v1.Dimension-like
        value = value.value
        if value is None:
            return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) and \
            not (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        raise TypeError(f"Dimension value must be integer or None or have an __index__ method, got value "
                        f"'{value!r}' with type '{type(value)}'")
    value = int(value)
    if value < 0:
        raise ValueError(f"Dimension {value} must be >= 0")
    return value


class TensorShape(tuple):
    """A possibly partial shape: ``TensorShape([None, 3])``; ``TensorShape(None)`` for an unknown rank."""

    _known_rank = True  # an unknown rank is the subclass _UnknownRank, so that known shapes keep tuple's C slots

    def __new__(cls, dims=None) -> "TensorShape":
        if isinstance(dims, TensorShape):
            return dims if type(dims) in (TensorShape, _UnknownRank) else TensorShape(dims.dims)
        if dims is None:
            return tuple.__new__(_UnknownRank, ())
        try:
            items = list(dims)
        except TypeError:  # one size alone: a rank-1 shape
            items = [dims]
        return tuple.__new__(cls, [_dimension(d) for d in items])

    @classmethod
    def of_array(cls, shape: tuple[int, ...]) -> "TensorShape":
        """A concrete array's shape (a tuple of ints, trusted as it is): the fast path of ``Tensor.shape``."""
        return tuple.__new__(cls, shape)

    def __getnewargs__(self):
        return (self.dims,)

    # --- what TensorFlow's TensorShape answers ------------------------------------------------------------------
    @property
    def rank(self) -> int | None:
        """The number of axes, None when unknown."""
        return tuple.__len__(self) if self._known_rank else None

    ndims = rank

    @property
    def dims(self) -> list[int | None] | None:
        """The sizes as a list (None for an unknown rank)."""
        return list(tuple.__iter__(self)) if self._known_rank else None

    def as_list(self) -> list[int | None]:
        """The sizes as a list; an unknown rank has none."""
        if not self._known_rank:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(tuple.__iter__(self))

    def is_fully_defined(self) -> bool:
        return self._known_rank and all(d is not None for d in tuple.__iter__(self))

    def num_elements(self) -> int | None:
        """The product of the sizes, None unless fully defined."""
        return int(np.prod(self.as_list(), dtype=np.int64)) if self.is_fully_defined() else None

    def is_compatible_with(self, other) -> bool:
        """Whether ``other`` could be the same shape: unknown sizes and ranks match anything."""
        other = as_shape(other)
        if not (self._known_rank and other._known_rank):
            return True
        return self.rank == other.rank and all(a is None or b is None or a == b
                                               for a, b in zip(tuple.__iter__(self), tuple.__iter__(other)))

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def merge_with(self, other) -> "TensorShape":
        """The shape that both describe: each unknown size taken from the other."""
        other = as_shape(other)
        if not self._known_rank:
            return other
        if not other._known_rank:
            return self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape([a if a is not None else b for a, b in zip(tuple.__iter__(self), tuple.__iter__(other))])

    def most_specific_compatible_shape(self, other) -> "TensorShape":
        """The most specific shape compatible with both: sizes that differ become None."""
        other = as_shape(other)
        if not (self._known_rank and other._known_rank) or self.rank != other.rank:
            return TensorShape(None)
        return TensorShape([a if a == b else None for a, b in zip(tuple.__iter__(self), tuple.__iter__(other))])

    def concatenate(self, other) -> "TensorShape":
        other = as_shape(other)
        if not (self._known_rank and other._known_rank):
            return TensorShape(None)
        return TensorShape(self.as_list() + other.as_list())

    def with_rank(self, rank: int) -> "TensorShape":
        """This shape, which must have (or may have, when unknown) ``rank`` axes."""
        if not self._known_rank:
            return TensorShape([None] * rank)
        if self.rank != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def with_rank_at_least(self, rank: int) -> "TensorShape":
        if self._known_rank and self.rank < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank: int) -> "TensorShape":
        if self._known_rank and self.rank > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def assert_has_rank(self, rank: int) -> None:
        if self._known_rank and self.rank != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")

    def assert_same_rank(self, other) -> None:
        other = as_shape(other)
        if self._known_rank and other._known_rank and self.rank != other.rank:
            raise ValueError(f"Shapes {self} and {other} must have the same rank")

    def assert_is_fully_defined(self) -> None:
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")

    # --- a tuple: len, iter and bool are tuple's own; slices stay TensorShapes ---------------------------------
    def __bool__(self) -> bool:
        """True: a known rank, even a scalar's ``TensorShape([])``, as in TensorFlow (only an unknown rank is false)."""
        return True

    def __getitem__(self, key):
        """A size (int or None) for an index, a TensorShape for a slice."""
        item = tuple.__getitem__(self, key)
        return tuple.__new__(TensorShape, item) if type(key) is slice else item

    def __eq__(self, other) -> bool:
        if type(other) is tuple:
            return self._known_rank and tuple.__eq__(self, other)
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self.dims == other.dims

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__  # equal to a tuple means hashing like it (dict keys)

    def __add__(self, other) -> "TensorShape":
        return self.concatenate(other)

    def __radd__(self, other) -> "TensorShape":
        return as_shape(other).concatenate(self)

    def __repr__(self) -> str:
        return f"TensorShape({self.as_list()})" if self._known_rank else "TensorShape(None)"

    def __str__(self) -> str:
        if not self._known_rank:
            return "<unknown>"
        sizes = [str(d) for d in tuple.__iter__(self)]
        return f"({sizes[0]},)" if len(sizes) == 1 else f"({', '.join(sizes)})"


class _UnknownRank(TensorShape):
    """``TensorShape(None)``: no length and no items, as in TensorFlow."""

    _known_rank = False

    def __len__(self) -> int:
        raise ValueError("Cannot take the length of shape with unknown rank.")

    def __iter__(self):
        raise ValueError("Cannot iterate over a shape with unknown rank.")

    def __bool__(self) -> bool:
        return False

    def __getitem__(self, key):
        return TensorShape(None) if isinstance(key, slice) else None


def as_shape(shape) -> TensorShape:
    """``shape`` as a TensorShape (itself when it is one)."""
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


__all__ = ["TensorShape", "as_shape"]
