"""Square-matrix ops, batched over leading axes: the inverse, the determinant and the solution of ``A X = B``
(``numpy.linalg``'s, on the array namespace of the inputs). Each backward is written with ops, so second derivatives
work too.

>>> import chainrule as cr
>>> a = cr.constant([[2.0, 0.0], [0.0, 4.0]])
>>> inv(a).numpy(), float(det(a))
(array([[0.5 , 0.  ],
       [0.  , 0.25]], dtype=float32), 8.0)
>>> solve(a, cr.constant([[2.0], [8.0]])).numpy()
array([[1.],
       [2.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.linalg import _swap_last


def _square_float(x: TensorLike, name: str, what: str = "input") -> Tensor:
    """``x`` as a float tensor of shape (..., n, n), or a clear error naming the op."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float tensor as {what}, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: {what} must be a square matrix or a batch of them, shape (..., n, n); got shape "
                         f"{x.shape}")
    return x


def _namespace(x):
    """The array namespace of an array or of a Tensor's data (backward sees either)."""
    return backend.array_namespace(x.data if isinstance(x, Tensor) else x)


def _reshape(x, shape: tuple):
    return x.reshape(shape) if isinstance(x, Tensor) else _namespace(x).reshape(x, shape)


def _linalg(fn, name: str, *arrays):
    """A ``numpy.linalg`` call whose failure on a singular matrix names the op."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as error:
        raise np.linalg.LinAlgError(f"{name}: the matrix is not invertible ({error})") from None


class Inv(Function):
    # Y = A⁻¹   ->   dA = -Yᵀ G Yᵀ
    def forward(self, a):
        return _linalg(backend.array_namespace(a).linalg.inv, "inv", a)

    def backward(self, g):
        y = _swap_last(self.output)
        return -(y @ g @ y)


class Det(Function):
    # y = det A   ->   dA = g y A⁻ᵀ   (A must be invertible for the gradient)
    def forward(self, a):
        xp = backend.array_namespace(a)
        return xp.asarray(xp.linalg.det(a))

    def backward(self, g):
        (a,) = self.args
        scale = g * self.output
        return _reshape(scale, tuple(scale.shape) + (1, 1)) * _swap_last(Inv.apply(a))


class Solve(Function):
    # X = A⁻¹ B   ->   dB = A⁻ᵀ G,  dA = -dB Xᵀ   (summed over broadcast batch axes)
    def forward(self, a, b):
        return _linalg(backend.array_namespace(a).linalg.solve, "solve", a, b)

    def backward(self, g):
        a, _ = self.args
        need_a, need_b = self.needs_input_grad
        gb = Solve.apply(_swap_last(a), g)
        ga = -(gb @ _swap_last(self.output)) if need_a else None
        return (unbroadcast(ga, self.arrays[0].shape) if need_a else None,
                unbroadcast(gb, self.arrays[1].shape) if need_b else None)


@op
def inv(a: TensorLike) -> Tensor:
    """The inverse of each (..., n, n) matrix; a singular one raises ``numpy.linalg.LinAlgError``."""
    return Inv.apply(_square_float(a, "inv"))


@op
def det(a: TensorLike) -> Tensor:
    """The determinant of each (..., n, n) matrix, shape (...)."""
    return Det.apply(_square_float(a, "det"))


@op
def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """``X`` with ``a @ X = b`` for a (..., n, n) and b (..., n, k), batch axes broadcast."""
    a = _square_float(a, "solve", "the matrix")
    b = as_tensor(b)
    if b.dtype != a.dtype:
        raise TypeError(f"solve: the right-hand side has dtype {b.dtype}, the matrix {a.dtype}; they must match")
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: the right-hand side must have shape (..., {a.shape[-1]}, k) for a matrix of shape "
                         f"{a.shape}; got shape {b.shape}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"solve: batch dimensions of {a.shape} and {b.shape} cannot be broadcast") from None
    return Solve.apply(a, b)


__all__ = ["det", "inv", "solve"]
