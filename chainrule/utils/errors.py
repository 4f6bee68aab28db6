"""TensorFlow's operation errors (``tf.errors``), kept at the bottom layer so that the data pipeline can raise them
(``tf.data.TFRecordDataset`` raises ``DataLossError`` on a corrupt record) while ``chainrule.compat.tf.errors``
re-exports them.

>>> try:
...     raise DataLossError(None, None, "a.tfrecord: corrupted record at 0")
... except OpError as error:
...     print(error)
a.tfrecord: corrupted record at 0
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


class IndexOutOfRangeError(InvalidArgumentError, IndexError):
    """An index outside a tensor's axis (``tf.gather(x, [5])``): TensorFlow's InvalidArgumentError, which its
    programs catch, and also Python's IndexError."""


class NotFoundError(OpError):
    """Something asked for (a file, a checkpoint) does not exist."""


class OutOfRangeError(OpError):
    """An index or an iteration went past the end (a TensorArray's index, a sequence's end)."""


class DataLossError(OpError):
    """A file's contents are corrupt or truncated (a TFRecord whose checksum does not match)."""


__all__ = ["DataLossError", "IndexOutOfRangeError", "InvalidArgumentError", "NotFoundError", "OpError",
           "OutOfRangeError"]
