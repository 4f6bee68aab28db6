"""What the running step tells the gradient exchange: this rank's share of the global batch, whether every rank's
share is the same, and whether the gradients are the step's own (no one reads them after the update).

A data-parallel step wants the gradient of the loss over the whole global batch. Each rank has the gradient of
the mean loss over its own rows, so the exchange sums ``weight * gradient`` with ``weight = rows here / rows in the
global batch``: exact even when the batch does not split evenly. ``fit`` under a strategy sets the weight per step;
``strategy.run`` sets 1 (TensorFlow's rule: the loss was already scaled by the global batch size); outside both,
``DistributedOptimizer`` averages (Horovod's rule, weight ``1 / size``). When every rank has the same weight, the
sum of the plain gradients times that weight is the same sum, so the exchange can leave the multiplication to the
optimizer's update (chainrule/distributed/optimizer.py).

>>> with step_weight(0.25):
...     current_weight(), weights_uniform(), gradients_owned()
(0.25, True, False)
>>> current_weight() is None
True
"""
from __future__ import annotations

import contextlib
import threading


class _Context(threading.local):
    weight: float | None = None
    uniform: bool = True
    owned: bool = False


_context = _Context()


def current_weight() -> float | None:
    """The running step's weight of this rank's gradients, or None outside a distributed step."""
    return _context.weight


def weights_uniform() -> bool:
    """Whether every rank's gradients carry the same weight in the running step (true outside a step: Horovod's
    average weighs every rank by ``1 / size``)."""
    return _context.uniform


def gradients_owned() -> bool:
    """Whether the running step's gradients are its own: arrays that nothing reads after the update, which the
    exchange may therefore sum in place (``fit``'s built-in step)."""
    return _context.owned


@contextlib.contextmanager
def step_weight(weight: float, uniform: bool = True, owned: bool = False):
    """Within the block, this rank's gradients count ``weight`` times in the sum over ranks (``uniform``: as every
    other rank's do; ``owned``: the gradients are the step's own, see :func:`gradients_owned`)."""
    context = _context
    previous = context.weight, context.uniform, context.owned
    context.weight, context.uniform, context.owned = float(weight), bool(uniform), bool(owned)
    try:
        yield
    finally:
        context.weight, context.uniform, context.owned = previous
