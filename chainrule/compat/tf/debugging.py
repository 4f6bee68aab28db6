"""``tf.debugging.set_log_device_placement`` (each op, as it runs, logged with the device it runs on, in
TensorFlow's words) and ``tf.ensure_shape`` (a tensor checked against a shape, ``None`` for any size).

chainrule computes on the CPU, so every op is logged on ``/job:localhost/replica:0/task:0/device:CPU:0``; the log
goes to standard error, as TensorFlow's does.

>>> import chainrule as tf
>>> tf.ensure_shape(tf.zeros([2, 3]), [None, 3]).shape
TensorShape([2, 3])
"""
from __future__ import annotations

import sys

import numpy as np

from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.compat.tf.placement import current_device
from chainrule.engine import function as _function
from chainrule.engine.tensor import Tensor, as_tensor


def _log_placement(op: type) -> None:
    print(f"Executing op {op.__name__} in device {current_device()}", file=sys.stderr)


def set_log_device_placement(enabled: bool) -> None:
    """Log (True) or stop logging (False) the device of every op that runs."""
    if enabled:
        _function.op_observer = _log_placement
    elif _function.op_observer is _log_placement:
        _function.op_observer = None


def get_log_device_placement() -> bool:
    """Whether ``set_log_device_placement(True)`` is in force."""
    return _function.op_observer is _log_placement


def _dims(shape) -> list | None:
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        shape = shape.as_list() if getattr(shape, "rank", 0) is not None else None
        return shape
    return [None if d is None or (isinstance(d, (int, np.integer)) and d < 0) else int(d)
            for d in np.asarray(shape, dtype=object).ravel().tolist()]


def ensure_shape(x, shape, name=None) -> Tensor:
    """``x`` itself when its shape fits ``shape`` (a list, a TensorShape; ``None`` or -1 for any size, ``None``
    for any rank); TensorFlow's InvalidArgumentError otherwise. Gradients pass through unchanged."""
    tensor = x if isinstance(x, Tensor) else as_tensor(x)
    expected, actual = _dims(shape), list(tensor.shape)
    fits = expected is None or (len(expected) == len(actual) and all(e is None or e == a
                                                                      for e, a in zip(expected, actual)))
    if not fits:
        show = lambda dims: "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"  # noqa: E731
        raise InvalidArgumentError(None, None, f"Shape of tensor {name or 'x'} {show(actual)} is not compatible with "
                                               f"expected shape {show(expected)}.")
    return tensor


__all__ = ["ensure_shape", "get_log_device_placement", "set_log_device_placement"]
