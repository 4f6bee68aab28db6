"""The distribution that ``compile`` and ``fit`` run under (Keras 3's ``keras.distribution.distribution()`` and
``set_distribution()``): None for one process, or an object from a layer above (``chainrule.distributed``'s
``DataParallel``, which ``tf.distribute.MultiWorkerMirroredStrategy().scope()`` sets) that the trainer asks to
split batches, combine gradients, metrics and losses across processes, and keep callbacks on rank 0
(BackupAndRestore, which runs on every rank, asks it for rank 0's backup: ``is_chief``, ``from_chief``).

Inside ``strategy.run`` the strategy also sets :func:`replica_gradients`, a function that the optimizer's ``apply``
hands its gradients to, so that a custom training loop combines them across replicas as TensorFlow does.

>>> distribution() is None, replica_gradients() is None
(True, True)
"""
from __future__ import annotations

import contextlib

_current = None
_replica_gradients = None


def distribution():
    """The distribution set by :func:`set_distribution` (or a strategy's scope), or None."""
    return _current


def set_distribution(value) -> None:
    """Make ``value`` the distribution that models compiled from now on train under (None: one process)."""
    global _current
    _current = value


def replica_gradients():
    """The function ``combine(optimizer, grads, variables) -> grads`` of the running ``strategy.run``, or None."""
    return _replica_gradients


@contextlib.contextmanager
def replica_step(combine):
    """Within the block, optimizers hand their gradients to ``combine`` before updating."""
    global _replica_gradients
    previous, _replica_gradients = _replica_gradients, combine
    try:
        yield
    finally:
        _replica_gradients = previous
