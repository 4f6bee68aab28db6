"""``keras.ops``' elementwise functions beyond the basic arithmetic: ``cbrt``, ``sinc``, ``logaddexp2``, ``ldexp``,
``fmax``/``fmin`` (NaN-ignoring), ``fmod``, ``heaviside``, ``nextafter``, ``i0`` and the complex parts ``real``,
``imag``, ``conj``/``conjugate``, ``angle``, ``isreal``, with Keras's dtype rules. The smooth ones are built from
differentiable ops; ``heaviside``, ``nextafter`` and ``isreal`` are piecewise constant and carry no gradient.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.cbrt(np.array([-8.0, 27.0], "float32")).numpy()
array([-2.,  3.], dtype=float32)
>>> ops.fmax(np.array([1.0, np.nan], "float32"), np.array([np.nan, 2.0], "float32")).numpy()
array([1., 2.], dtype=float32)
>>> ops.fmod(np.array([-7, 7]), 3).numpy()
array([-1,  1])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import cast, stop_gradient, to_float, to_tensor
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops.complex import angle as _angle, conj as _conj, imag as _imag, real as _real
from chainrule.ops import special as _special
from chainrule.ops.no_gradient import no_gradient

_FLOAT32_INTS = {"bool", "int8", "int16", "int32", "uint8", "uint16", "uint32"}


def _float_like_keras(x: Tensor) -> Tensor:
    """``x`` as a float: small integers (and bool) as floatx, int64 as float64, floats as they are."""
    name = x.dtype.name
    if x.dtype.kind in "fc":
        return x
    return cast(x, "float64" if name in ("int64", "uint64") else backend.floatx())


def _common(x1: TensorLike, x2: TensorLike) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of their common dtype (a Python number takes the other's dtype)."""
    if not isinstance(x1, Tensor) and isinstance(x2, Tensor) and np.ndim(x1) == 0:
        return to_tensor(np.asarray(x1, dtype=np.result_type(x2.dtype, np.min_scalar_type(x1)) if x2.dtype.kind ==
                                    "b" else x2.dtype)), x2
    if not isinstance(x2, Tensor) and isinstance(x1, Tensor) and np.ndim(x2) == 0:
        return x1, to_tensor(np.asarray(x2, dtype=x1.dtype if x1.dtype.kind != "b" else None))
    x1, x2 = to_tensor(x1, "x1"), to_tensor(x2, "x2")
    common = np.result_type(x1.dtype, x2.dtype)
    return (x1 if x1.dtype == common else cast(x1, common)), (x2 if x2.dtype == common else cast(x2, common))


def cbrt(x: TensorLike) -> Tensor:
    """The real cube root; integers become floatx (int64: float64)."""
    return _special.cbrt(_float_like_keras(to_tensor(x)))


def sinc(x: TensorLike) -> Tensor:
    """``sin(πx) / (πx)``, 1 at 0 (NumPy's normalised sinc)."""
    x = to_float(x)
    zero = knp.equal(x, 0.0)
    safe = knp.where(zero, 1.0, x) * math.pi
    return knp.where(zero, 1.0, knp.sin(safe) / safe)


def logaddexp2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``log2(2^x1 + 2^x2)`` without overflow."""
    x1, x2 = _common(to_float(x1, "x1"), to_float(x2, "x2"))
    return knp.logaddexp(x1 * math.log(2.0), x2 * math.log(2.0)) / math.log(2.0)


def _powers_of_two(exponents, dtype):
    return backend.array_namespace(exponents).asarray(np.ldexp(np.ones((), dtype), np.asarray(exponents)))


def ldexp(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``x1 * 2**x2`` for integer exponents ``x2`` (exact: a product with a power of two)."""
    x2 = to_tensor(x2, "x2")
    if x2.dtype.kind not in "iu":
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={x2.dtype}")
    x1 = to_float(x1, "x1")
    return x1 * no_gradient(_powers_of_two, x2, dtype=x1.dtype.name)


def _nan_ignoring(x1, x2, pick):
    x1, x2 = _common(x1, x2)
    if x1.dtype.kind != "f":
        return pick(x1, x2)
    return knp.where(knp.isnan(x2), x1, knp.where(knp.isnan(x1), x2, pick(x1, x2)))


def fmax(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise maximum that ignores a NaN (NaN only where both are)."""
    return _nan_ignoring(x1, x2, knp.maximum)


def fmin(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Elementwise minimum that ignores a NaN."""
    return _nan_ignoring(x1, x2, knp.minimum)


def _truncated_quotient(x1, x2):
    xp = backend.array_namespace(x1)
    return xp.trunc((x1 - xp.fmod(x1, x2)) / xp.where(x2 == 0, 1, x2))


def fmod(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The remainder with the sign of ``x1`` (C's fmod; booleans as int32). For floats the value is NumPy's and the
    gradient ``(1, -trunc(x1 / x2))``, as PyTorch's."""
    x1, x2 = _common(x1, x2)
    if x1.dtype.kind == "b":
        x1, x2 = cast(x1, "int32"), cast(x2, "int32")
    value = no_gradient(np.fmod, x1, x2)
    if x1.dtype.kind != "f":
        return value
    # the exact value, plus terms that are 0 but carry the derivatives
    return value + (x1 - stop_gradient(x1)) - (x2 - stop_gradient(x2)) * no_gradient(_truncated_quotient, x1, x2)


def heaviside(x1: TensorLike, x2: TensorLike) -> Tensor:
    """0 where ``x1 < 0``, 1 where ``x1 > 0``, ``x2`` where ``x1 == 0``; no gradient. Integers give floatx (int64:
    float64)."""
    x1, x2 = _common(x1, x2)
    x1, x2 = _float_like_keras(x1), _float_like_keras(x2)
    return no_gradient(np.heaviside, x1, x2)


def nextafter(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The next float after ``x1`` towards ``x2``; no gradient."""
    x1, x2 = _common(to_float(x1, "x1"), to_float(x2, "x2"))
    return no_gradient(np.nextafter, x1, x2)


def i0(x: TensorLike) -> Tensor:
    """The modified Bessel function of the first kind, order 0; integers become floatx (int64: float64). Its
    gradient is I1, summed from the same power series."""
    x = _float_like_keras(to_tensor(x))
    return _special.bessel_i0(x)


def real(x: TensorLike) -> Tensor:
    """The real part of a complex tensor; a real tensor as it is."""
    return _real(to_tensor(x))


def imag(x: TensorLike) -> Tensor:
    """The imaginary part of a complex tensor; zeros for a real one."""
    return _imag(to_tensor(x))


def conjugate(x: TensorLike) -> Tensor:
    """The complex conjugate; a real tensor as it is."""
    return _conj(to_tensor(x))


def conj(x: TensorLike) -> Tensor:
    """Alias of :func:`conjugate`."""
    return conjugate(x)


def angle(x: TensorLike) -> Tensor:
    """The argument ``atan2(imag, real)``; of a real tensor π where it is negative, else 0 (as a float)."""
    x = to_tensor(x)
    if x.dtype.kind != "c":
        x = cast(x, backend.floatx()) if x.dtype.name == "int64" else to_float(x)
    return _angle(x)


def isreal(x: TensorLike) -> Tensor:
    """Whether each value's imaginary part is 0 (all True for a real tensor)."""
    return no_gradient(np.isreal, to_tensor(x))

__all__ = ["angle", "cbrt", "conj", "conjugate", "fmax", "fmin", "fmod", "heaviside", "i0", "imag", "isreal", "ldexp",
           "logaddexp2", "nextafter", "real", "sinc"]
wrap_namespace(globals(), __all__, "keras.ops.")
