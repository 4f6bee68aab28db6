"""Whether this thread runs a ``Dataset.map`` function. tf.data traces that function once, on the element spec, where
an axis whose size varies from element to element is unknown (None); a Keras layer's input-size checks then pass for
it, and the traced graph does not check again. chainrule runs the function on each element, so the layers ask here
and leave axis sizes unchecked inside it (the rank is still checked).

>>> in_dataset_function()
False
>>> with dataset_function():
...     in_dataset_function()
True

tf.data's trace also reads the Python values a function uses from its enclosing scope once, when ``map`` is
called; :func:`freeze_closure` gives the function those values as they are then (a lambda made in a loop keeps its
loop variable), objects such as Variables and lists still shared.

>>> fns = [freeze_closure(lambda x: x + i) for i in range(3)]
>>> [f(10) for f in fns]
[10, 11, 12]
"""
from __future__ import annotations

import contextlib
import threading
import types
from collections.abc import Iterator

_state = threading.local()


@contextlib.contextmanager
def dataset_function() -> Iterator[None]:
    """Mark this thread as running a map function while the block runs."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth


def in_dataset_function() -> bool:
    return getattr(_state, "depth", 0) > 0


def freeze_closure(fn):
    """``fn`` with the variables it reads from enclosing functions bound to their present values (a new function;
    ``fn`` itself when it is no plain function or reads none). A variable not assigned yet stays shared."""
    if not isinstance(fn, types.FunctionType) or not fn.__closure__:
        return fn
    cells = []
    for cell in fn.__closure__:
        try:
            cells.append(types.CellType(cell.cell_contents))
        except ValueError:  # empty: assigned after map() is called
            cells.append(cell)
    frozen = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, tuple(cells))
    frozen.__kwdefaults__, frozen.__qualname__, frozen.__doc__ = fn.__kwdefaults__, fn.__qualname__, fn.__doc__
    frozen.__dict__.update(fn.__dict__)
    return frozen


__all__ = ["dataset_function", "freeze_closure", "in_dataset_function"]
