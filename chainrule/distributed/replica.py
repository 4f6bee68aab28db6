"""What the running step tells the gradient exchange: this rank's share of the global batch.

A data-parallel step wants the gradient of the loss over the whole global batch. Each rank has the gradient of
the mean loss over its own rows, so the exchange sums ``weight * gradient`` with ``weight = rows here / rows in the
global batch``: exact even when the batch does not split evenly. ``fit`` under a strategy sets the weight per step;
``strategy.run`` sets 1 (TensorFlow's rule: the loss was already scaled by the global batch size); outside both,
``DistributedOptimizer`` averages (Horovod's rule, weight ``1 / size``).

>>> with step_weight(0.25):
...     current_weight()
0.25
>>> current_weight() is None
True
"""
from __future__ import annotations

import contextlib
import threading


class _Context(threading.local):
    weight: float | None = None


_context = _Context()


def current_weight() -> float | None:
    """The running step's weight of this rank's gradients, or None outside a distributed step."""
    return _context.weight


@contextlib.contextmanager
def step_weight(weight: float):
    """Within the block, this rank's gradients count ``weight`` times in the sum over ranks."""
    previous, _context.weight = _context.weight, float(weight)
    try:
        yield
    finally:
        _context.weight = previous
