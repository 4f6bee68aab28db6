"""Undoing broadcasting in a gradient: the one helper every binary op's backward shares."""
from __future__ import annotations


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape`` again."""
    if grad.shape == shape:
        return grad
    from chainrule.ops.reduce import SumTo

    return SumTo.apply(grad, shape=shape)
