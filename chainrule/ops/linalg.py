"""Matrix multiplication, batched over leading axes with broadcasting (like ``numpy.matmul``).

>>> import chainrule as cr
>>> cr.matmul(cr.constant([[1.0, 2.0]]), cr.constant([[3.0], [4.0]])).numpy()
array([[11.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.ops.function import Function, op, unbroadcast
from chainrule.ops.math import _operands
from chainrule.tensor import Tensor, TensorLike


def _swap_last(x):
    from chainrule.ops.shape import Transpose

    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return Transpose.apply(x, axes=axes)


class MatMul(Function):
    # Y = A @ B   ->   dA = G @ Bᵀ,  dB = Aᵀ @ G   (summed over broadcast batch axes)
    def forward(self, a, b):
        return a @ b

    def backward(self, g):
        a, b = self.args
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g @ _swap_last(b), self.arrays[0].shape) if need_a else None,
                unbroadcast(_swap_last(a) @ g, self.arrays[1].shape) if need_b else None)


@op
def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """``a @ b``; 1-D operands are treated as a row (left) or column (right) vector, as in NumPy."""
    a, b = _operands(a, b)
    a_shape, b_shape = np.shape(a), np.shape(b)
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a_shape} and {b_shape}")
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:
        raise ValueError(f"matmul: shapes {a_shape} and {b_shape} are not aligned: the last dimension of a "
                         f"({a_shape[-1]}) must equal the {'second-to-last' if len(b_shape) > 1 else 'only'} "
                         f"dimension of b ({b_shape[-2 if len(b_shape) > 1 else 0]})")
    if len(a_shape) == 1 or len(b_shape) == 1:
        from chainrule.ops.shape import reshape

        a2 = reshape(a, (1, -1)) if len(a_shape) == 1 else a
        b2 = reshape(b, (-1, 1)) if len(b_shape) == 1 else b
        out = MatMul.apply(a2, b2)
        kept = ((out.shape[-2],) if len(a_shape) > 1 else ()) + ((out.shape[-1],) if len(b_shape) > 1 else ())
        return reshape(out, out.shape[:-2] + kept)
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a_shape} and {b_shape} cannot be broadcast") from None
    return MatMul.apply(a, b)
