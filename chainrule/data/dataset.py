"""Dataset: tf.data's input pipeline on NumPy arrays.

>>> import numpy as np
>>> ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) % 2)).shuffle(10, seed=0).batch(4)
>>> len(ds)
3
>>> for images, labels in ds:
...     pass
>>> labels.shape
(2,)

How it stays fast: a dataset made by ``from_tensor_slices`` keeps its arrays whole and moves only row numbers
through ``shuffle``, ``take``, ``skip``, ``repeat`` and ``batch`` (see :mod:`chainrule.data.blocks`); each batch is
then one fancy-indexing gather per array. ``map`` calls its function once per element (once per batch after
``batch``), as tf.data does, so put vectorized work after ``batch``.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.data import blocks as bl
from chainrule.data.structure import Structure, leaves, map_structure, stack_structures
from chainrule.engine.tensor import as_tensor

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2  # after filter: the count is known only by iterating (tf.data's code)


class Dataset:
    """A re-iterable sequence of elements (a Tensor, or a tuple or dict of them); every method returns a new one.

    Build one with :meth:`from_tensor_slices`; each full iteration is one epoch.
    """

    def __init__(self, make_blocks: Callable[[], bl.Blocks], cardinality: int, source: Structure | None = None):
        self._make_blocks = make_blocks  # a fresh stream of blocks per epoch
        self._cardinality = cardinality
        self._source = source  # the arrays the blocks index into, or None when blocks hold elements

    @staticmethod
    def from_tensor_slices(tensors: Structure) -> "Dataset":
        """One element per row of the input: an array, a tuple ``(x, y)`` or a dict of arrays, sliced along axis 0.

        >>> [int(x) for x in Dataset.from_tensor_slices(np.array([3, 1, 2]))]
        [3, 1, 2]
        """
        source = map_structure(lambda leaf: as_tensor(leaf).data, tensors)
        rows = {array.shape[0] if array.ndim else None for array in leaves(source)}
        if None in rows or len(rows) != 1:
            found = sorted(rows, key=str)
            raise ValueError(f"from_tensor_slices needs arrays with the same first dimension, got {found}")
        n = rows.pop()
        return Dataset(lambda: iter((np.arange(n),)), n, source)

    # --- transformations ----------------------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True) -> "Dataset":
        """Random order. A buffer at least as large as the dataset gives a uniform permutation per epoch; a smaller
        one works like tf.data's buffer (each output is drawn from the next ``buffer_size`` items), so order is
        only mixed locally. Without a seed the draws come from :func:`chainrule.backend.rng` (see ``set_seed``).

        >>> ds = Dataset.from_tensor_slices(np.arange(5))
        >>> sorted(int(x) for x in ds.shuffle(5))
        [0, 1, 2, 3, 4]
        """
        if buffer_size < 1:
            raise ValueError(f"shuffle buffer_size must be at least 1, got {buffer_size}")
        base_seed = seed if seed is not None else int(backend.rng().integers(2**63))
        epochs = itertools.count()
        full = 0 <= self._cardinality <= buffer_size

        def make_blocks() -> bl.Blocks:
            rng = np.random.default_rng([base_seed, next(epochs) if reshuffle_each_iteration else 0])
            if full:
                return bl.permute(self._make_blocks(), rng)
            return bl.buffer_shuffle(self._make_blocks(), buffer_size, rng)

        return Dataset(make_blocks, self._cardinality, self._source)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> "Dataset":
        """Stack ``batch_size`` consecutive elements into one; the last batch is smaller unless ``drop_remainder``.

        >>> [x.shape for x in Dataset.from_tensor_slices(np.zeros((5, 2))).batch(2)]
        [(2, 2), (2, 2), (1, 2)]
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        gather = self._gather_rows if self._source is not None else stack_structures

        def make_blocks() -> bl.Blocks:
            for chunk in bl.rebatch(self._make_blocks(), batch_size, drop_remainder):
                yield _element_block(gather(chunk))

        if self._cardinality < 0:  # infinite or unknown stays so
            cardinality = self._cardinality
        elif drop_remainder:
            cardinality = self._cardinality // batch_size
        else:
            cardinality = -(-self._cardinality // batch_size)
        return Dataset(make_blocks, cardinality)

    def map(self, fn: Callable[..., Any], num_parallel_calls: int | None = None) -> "Dataset":
        """Apply ``fn`` to each element, given as Tensors; a tuple element is spread over the arguments, as in
        tf.data. ``num_parallel_calls`` is accepted for TensorFlow code and ignored: calls run one after another.

        >>> ds = Dataset.from_tensor_slices((np.array([1, 2]), np.array([3, 4]))).map(lambda x, y: x + y)
        >>> [int(z) for z in ds]
        [4, 6]
        """
        def make_blocks() -> bl.Blocks:
            for element in self._elements():
                tensors = map_structure(as_tensor, element)
                result = fn(*tensors) if isinstance(tensors, tuple) else fn(tensors)
                yield _element_block(map_structure(lambda leaf: as_tensor(leaf).data, result))

        return Dataset(make_blocks, self._cardinality)

    def repeat(self, count: int | None = None) -> "Dataset":
        """The dataset ``count`` times over (None or -1: forever); each pass reshuffles an earlier ``shuffle``.

        >>> Dataset.from_tensor_slices(np.arange(3)).repeat(2).cardinality()
        6
        """
        passes = None if count is None or count < 0 else count
        if self._cardinality == 0 or passes == 0:
            passes, cardinality = 0, 0
        elif passes is None:
            cardinality = INFINITE_CARDINALITY
        elif self._cardinality < 0:
            cardinality = self._cardinality
        else:
            cardinality = self._cardinality * passes
        return Dataset(lambda: bl.repeat(self._make_blocks, passes), cardinality, self._source)

    def take(self, count: int) -> "Dataset":
        """The first ``count`` elements (-1: all of them).

        >>> [int(x) for x in Dataset.from_tensor_slices(np.arange(5)).take(2)]
        [0, 1]
        """
        if count < 0:
            return self
        cardinality = {INFINITE_CARDINALITY: count, UNKNOWN_CARDINALITY: UNKNOWN_CARDINALITY}.get(
            self._cardinality, min(count, self._cardinality))
        return Dataset(lambda: bl.take(self._make_blocks(), count), cardinality, self._source)

    def skip(self, count: int) -> "Dataset":
        """All but the first ``count`` elements.

        >>> [int(x) for x in Dataset.from_tensor_slices(np.arange(5)).skip(3)]
        [3, 4]
        """
        if count < 0:
            raise ValueError(f"skip count must be >= 0, got {count}")
        cardinality = self._cardinality
        if cardinality >= 0:
            cardinality = max(cardinality - count, 0)
        return Dataset(lambda: bl.skip(self._make_blocks(), count), cardinality, self._source)

    def filter(self, predicate: Callable[..., Any]) -> "Dataset":
        """The elements for which ``predicate`` (given Tensors, a tuple spread over the arguments, as in ``map``)
        returns True, as a boolean scalar. The count is then unknown until iterated: ``cardinality()`` is
        ``UNKNOWN_CARDINALITY`` (-2), and ``len()`` raises.

        >>> ds = Dataset.from_tensor_slices(np.arange(6)).filter(lambda x: x % 2 == 0)
        >>> [int(x) for x in ds], ds.cardinality()
        ([0, 2, 4], -2)
        """
        def keep(element) -> bool:
            tensors = map_structure(as_tensor, element)
            verdict = as_tensor(predicate(*tensors) if isinstance(tensors, tuple) else predicate(tensors)).data
            if verdict.shape != () or verdict.dtype != np.bool_:
                raise TypeError(f"filter: the predicate must return a boolean scalar, got one of shape "
                                f"{verdict.shape} and dtype {verdict.dtype}")
            return bool(verdict)

        def make_blocks() -> bl.Blocks:
            for block in self._make_blocks():
                if self._source is not None:  # row numbers: keep those whose rows pass
                    kept = block[np.fromiter((keep(self._gather_rows(row)) for row in block), bool, len(block))]
                else:
                    kept = np.fromiter((e for e in block if keep(e)), dtype=object)
                if len(kept):
                    yield kept

        return Dataset(make_blocks, UNKNOWN_CARDINALITY, self._source)

    def cache(self, filename: str = "") -> "Dataset":
        """The elements of the first complete pass, kept in memory; later passes replay them, so the work before
        ``cache()`` (a ``map``, a ``shuffle``) runs once, as in tf.data. A pass stopped early keeps nothing.

        >>> calls = []
        >>> ds = Dataset.from_tensor_slices(np.arange(3)).map(lambda x: calls.append(1) or x * 2).cache()
        >>> [int(x) for x in ds] == [int(x) for x in ds] == [0, 2, 4], len(calls)
        (True, 3)
        """
        if filename:
            raise NotImplementedError(f"Dataset.cache(filename={filename!r}): a cache file is not supported; "
                                      f"cache() keeps the elements in memory")
        complete: list[list] = []  # one list of blocks once a pass has run to the end

        def make_blocks() -> bl.Blocks:
            if complete:
                return iter(complete[0])
            return _recorded(self._make_blocks(), complete)

        return Dataset(make_blocks, self._cardinality, self._source)

    def prefetch(self, buffer_size: int) -> "Dataset":
        """Returns the dataset itself. tf.data prepares batches on a background thread while the model trains; here
        NumPy runs one thing at a time and a batch is one gather, so there is nothing to overlap."""
        return self

    # --- reading ------------------------------------------------------------------------------------------------
    def cardinality(self) -> int:
        """The number of elements, ``INFINITE_CARDINALITY`` (-1) after an endless ``repeat()``, or
        ``UNKNOWN_CARDINALITY`` (-2) after ``filter``."""
        return self._cardinality

    def __len__(self) -> int:
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __iter__(self) -> Iterator[Structure]:
        """One epoch of elements as chainrule Tensors: ``for images, labels in dataset:``."""
        for element in self._elements():
            yield map_structure(as_tensor, element)

    def as_numpy_iterator(self) -> Iterator[Structure]:
        """One epoch of elements as NumPy arrays.

        >>> list(Dataset.from_tensor_slices({"a": np.arange(2)}).as_numpy_iterator())
        [{'a': np.int64(0)}, {'a': np.int64(1)}]
        """
        return self._elements()

    def _elements(self) -> Iterator[Structure]:
        for block in self._make_blocks():
            if self._source is None:
                yield from block
            else:
                for row in block:
                    yield self._gather_rows(row)

    def _gather_rows(self, rows: Any) -> Structure:
        return map_structure(lambda array: array[rows], self._source)


def _recorded(blocks: bl.Blocks, complete: list) -> bl.Blocks:
    """Pass ``blocks`` through; when they run out, append the list of them to ``complete``."""
    seen = []
    for block in blocks:
        seen.append(block)
        yield block
    complete.append(seen)


def _element_block(element: Structure) -> np.ndarray:
    """A block that holds one element (dtype=object keeps tuples and dicts whole)."""
    return np.fromiter((element,), dtype=object, count=1)
