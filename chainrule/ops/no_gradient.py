"""Functions of tensors that carry no gradient (comparisons, rounding, logic, indices, counting), run as one recorded
op: a traced step (``fit``, ``tf.function``) recomputes them from each replay's values, which a value computed in
Python from ``tensor.data`` would not be.

>>> import numpy as np
>>> import chainrule as cr
>>> no_gradient(np.greater, cr.constant([1.0, -2.0]), 0.0).numpy()
array([ True, False])
"""
from __future__ import annotations

from typing import Callable

from chainrule import backend
from chainrule.engine.function import Function, GradMode
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.ops.math import _is_python_number


class NoGradient(Function):
    # y = fn(x, ...) with fn piecewise constant or integer-valued: its derivative is 0 wherever it exists, so the
    # output is a constant of the graph (as TensorFlow gives None for tf.floor, tf.argmax, tf.equal)
    def forward(self, *arrays, fn, **settings):
        return backend.xp.asarray(fn(*arrays, **settings))


def no_gradient(fn: Callable, *inputs, **settings) -> Tensor:
    """``fn(*arrays, **settings)`` as a Tensor that no gradient flows through.

    Tensors are inputs; Python numbers and None pass as they are (a replay repeats them); anything else (a list, a
    NumPy array) becomes a Tensor first. ``fn`` and ``settings`` must be the same objects or equal values on every
    call (a module-level function, NumPy ufunc, ints, tuples, dtype names), as a traced step's replay reuses them.
    """
    inputs = tuple(x if isinstance(x, Tensor) or x is None or _is_python_number(x) else as_tensor(x) for x in inputs)
    enabled = GradMode.enabled
    GradMode.enabled = False  # the output is a constant: no node, so a gradient never looks for one
    try:
        out = NoGradient.apply(*inputs, fn=fn, **settings)
    finally:
        GradMode.enabled = enabled
    return out if isinstance(out, Tensor) else Tensor._wrap(out)
