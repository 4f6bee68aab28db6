"""``tf.math``: the elementwise and reduction ops under TensorFlow's ``tf.math`` names.

>>> import chainrule as tf
>>> tf.math.reduce_mean(tf.constant([1.0, 3.0])).numpy()
array(2., dtype=float32)
"""
from chainrule.keras.metrics import confusion_matrix
from chainrule.ops import (abs, add, div, erf, exp, log, logsumexp, maximum, minimum, mod, mul, neg, pow, sigmoid,
                           sqrt, sub, tanh)
from chainrule.ops import max as reduce_max
from chainrule.ops import mean as reduce_mean
from chainrule.ops import min as reduce_min
from chainrule.ops import sum as reduce_sum
from chainrule.ops import var as reduce_variance
from chainrule.ops.activation import softplus
from chainrule.ops.compare import (argmax, argmin, equal, greater, greater_equal, less, less_equal, logical_and,
                                   logical_or, not_equal)
from chainrule.compat.tf.api import add_n, cumprod, cumsum, logical_not, logical_xor, reduce_all, reduce_any, square
from chainrule.ops import cos, cosh, expm1, log1p, sin, sinh, tan
from chainrule.ops import arccos as acos, arccosh as acosh, arcsin as asin, arcsinh as asinh  # noqa: E401
from chainrule.ops import arctan as atan, arctan2 as atan2, arctanh as atanh

multiply, subtract, divide, negative, reduce_logsumexp = mul, sub, div, neg, logsumexp
floormod = mod

__all__ = ["abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "asin", "asinh", "atan", "atan2", "atanh",
           "confusion_matrix", "cos", "cosh", "cumprod", "cumsum", "expm1", "log1p", "sin", "sinh", "tan", "divide", "equal", "erf", "exp", "floormod",
           "greater", "greater_equal", "less", "less_equal", "log", "logical_and", "logical_not", "logical_or",
           "logical_xor", "maximum", "minimum", "mod", "multiply", "negative", "not_equal", "pow", "reduce_all",
           "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_sum",
           "reduce_variance", "sigmoid", "softplus", "sqrt", "square", "subtract", "tanh"]
