"""Undoing broadcasting in a gradient: the one helper every binary op's backward shares.

>>> import chainrule as cr
>>> unbroadcast(cr.ones((2, 3)), (1, 3)).numpy()  # a (1, 3) operand broadcast to (2, 3) gets its rows summed
array([[2., 2., 2.]], dtype=float32)
"""
from __future__ import annotations


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape`` again."""
    if grad.shape == shape:
        return grad
    from chainrule.ops.reduce import SumTo

    return SumTo.apply(grad, shape=shape)
