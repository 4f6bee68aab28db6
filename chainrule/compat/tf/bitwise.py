"""``tf.bitwise``: ``bitwise_and``, ``bitwise_or``, ``bitwise_xor``, ``invert``, ``left_shift`` and ``right_shift`` on
integer tensors (no gradient), keras.ops' functions under TensorFlow's names.

>>> import numpy as np
>>> import chainrule as tf
>>> tf.bitwise.bitwise_xor(np.array([12], "int32"), np.array([10], "int32")).numpy()
array([6], dtype=int32)
"""
from __future__ import annotations

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import bitwise as _bitwise


def bitwise_and(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """Bitwise AND."""
    return _bitwise.bitwise_and(x, y)


def bitwise_or(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """Bitwise OR."""
    return _bitwise.bitwise_or(x, y)


def bitwise_xor(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """Bitwise exclusive OR."""
    return _bitwise.bitwise_xor(x, y)


def invert(x: TensorLike, name=None) -> Tensor:
    """Bitwise NOT."""
    return _bitwise.bitwise_invert(x)


def left_shift(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x << y``."""
    return _bitwise.left_shift(x, y)


def right_shift(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x >> y`` (arithmetic for signed integers)."""
    return _bitwise.right_shift(x, y)


__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]
