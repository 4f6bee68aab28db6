"""Rows of different lengths handed out as a ragged value (TextVectorization(ragged=True)).

The ragged type is TensorFlow's name, ``tf.RaggedTensor``, and lives with the TensorFlow names
(chainrule/compat/tf/ragged.py), a layer above keras: keras may not import it, so that module registers here how to
build one from the rows' values and lengths when it loads (``import chainrule`` loads it).

>>> import numpy as np
>>> import chainrule  # registers tf.RaggedTensor's builder
>>> ragged_rows(np.array([4, 5, 6]), np.array([2, 0, 1]), "example").to_list()
[[4, 5], [], [6]]
"""
from __future__ import annotations

from typing import Any, Callable

_builder: Callable[[Any, Any], Any] | None = None


def register_ragged_builder(builder: Callable[[Any, Any], Any]) -> None:
    """Set how a ragged value is built from ``(values, row_lengths)`` (chainrule/compat/tf/ragged.py does)."""
    global _builder
    _builder = builder


def ragged_rows(values, row_lengths, who: str):
    """The rows of ``values`` cut by ``row_lengths``, as a ``tf.RaggedTensor``; ``who`` names the caller in the error
    raised when no ragged type is registered."""
    if _builder is None:
        raise ValueError(f"{who}: ragged output needs chainrule's tf.RaggedTensor, which is registered when chainrule's "
                         f"TensorFlow names load (`import chainrule`)")
    return _builder(values, row_lengths)
