"""``tf.math``: the elementwise and reduction ops under TensorFlow's ``tf.math`` names.

>>> import chainrule as tf
>>> tf.math.reduce_mean(tf.constant([1.0, 3.0])).numpy()
np.float32(2.0)
"""
from typing import NamedTuple

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.metrics import confusion_matrix
from chainrule.ops import (abs, add, div, erf, exp, log, logsumexp, maximum, minimum, mod, mul, neg, pow, sigmoid,
                           sqrt, sub, tanh)
from chainrule.ops import max as reduce_max
from chainrule.ops import mean as reduce_mean
from chainrule.ops import min as reduce_min
from chainrule.ops import sum as reduce_sum
from chainrule.ops import var as reduce_variance
from chainrule.ops.activation import softplus
from chainrule.ops.complex import angle, conj, imag, real
from chainrule.ops.compare import (argmax, argmin, equal, greater, greater_equal, less, less_equal, logical_and,
                                   logical_or, not_equal)
from chainrule.compat.tf.api import add_n, cumprod, cumsum, logical_not, logical_xor, reduce_all, reduce_any, square
from chainrule.ops import cos, cosh, expm1, log1p, sin, sinh, tan
from chainrule.ops import arccos as acos, arccosh as acosh, arcsin as asin, arcsinh as asinh  # noqa: E401
from chainrule.ops import arctan as atan, arctan2 as atan2, arctanh as atanh

from chainrule.keras import ops as _kops  # noqa: E402

multiply, subtract, divide, negative, reduce_logsumexp = mul, sub, div, neg, logsumexp
floormod = mod
sign, round, floor, ceil, rsqrt, reciprocal = (_kops.sign, _kops.round, _kops.floor, _kops.ceil,  # noqa: A001
                                               _kops.rsqrt, _kops.reciprocal)
is_nan, is_finite, is_inf, floordiv, truediv = (_kops.isnan, _kops.isfinite, _kops.isinf, _kops.floor_divide,
                                                _kops.true_divide)
log_sigmoid, softsign = _kops.log_sigmoid, _kops.softsign


class TopKV2(NamedTuple):
    """What ``tf.math.top_k`` returns: the ``k`` largest ``values`` along the last axis and their ``indices``."""

    values: Tensor
    indices: Tensor


def reduce_prod(input_tensor: TensorLike, axis=None, keepdims: bool = False, name=None) -> Tensor:
    """Product over ``axis`` (all axes when None)."""
    return _kops.prod(input_tensor, axis=axis, keepdims=keepdims)


def reduce_std(input_tensor: TensorLike, axis=None, keepdims: bool = False, name=None) -> Tensor:
    """Population standard deviation over ``axis`` (all axes when None), as TensorFlow's (no Bessel correction)."""
    return _kops.std(input_tensor, axis=axis, keepdims=keepdims)


def reduce_euclidean_norm(input_tensor: TensorLike, axis=None, keepdims: bool = False, name=None) -> Tensor:
    """``sqrt(sum(x**2))`` over ``axis`` (all axes when None)."""
    return _kops.sqrt(reduce_sum(_kops.square(input_tensor), axis=axis, keepdims=keepdims))


def squared_difference(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``(x - y) ** 2`` elementwise."""
    return _kops.square(sub(x, y))


def divide_no_nan(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x / y``, and 0 where ``y`` is 0 (with a zero gradient there, as TensorFlow's)."""
    y = _kops.convert_to_tensor(y)
    zero = _kops.equal(y, 0)
    quotient = div(x, _kops.where(zero, 1, y))  # the zeros replaced first, so no inf/nan reaches the gradient
    return _kops.where(zero, _kops.zeros_like(quotient), quotient)


def softmax(logits: TensorLike, axis=None, name=None) -> Tensor:
    """Softmax along ``axis`` (the last axis when None)."""
    return _kops.softmax(logits, axis=-1 if axis is None else axis)


def l2_normalize(x: TensorLike, axis=None, epsilon: float = 1e-12, name=None, dim=None) -> Tensor:
    """``x / sqrt(max(sum(x**2, axis), epsilon))`` (all axes when None), as TensorFlow's."""
    axis = dim if axis is None else axis
    square_sum = reduce_sum(_kops.square(x), axis=axis, keepdims=True)
    return mul(x, rsqrt(maximum(square_sum, epsilon)))


def top_k(input: TensorLike, k: int = 1, sorted: bool = True, index_type="int32", name=None) -> TopKV2:  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices (``.values``, ``.indices``)."""
    values, indices = _kops.top_k(input, k, sorted=sorted)
    return TopKV2(values, _kops.cast(indices, index_type))

__all__ = ["abs", "acos", "acosh", "add", "add_n", "angle", "argmax", "argmin", "asin", "asinh", "atan", "atan2",
           "atanh", "ceil", "confusion_matrix", "conj", "cos", "cosh", "cumprod", "cumsum", "divide", "divide_no_nan",
           "equal", "erf", "exp", "expm1", "floor", "floordiv", "floormod", "greater", "greater_equal", "imag",
           "is_finite", "is_inf", "is_nan", "l2_normalize", "less", "less_equal", "log", "log1p", "log_sigmoid",
           "logical_and", "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "mod", "multiply",
           "negative", "not_equal", "pow", "real", "reciprocal", "reduce_all", "reduce_any", "reduce_euclidean_norm",
           "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_std", "reduce_sum",
           "reduce_variance", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "softmax", "softplus", "softsign",
           "sqrt", "square", "squared_difference", "subtract", "tan", "tanh", "top_k", "truediv"]

# the segment reductions and the special functions, in modules of their own
from chainrule.compat.tf import segments, special_math  # noqa: E402
from chainrule.compat.tf.segments import *  # noqa: E402,F401,F403
from chainrule.compat.tf.special_math import *  # noqa: E402,F401,F403

__all__ += segments.__all__ + special_math.__all__
del segments, special_math

