"""``tf.compat``'s text and number helpers (TensorFlow's ``tensorflow/python/util/compat.py``): programs call
``tf.compat.as_bytes("JFIF")`` or ``tf.compat.as_str(...)`` on file contents and paths.

>>> as_bytes("JFIF"), as_text(b"caf\\xc3\\xa9"), as_str_any(3), dimension_value(None)
(b'JFIF', 'café', '3', None)
"""
from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np

bytes_or_text_types = (bytes, str)
integral_types = (numbers.Integral, np.integer)
real_types = (numbers.Real, np.integer, np.floating)
complex_types = (numbers.Complex, np.number)


def as_bytes(bytes_or_text: Any, encoding: str = "utf-8") -> bytes:
    """``bytes_or_text`` as bytes: text encoded with ``encoding``; bytes (and bytearrays) as they are."""
    encoding = str(encoding)
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text: Any, encoding: str = "utf-8") -> str:
    """``bytes_or_text`` as text: bytes decoded with ``encoding``; text as it is."""
    encoding = str(encoding)
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text  # Python 3's str is text, as in TensorFlow


def as_str_any(value: Any, encoding: str = "utf-8") -> str:
    """Bytes decoded with ``encoding``; anything else through ``str``."""
    return as_str(value, encoding) if isinstance(value, bytes) else str(value)


def path_to_str(path: Any) -> Any:
    """An ``os.PathLike`` as its string; anything else as it is."""
    return os.fspath(path) if isinstance(path, os.PathLike) else path


def dimension_value(dimension: Any) -> int | None:
    """A shape's size as an int or None, whether given plainly or as a ``Dimension``-like with a ``value``."""
    if hasattr(dimension, "value") and not isinstance(dimension, integral_types):
        return dimension.value
    return dimension


__all__ = ["as_bytes", "as_str", "as_str_any", "as_text", "bytes_or_text_types", "complex_types", "dimension_value",
           "integral_types", "path_to_str", "real_types"]
