"""``tf.dtypes``: the dtype names (``tf.float32``, ..., ``tf.string``) and ``tf.as_dtype``.

Numeric dtypes are NumPy's (``tf.float32 is np.float32``); text is ``tf.string``
(:class:`chainrule.backend.string_dtype.StringDType`), which a tensor of text reports as its ``dtype`` and which
equals ``"string"``, as TensorFlow's does.

>>> import chainrule as tf
>>> tf.constant(["a", "b"]).dtype == tf.string == "string", tf.dtypes.string.name
(True, 'string')
>>> tf.as_dtype("float32") == tf.float32, tf.as_dtype(tf.constant(["a"]).dtype)
(True, tf.string)
"""
from __future__ import annotations

from typing import Any

import numpy as _np

from chainrule import backend
from chainrule.backend.string_dtype import STRING, StringDType, is_string_dtype
from chainrule.ops.math import cast  # tf.dtypes.cast is tf.cast

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64, uint8, bool_ = _np.int8, _np.int16, _np.int32, _np.int64, _np.uint8, _np.bool_
uint16, uint32, uint64, complex64, complex128 = _np.uint16, _np.uint32, _np.uint64, _np.complex64, _np.complex128
bool = bool_  # noqa: A001  (tf.bool)
string = STRING  # tf.string: text (NumPy str_ arrays underneath)


def as_dtype(type_value: Any):
    """The dtype ``type_value`` names: a NumPy dtype for numbers, ``tf.string`` for text (``"string"``, ``np.str_``,
    ``bytes``, a text array's dtype); TensorFlow's DataType numbers work too. Raises TypeError for what is no dtype."""
    if type_value is None:
        raise TypeError("Cannot convert value None to a TensorFlow DType.")
    if type_value in (str, bytes) or (not isinstance(type_value, StringDType) and is_string_dtype(type_value)):
        return STRING
    if isinstance(type_value, StringDType):
        return type_value
    try:
        return backend.as_dtype(type_value)
    except TypeError:
        raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.") from None


__all__ = ["as_dtype", "bool", "cast", "complex64", "complex128", "float16", "float32", "float64", "int8", "int16", "int32",
           "int64", "string", "uint8", "uint16", "uint32", "uint64"]
