"""Whether this thread runs a ``Dataset.map`` function. tf.data traces that function once, on the element spec, where
an axis whose size varies from element to element is unknown (None); a Keras layer's input-size checks then pass for
it, and the traced graph does not check again. chainrule runs the function on each element, so the layers ask here
and leave axis sizes unchecked inside it (the rank is still checked).

>>> in_dataset_function()
False
>>> with dataset_function():
...     in_dataset_function()
True
"""
from __future__ import annotations

import contextlib
import threading
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


__all__ = ["dataset_function", "in_dataset_function"]
