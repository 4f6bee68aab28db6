"""``keras.ops``' integer functions: ``bitwise_and``/``or``/``xor``/``invert``/``not``, ``left_shift`` and
``right_shift`` (with their ``bitwise_`` names), ``gcd`` and ``lcm``. They run on the integers (or booleans) of
their inputs' common dtype and carry no gradient.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.bitwise_and(np.array([12, 10]), np.array([10, 6])).numpy()
array([8, 2])
>>> ops.left_shift(np.array([1, 3], "int32"), 2).numpy()
array([ 4, 12], dtype=int32)
>>> ops.gcd(np.array([12, 18]), np.array([8, 12])).numpy()
array([4, 6])
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.function import named
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import cast, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops.math import _is_python_number
from chainrule.ops.no_gradient import no_gradient


def _integers(x, name: str, fn: str, booleans: bool = True) -> Tensor:
    x = to_tensor(x, name)
    if x.dtype.kind not in ("biu" if booleans else "iu"):
        raise TypeError(f"{fn}: `{name}` must hold integers{' or booleans' if booleans else ''}. Received: "
                        f"{name}.dtype={x.dtype}")
    return x


def _operands(x, y, fn: str, booleans: bool = True) -> tuple:
    """Both operands in their common integer dtype; a Python int next to a tensor stays a number (it takes the
    tensor's dtype)."""
    if _is_python_number(y) and isinstance(y, int) and not isinstance(y, bool):
        return _integers(x, "x", fn, booleans), y
    x, y = _integers(x, "x", fn, booleans), _integers(y, "y", fn, booleans)
    common = np.result_type(x.dtype, y.dtype)
    return (x if x.dtype == common else cast(x, common)), (y if y.dtype == common else cast(y, common))


def _binary(ufunc, name: str, doc: str, booleans: bool = True):
    def f(x: TensorLike, y: TensorLike) -> Tensor:
        return no_gradient(ufunc, *_operands(x, y, name, booleans))
    return named(f, name, doc)


bitwise_and = _binary(np.bitwise_and, "bitwise_and", "Bitwise AND of integers (logical AND of booleans).")
bitwise_or = _binary(np.bitwise_or, "bitwise_or", "Bitwise OR.")
bitwise_xor = _binary(np.bitwise_xor, "bitwise_xor", "Bitwise exclusive OR.")
bitwise_left_shift = _binary(np.left_shift, "bitwise_left_shift", "``x << y``.", booleans=False)
bitwise_right_shift = _binary(np.right_shift, "bitwise_right_shift", "``x >> y`` (arithmetic for signed integers).",
                              booleans=False)
left_shift = _binary(np.left_shift, "left_shift", "Alias of :func:`bitwise_left_shift`.", booleans=False)
right_shift = _binary(np.right_shift, "right_shift", "Alias of :func:`bitwise_right_shift`.", booleans=False)
gcd = _binary(np.gcd, "gcd", "Greatest common divisor of integers (non-negative).", booleans=False)
lcm = _binary(np.lcm, "lcm", "Least common multiple of integers (non-negative).", booleans=False)


def bitwise_invert(x: TensorLike) -> Tensor:
    """Bitwise NOT (``~x``; logical NOT of booleans)."""
    return no_gradient(np.invert, _integers(x, "x", "bitwise_invert"))


def bitwise_not(x: TensorLike) -> Tensor:
    """Alias of :func:`bitwise_invert`."""
    return bitwise_invert(x)


__all__ = ["bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
           "bitwise_xor", "gcd", "lcm", "left_shift", "right_shift"]
wrap_namespace(globals(), __all__, "keras.ops.")
