"""Op determinism, TensorFlow's ``tf.config.experimental.enable_op_determinism``: a process-wide switch that the parts
which could otherwise give run-to-run differences read. chainrule's ops already give the same result for the same
inputs and seeds; what the switch changes is tf.data, whose parallel ``map`` and read-ahead ``interleave`` run their
functions in the consumer's thread while it is on (so random draws inside them come in the same order every run), as
TensorFlow does.

>>> enable(); enabled()
True
>>> disable(); enabled()
False
"""
from __future__ import annotations

_enabled = False


def enable() -> None:
    """Make every run with the same seeds give the same results."""
    global _enabled
    _enabled = True


def disable() -> None:
    global _enabled
    _enabled = False


def enabled() -> bool:
    return _enabled


__all__ = ["disable", "enable", "enabled"]
