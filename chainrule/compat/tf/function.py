"""``tf.function``: a Python function that TensorFlow would trace into a graph."""
from __future__ import annotations

from chainrule.engine.tensor import constant


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
