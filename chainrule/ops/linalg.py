"""Matrix multiplication, batched over leading axes with broadcasting (like ``numpy.matmul``).

>>> import chainrule as cr
>>> cr.matmul(cr.constant([[1.0, 2.0]]), cr.constant([[3.0], [4.0]])).numpy()
array([[11.]], dtype=float32)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend import threads
from chainrule.backend.kernels.activation import column_sum
from chainrule.engine.function import Function, op
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.math import _operands
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.utils.errors import InvalidArgumentError


def _swap_last(x):
    """Transpose the last two axes (a view for arrays, a differentiable op for Tensors)."""
    if not isinstance(x, Tensor):
        return backend.array_namespace(x).matrix_transpose(x)
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
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:  # (TensorFlow's eager error; also a ValueError)
        raise InvalidArgumentError(None, None, f"matmul: shapes {a_shape} and {b_shape} are not aligned: the last "
                                   f"dimension of a ({a_shape[-1]}) must equal the "
                                   f"{'second-to-last' if len(b_shape) > 1 else 'only'} dimension of b "
                                   f"({b_shape[-2 if len(b_shape) > 1 else 0]})")
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


def _rows(a, xp):
    """``a`` as a matrix of its last axis: one product, where NumPy's matmul of a 3-D array loops over small ones."""
    return a if a.ndim == 2 else xp.reshape(a, (math.prod(a.shape[:-1]), a.shape[-1]))


class Linear(Function):
    # y = x @ W + b   ->   dx = g @ Wᵀ,  dW = xᵀ @ g (over all leading axes),  db = Σ g over all but the last axis
    def forward(self, x, kernel, bias):
        xp = backend.array_namespace(x)
        y = threads.matmul(_rows(x, xp), kernel)
        if bias is not None:
            y += bias
        return y if x.ndim == 2 else xp.reshape(y, x.shape[:-1] + (kernel.shape[1],))

    def backward(self, g):
        x, kernel, _ = self.args
        need_x, need_w, need_b = self.needs_input_grad
        rows = self.arrays[0].size // self.arrays[0].shape[-1]
        if self.graph_out is None:  # arrays: the namespace's functions
            xp = backend.array_namespace(g)
            g2 = _rows(g, xp)
            dx = None
            if need_x:
                dx = threads.matmul(g2, _swap_last(kernel))
                dx = dx if g.ndim == 2 else xp.reshape(dx, x.shape)
            return (dx, threads.matmul(_swap_last(xp.reshape(x, (rows, x.shape[-1]))), g2) if need_w else None,
                    column_sum(g2) if need_b else None)
        g2 = g.reshape((rows, g.shape[-1]))  # Tensors: differentiable ops
        return (g @ _swap_last(kernel) if need_x else None,
                _swap_last(x.reshape((rows, x.shape[-1]))) @ g2 if need_w else None,
                g2.sum(axis=0) if need_b else None)


@op
def linear(x: TensorLike, kernel: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """The dense layer's affine map ``x @ kernel + bias`` as one op (kernel shaped (in, out), as Keras stores it)."""
    x, kernel = _operands(x, kernel)
    x_shape, k_shape = np.shape(x), np.shape(kernel)
    if len(k_shape) != 2 or len(x_shape) < 1 or x_shape[-1] != k_shape[0]:
        raise ValueError(f"linear: input of shape {x_shape} does not fit a kernel of shape {k_shape} "
                         f"(the input's last dimension must equal the kernel's first)")
    if bias is not None:
        _, bias = _operands(kernel, bias)
        if np.shape(bias) != (k_shape[1],):
            raise ValueError(f"linear: bias of shape {np.shape(bias)} does not match the kernel's {k_shape[1]} "
                             f"outputs")
    return Linear.apply(x, kernel, bias)
