"""``tf.string``: the dtype a tensor of text reports. chainrule keeps text as NumPy ``str_`` (or ``bytes_``) arrays;
their tensors answer :class:`StringDType`, which equals ``tf.string`` and ``"string"`` as TensorFlow's ``DType``
does, while NumPy and the code below the TensorFlow names still see the array's own dtype through it (its ``dtype``
attribute, which NumPy takes as a dtype, and its ``kind``, ``itemsize``, ... attributes). Numeric tensors keep
NumPy dtypes.

>>> text = StringDType(np.dtype("<U5"))
>>> text == "string", text == STRING, text.name, text.kind, np.zeros(1, dtype=text).dtype
(True, True, 'string', 'U', dtype('<U5'))
>>> text == "float32", STRING
(False, tf.string)
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

_TEXT_KINDS = "US"  # NumPy's unicode and bytes arrays: what TensorFlow's as_dtype maps to tf.string


class StringDType:
    """TensorFlow's ``tf.string`` for a text array of NumPy dtype ``numpy`` (``str_`` or ``bytes_`` of some
    length). It equals any text dtype (TensorFlow's ``DType.__eq__`` converts the other side with ``as_dtype``):
    ``"string"``, another :class:`StringDType`, ``np.str_``, ``np.bytes_``, ``object``, and ``'<U5'``-like dtypes."""

    __slots__ = ("numpy",)
    name = "string"
    is_floating = is_integer = is_complex = is_bool = is_unsigned = is_quantized = False

    def __init__(self, numpy: Any = np.str_):
        object.__setattr__(self, "numpy", np.dtype(numpy))
        if self.numpy.kind not in _TEXT_KINDS:
            raise TypeError(f"StringDType holds a NumPy str_ or bytes_ dtype, got {self.numpy}")

    @property
    def dtype(self) -> np.dtype:
        """The array's NumPy dtype: NumPy takes any object with a ``dtype`` attribute as that dtype."""
        return self.numpy

    @property
    def as_numpy_dtype(self) -> type:
        return self.numpy.type

    @property
    def base_dtype(self) -> "StringDType":
        return self

    def __getattr__(self, name: str) -> Any:  # kind, char, type, itemsize, str: the NumPy dtype's
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.numpy, name)

    def __eq__(self, other: Any) -> bool:
        return is_string_dtype(other)

    def __ne__(self, other: Any) -> bool:
        return not is_string_dtype(other)

    def __hash__(self) -> int:
        return hash("string")

    def __reduce__(self):
        return StringDType, (self.numpy,)

    def __repr__(self) -> str:
        return "tf.string"

    def __str__(self) -> str:
        return "<dtype: 'string'>"


def is_string_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` names text as TensorFlow's ``as_dtype`` would map it to ``tf.string``."""
    if isinstance(dtype, StringDType):
        return True
    if isinstance(dtype, str) and dtype == "string":
        return True
    if dtype is None or isinstance(dtype, bool):
        return False
    try:
        return np.dtype(dtype).kind in _TEXT_KINDS + "O"
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=256)
def string_dtype(numpy_dtype: np.dtype) -> StringDType:
    """The :class:`StringDType` of a text array's NumPy dtype (one object per NumPy dtype)."""
    return StringDType(numpy_dtype)


def tensor_dtype(numpy_dtype: np.dtype):
    """What a tensor of NumPy dtype ``numpy_dtype`` reports as its ``dtype``: that dtype, or tf.string for text."""
    return string_dtype(numpy_dtype) if numpy_dtype.kind in _TEXT_KINDS else numpy_dtype


def text_as_bytes(values: np.ndarray) -> Any:
    """An array as TensorFlow's ``numpy()`` gives it: text as UTF-8 ``bytes`` in an object array, a text scalar as its
    ``bytes`` (also a 0-d object array holding bytes, as ``tf.io.read_file`` makes); any other array as it is.

    >>> text_as_bytes(np.array(["é", "b"])), text_as_bytes(np.array("a")), text_as_bytes(np.array(b"\\x00", object))
    (array([b'\\xc3\\xa9', b'b'], dtype=object), b'a', b'\\x00')
    """
    kind = values.dtype.kind
    if kind == "O" and values.ndim == 0 and isinstance(values.item(), bytes):
        return values.item()
    if kind not in _TEXT_KINDS:
        return values
    encoded = np.char.encode(values, "utf-8") if kind == "U" and values.size else values
    out = encoded.astype(object)  # (an empty str array: no element to encode)
    return out.item() if out.ndim == 0 else out


def object_text_as_str(values: np.ndarray) -> np.ndarray:
    """An object array of ``str``/``bytes`` (what ``numpy()`` gives for text) as the ``str`` array a text tensor
    holds, UTF-8 decoded; ``values`` itself where an element is not text, not UTF-8, or ends in a NUL character (which
    a NumPy text array would drop).

    >>> object_text_as_str(np.array([b"\\xc3\\xa9", "b"], dtype=object))
    array(['é', 'b'], dtype='<U1')
    """
    flat = values.ravel().tolist()
    try:
        texts = [x.decode("utf-8") if isinstance(x, bytes) else x for x in flat]
    except UnicodeDecodeError:
        return values
    if not texts or not all(isinstance(x, str) and not x.endswith("\0") for x in texts):
        return values
    return np.array(texts, dtype=str).reshape(values.shape)


STRING = StringDType()

__all__ = ["STRING", "StringDType", "is_string_dtype", "string_dtype", "tensor_dtype", "text_as_bytes",
           "object_text_as_str"]
