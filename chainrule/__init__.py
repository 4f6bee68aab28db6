"""chainrule: a readable deep-learning framework on NumPy, with its own backpropagation engine.

Write TensorFlow/Keras code with ``import chainrule as tf``:

>>> import chainrule as tf
>>> x = tf.Variable([1.0, 2.0])
>>> with tf.GradientTape() as tape:
...     y = tf.reduce_sum(x * x)
>>> tape.gradient(y, x).numpy()
array([2., 4.], dtype=float32)
"""
import numpy as _np

__version__ = "0.1.0"  # as in pyproject.toml (tests/test_engine.py checks they agree)

from chainrule import backend, nn, ops, random
from chainrule.autograd import enable_grad, grad, no_grad
from chainrule.ops.compare import (argmax, argmin, equal, greater, greater_equal, less, less_equal, logical_and,
                                   logical_or, not_equal)
from chainrule.ops.creation import fill, one_hot, ones, ones_like, range, shape, zeros, zeros_like
from chainrule.ops import (abs, add, broadcast_to, cast, clip, concat, div, erf, exp, expand_dims, gather, log,
                           logsumexp, maximum, minimum, mul, pad, pow, sigmoid, softmax, split, sqrt, squeeze, stack,
                           sub, tanh, transpose)
from chainrule.ops import max as reduce_max
from chainrule.ops import mean as reduce_mean
from chainrule.ops import min as reduce_min
from chainrule.ops import sum as reduce_sum
from chainrule.ops import var as reduce_variance
from chainrule.tape import GradientTape
from chainrule.tensor import Tensor, Variable, as_tensor, constant
from chainrule.tf_api import (clip_by_global_norm, clip_by_norm, clip_by_value, global_norm, identity, is_tensor,
                              logical_not, logical_xor, matmul, print, rank, reduce_all, reduce_any, reshape, size,
                              square, stop_gradient, where)

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64, uint8, bool_ = _np.int8, _np.int16, _np.int32, _np.int64, _np.uint8, _np.bool_
bool = bool_  # noqa: A001  (tf.bool)
negative, multiply, subtract, divide = ops.neg, mul, sub, div
reduce_logsumexp = logsumexp
convert_to_tensor = as_tensor


def function(func=None, input_signature=None, autograph: bool = True, jit_compile=None,
             reduce_retracing: bool = False, **options):
    """``tf.function``. TensorFlow traces the function into a graph; chainrule executes eagerly, so the function runs
    as written, as TensorFlow runs it under ``tf.config.run_functions_eagerly(True)``. Works as ``@tf.function`` and
    as ``@tf.function(jit_compile=True, ...)``; the arguments are accepted for TensorFlow code and change nothing.

    >>> @function
    ... def double(x):
    ...     return x * 2
    >>> double(constant(3.0)).numpy()
    array(6., dtype=float32)
    """
    if func is None:
        return function
    if not callable(func):
        raise TypeError(f"tf.function takes a function, got {type(func).__name__}")
    return func
from chainrule import data, keras, math  # noqa: E402  (the TF-style namespaces: tf.keras, tf.data, tf.math)
