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


from chainrule.utils.errors import (DataLossError, InvalidArgumentError, NotFoundError, OpError,  # noqa: F401
                                    OutOfRangeError)


def invalid_argument(message: str) -> InvalidArgumentError:
    """TensorFlow's InvalidArgumentError (node_def and op unknown) carrying ``message``, for ops that raise it."""
    return InvalidArgumentError(None, None, message)


__all__ = ["DataLossError", "InvalidArgumentError", "NotFoundError", "OpError", "OutOfRangeError"]
