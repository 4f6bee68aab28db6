"""``tf.experimental.numpy`` (TensorFlow NumPy, ``import tensorflow.experimental.numpy as tnp``): NumPy's functions on
tensors, differentiable, so layers and models can be written in the NumPy style (keras-io's "Writing Keras Models
With TensorFlow NumPy"). The functions are Keras 3's ``keras.ops.numpy`` ones; ``tnp.ndarray`` is the tensor type,
the dtype names are NumPy's, and ``experimental_enable_numpy_behavior`` is accepted (chainrule's tensors already
take NumPy's methods and type promotion).

>>> import chainrule as tf
>>> import chainrule.experimental.numpy as tnp
>>> x = tnp.asarray([[1.0, -2.0]])
>>> tnp.maximum(tnp.matmul(x, tnp.ones((2, 1))), 0.0).numpy()
array([[0.]], dtype=float32)
>>> isinstance(x, tnp.ndarray)
True
"""
from __future__ import annotations

import math as _math

import numpy as _np

from chainrule.compat.tf.experimental import numpy_random as random
from chainrule.engine.tensor import Tensor as ndarray
from chainrule.engine.tensor import as_tensor as _as_tensor
from chainrule.keras.ops import numpy as _keras_numpy
from chainrule.keras.ops.numpy import *  # noqa: F401,F403  (NumPy's functions, as Keras 3 names them)

bool_, complex64, complex128 = _np.bool_, _np.complex64, _np.complex128
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
newaxis = None
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan


def asarray(a, dtype=None) -> ndarray:
    """``a`` as a tensor (itself when it already is one of ``dtype``)."""
    if isinstance(a, ndarray) and (dtype is None or _np.dtype(dtype) == a.dtype):
        return a
    return _as_tensor(a, dtype=dtype)


def experimental_enable_numpy_behavior(prefer_float32: bool = False, dtype_conversion_mode: str = "legacy") -> None:
    """TensorFlow's switch for NumPy methods and type promotion on tensors; chainrule's tensors have them already."""
    if dtype_conversion_mode not in ("legacy", "safe", "all", "off"):
        raise ValueError(f"dtype_conversion_mode must be one of 'legacy', 'safe', 'all', 'off'; received "
                         f"{dtype_conversion_mode!r}")
    random._prefer["float32"] = bool(prefer_float32)  # tnp.random's floats


__all__ = [*_keras_numpy.__all__, "random", "asarray", "ndarray", "experimental_enable_numpy_behavior", "bool_", "complex64",
           "complex128", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
           "uint32", "uint64", "newaxis", "pi", "e", "inf", "nan"]
