"""Keras 3's autocast scope: while a mixed-precision layer calls (compute dtype float16, variables float32), every op
reads the layer's float Variables cast to the compute dtype, so the math runs in float16 while the weights, their
gradients and the optimizer stay float32.

The cast is a differentiable ``Cast`` node put in front of the op (:func:`chainrule.engine.function.Function.apply`
asks the hook installed here), so the Variable's gradient comes back in float32 and a traced step replays the cast
with the Variable's current values. Variables made with ``add_weight(autocast=False)`` (BatchNormalization's) are
read as they are.

>>> import chainrule as cr
>>> v = cr.Variable([1.0, 2.0])
>>> with autocast_scope("float16"):
...     (v * 1.0).dtype
dtype('float16')
>>> (v * 1.0).dtype
dtype('float32')
"""
from __future__ import annotations

import contextlib
import threading
import weakref

import numpy as np

from chainrule.engine import function as _function
from chainrule.engine.tensor import Variable
from chainrule.ops.math import Cast

# variables made with autocast=False, never cast: id -> weak reference (a WeakSet would compare Tensors with ==)
_KEEP: dict[int, weakref.ref] = {}


class _Scope(threading.local):
    dtype: np.dtype | None = None  # the dtype float Variables are read in on this thread, or None


_scope = _Scope()
UNCHANGED = object()  # what enter() returns when the layer's call keeps the current scope


def keep_dtype(variable: Variable) -> None:
    """Read ``variable`` in its own dtype inside any scope (Keras 3's ``Variable(autocast=False)``)."""
    key = id(variable)
    _KEEP[key] = weakref.ref(variable, lambda _: _KEEP.pop(key, None))


def _cast_variables(fn_cls, inputs: tuple) -> tuple:
    """An op's inputs with the float Variables cast to this thread's scope dtype (the hook of Function.apply)."""
    dtype = _scope.dtype
    if dtype is None or fn_cls is Cast:
        return inputs
    if not any(isinstance(x, Variable) and _casts(x, dtype) for x in inputs):
        return inputs
    return tuple(Cast.apply(x, dtype=dtype) if isinstance(x, Variable) and _casts(x, dtype) else x for x in inputs)


def _casts(variable: Variable, dtype: np.dtype) -> bool:
    data_dtype = variable.data.dtype
    if data_dtype == dtype or data_dtype.kind != "f":
        return False
    kept = _KEEP.get(id(variable))
    return kept is None or kept() is not variable


def install() -> None:
    """Let ops consult the scope (done once, when a mixed policy is first used: other programs pay nothing)."""
    _function.autocast_hook = _cast_variables


def enter(layer) -> object:
    """Set the scope ``layer``'s call runs in, as Keras 3's ``Layer.__call__``: a mixed-precision layer opens one of
    its compute dtype; inside a scope, a layer with another float compute dtype opens its own, and a layer that does
    not autocast (or computes in integers) clears it. Returns what :func:`leave` restores, or UNCHANGED."""
    current = _scope.dtype
    if current is None:
        if not layer._mixed_policy or not layer.autocast:
            return UNCHANGED
        new = layer._compute_np_dtype
    else:
        compute = layer._compute_np_dtype
        new = compute if layer.autocast and compute.kind == "f" else None
        if new == current:
            return UNCHANGED
    _scope.dtype = new
    return current


def leave(previous) -> None:
    _scope.dtype = previous


@contextlib.contextmanager
def autocast_scope(dtype):
    """Read float Variables as ``dtype`` inside the block (None: as they are)."""
    install()
    previous = _scope.dtype
    _scope.dtype = None if dtype is None else np.dtype(dtype)
    try:
        yield
    finally:
        _scope.dtype = previous


def current_dtype() -> np.dtype | None:
    """The dtype float Variables are read in on this thread (None outside any scope)."""
    return _scope.dtype


def at_least_float32(x):
    """``x`` cast up to float32 when it is float16: what BatchNormalization and LayerNormalization compute in under
    mixed precision (Keras 3: their statistics overflow in float16)."""
    if x.dtype.kind == "f" and x.dtype.itemsize < 4:
        return Cast.apply(x, dtype=np.dtype("float32"))
    return x


def in_compute_dtype(layer, y):
    """A layer's output ``y`` in the layer's compute dtype (a no-op when it already is)."""
    return y if y.dtype == layer._compute_np_dtype else Cast.apply(y, dtype=layer._compute_np_dtype)


def read(variable):
    """``variable`` as the current scope's ops read it (cast to float16 inside a mixed-precision call), for the ops
    that compare their operands' dtypes before the engine sees them (the depthwise and transposed convolutions)."""
    if _function.autocast_hook is None or variable is None:
        return variable
    return _cast_variables(None, (variable,))[0]
