"""``tf.errors``: the exception classes TensorFlow raises where chainrule raises the same error.

``InvalidArgumentError`` is also a ``ValueError``, so code written for either catches it.

>>> import chainrule as tf
>>> try:
...     tf.range(0, 5, 0)
... except tf.errors.InvalidArgumentError as error:
...     print(error)
Requires delta != 0: 0
"""
from __future__ import annotations


class OpError(Exception):
    """The base class of TensorFlow's operation errors."""

    def __init__(self, node_def=None, op=None, message: str = "", *args):
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(OpError, ValueError):
    """An operation received an argument it cannot work with."""


class NotFoundError(OpError):
    """Something asked for (a file, a checkpoint) does not exist."""


class OutOfRangeError(OpError):
    """An index or an iteration went past the end (a TensorArray's index, a sequence's end)."""


__all__ = ["InvalidArgumentError", "NotFoundError", "OpError", "OutOfRangeError"]
