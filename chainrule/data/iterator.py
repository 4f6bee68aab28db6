"""What ``iter(dataset)`` returns: TensorFlow's ``OwnedIterator``, an iterator over one pass of a dataset whose
position a training checkpoint saves and restores (``tf.train.Checkpoint(iterator=iterator)``, TensorFlow's
checkpoint guide), so that a restored program goes on from the element where the saved one was.

The position is the number of elements taken. A checkpoint sees it as the iterator's one Variable (``position``, made
when a checkpoint first asks for it, then kept equal to the count); restoring assigns that Variable, and the next
element is then read after skipping that many from the start of the
pass (the dataset is read again from its start: a ``shuffle`` without a seed gives another order, which TensorFlow
instead keeps by saving its buffer).

>>> import chainrule as tf
>>> iterator = iter(tf.data.Dataset.range(5))
>>> int(next(iterator)), int(iterator.get_next())
(0, 1)
>>> _ = iterator._checkpoint_children()[0][1].assign(4)  # what restoring a checkpoint does
>>> [int(x) for x in iterator]
[4]
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from chainrule.engine.tensor import Variable


class OwnedIterator(Iterator):
    """An iterator over the elements ``make_elements()`` yields, each passed through ``convert``; ``element_spec``
    is the dataset's."""

    _is_checkpoint = True  # a checkpoint holds it through its children (its position)

    def __init__(self, make_elements: Callable[[], Iterator], convert: Callable[[Any], Any], element_spec: Any):
        self._make_elements, self._convert, self._element_spec = make_elements, convert, element_spec
        self._elements = make_elements()
        self._taken = 0
        self._position: Variable | None = None  # made when a checkpoint first asks for it

    @property
    def element_spec(self) -> Any:
        """The spec of each element (the dataset's ``element_spec``)."""
        return self._element_spec() if callable(self._element_spec) else self._element_spec

    def __iter__(self) -> "OwnedIterator":
        return self

    def __next__(self) -> Any:
        if self._position is not None:
            self._follow_restore()
        element = next(self._elements)
        self._taken += 1
        if self._position is not None:  # kept equal to the count, so that another value means a restore
            self._position.assign(np.int64(self._taken))
        return self._convert(element)

    def get_next(self) -> Any:
        """The next element; ``tf.errors.OutOfRangeError``'s Python twin ``StopIteration`` at the end."""
        return next(self)

    def close(self) -> None:
        """Stop the pass now (a generator's ``close``: a ``prefetch``'s threads end)."""
        close = getattr(self._elements, "close", None)
        if close is not None:
            close()

    def _follow_restore(self) -> None:
        """After a checkpoint assigned another position, start the pass again and skip to it."""
        wanted = int(np.asarray(self._position.numpy()))
        if wanted != self._taken:
            self._elements = self._make_elements()
            for _ in itertools.islice(self._elements, wanted):
                pass
            self._taken = wanted

    def _checkpoint_children(self) -> list[tuple[str, Variable]]:
        """The position as a Variable holding the number of elements taken (what a checkpoint saves)."""
        if self._position is None:
            self._position = Variable(np.int64(self._taken), trainable=False, name="position")
        return [("position", self._position)]


__all__ = ["OwnedIterator"]
