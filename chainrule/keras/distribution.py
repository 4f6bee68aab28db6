"""The distribution that ``compile`` and ``fit`` run under (Keras 3's ``keras.distribution.distribution()`` and
``set_distribution()``): None for one process, or an object from a layer above (``chainrule.distributed``'s
``DataParallel``, which ``tf.distribute.MultiWorkerMirroredStrategy().scope()`` sets) that the trainer asks to
split batches, combine gradients, metrics and losses across processes, and keep callbacks on rank 0.

>>> distribution() is None
True
"""
from __future__ import annotations

_current = None


def distribution():
    """The distribution set by :func:`set_distribution` (or a strategy's scope), or None."""
    return _current


def set_distribution(value) -> None:
    """Make ``value`` the distribution that models compiled from now on train under (None: one process)."""
    global _current
    _current = value
