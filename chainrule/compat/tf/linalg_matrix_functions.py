"""``tf.linalg.sqrtm`` and ``tf.linalg.logm``: the principal matrix square root and logarithm.

``sqrtm`` runs the product-form Denman-Beavers iteration (Higham, "Functions of Matrices", 6.3) on tensors, from
inverses and products, so gradients flow (the iterates' derivatives converge with them). ``logm`` takes complex
matrices only, as TensorFlow's, by inverse scaling and squaring: square roots until the matrix is near I, then the
series of log(I + X); it has no gradient, as in TensorFlow.

>>> import numpy as np
>>> import chainrule as tf
>>> tf.linalg.sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]])).numpy()
array([[2., 0.],
       [0., 3.]])
>>> np.round(tf.linalg.logm(np.diag([1.0, np.e]).astype("complex128")).numpy().real, 12)
array([[0., 0.],
       [0., 1.]])
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.compat.tf.linalg import band_part, inv as _inv
from chainrule.compat.tf.linalg_decompositions import tridiagonal_parts
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor

_MAX_ITERATIONS = 100


def _square(x: TensorLike, fn: str):
    array = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if array.ndim < 2 or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"tf.linalg.{fn}: input must be a square matrix or a batch of them (..., n, n), got shape "
                         f"{list(array.shape)}")
    return array


def _largest(x) -> float:
    return float(np.max(np.abs(x.numpy() if isinstance(x, Tensor) else x), initial=0.0))


def denman_beavers(a, inverse, fn: str):
    """The principal square root of ``a`` (tensors or arrays; ``inverse`` inverts them): M -> I, Y -> sqrt(A)."""
    dtype = np.dtype(a.dtype)
    eye = np.eye(a.shape[-1], dtype=dtype)
    tolerance = 8 * np.finfo(dtype).eps * a.shape[-1]
    m, y = a, a
    try:
        for _ in range(_MAX_ITERATIONS):
            m_inv = inverse(m)
            y = (y @ (m_inv + eye)) * 0.5
            m = (m * 0.25 + m_inv * 0.25) + eye * 0.5
            if _largest(m - eye) <= tolerance:
                # one more step: convergence is quadratic, so the value and its derivative settle
                m_inv = inverse(m)
                return (y @ (m_inv + eye)) * 0.5
            if not np.isfinite(_largest(m)):
                break
    except np.linalg.LinAlgError:  # an iterate went singular: a real negative eigenvalue, or a singular input
        pass
    raise ValueError(f"tf.linalg.{fn}: the square root iteration did not converge: the matrix must be invertible "
                     f"with no eigenvalues on the closed negative real axis")


def sqrtm(input: TensorLike, name=None) -> Tensor:  # noqa: A002  (TensorFlow's name)
    """The principal square root S of each square matrix (S @ S = input): the input must be invertible with no real
    negative eigenvalues; differentiable."""
    array = _square(input, "sqrtm")
    x = as_tensor(input)
    if array.dtype.kind not in "fc":
        x = as_tensor(array.astype(np.float32))
    if array.shape[-1] == 0:
        return x
    return denman_beavers(x, _inv, "sqrtm")


def _log_series(x: np.ndarray) -> np.ndarray:
    """log(I + X) = X - X^2/2 + X^3/3 - ..., for ||X|| <= 1/4 (60 terms bring the tail under float64 eps)."""
    total, power = np.zeros_like(x), np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype), x.shape)
    for k in range(1, 61):
        power = power @ x
        total = total + power * ((-1.0) ** (k + 1) / k)
    return total


def logm(input: TensorLike, name=None) -> Tensor:  # noqa: A002  (TensorFlow's name)
    """The principal logarithm L of each square complex matrix (expm(L) = input); TensorFlow's MatrixLogarithm
    takes complex64 / complex128 only, and so does this."""
    array = _square(input, "logm")
    if array.dtype not in (np.complex64, np.complex128):
        raise TypeError(f"tf.linalg.logm: input must be complex64 or complex128 (as TensorFlow's MatrixLogarithm), "
                        f"got {array.dtype}; cast with tf.cast(x, tf.complex128)")
    a = array.astype(np.complex128)
    if a.shape[-1] == 0:
        return as_tensor(array)
    eye = np.eye(a.shape[-1])
    halvings = 0
    while _largest(a - eye) > 0.25:  # log(A) = 2^k log(A^(1/2^k)), the root near I
        if halvings == 60:
            raise ValueError("tf.linalg.logm: the matrix must be invertible (no zero eigenvalues)")
        a = denman_beavers(a, np.linalg.inv, "logm")
        halvings += 1
    return as_tensor((_log_series(a - eye) * 2.0 ** halvings).astype(array.dtype))


def tridiagonal_matmul(diagonals, rhs: TensorLike, diagonals_format: str = "compact", name=None) -> Tensor:
    """``A @ rhs`` for tridiagonal A (..., M, M) given by its diagonals ('compact' (..., 3, M): superdiagonal (last
    entry unused), diagonal, subdiagonal (first entry unused); 'sequence': those three; 'matrix': A itself, entries
    off the band ignored), rhs (..., M, N); O(M) work, differentiable in both."""
    b = as_tensor(rhs)
    if diagonals_format == "matrix":
        return band_part(diagonals, 1, 1) @ b
    upper, middle, lower = tridiagonal_parts(diagonals, diagonals_format, "tridiagonal_matmul")
    m = middle.shape[-1]
    if b.ndim < 2 or b.shape[-2] != m:
        raise ValueError(f"tf.linalg.tridiagonal_matmul: rhs must have shape (..., {m}, N) for diagonals of length "
                         f"{m}, got {list(b.shape)}")
    out = ops.expand_dims(middle, -1) * b
    if m > 1:
        zero_row = [(0, 0)] * (b.ndim - 2)
        # row i gets upper[i] * rhs[i + 1] and lower[i] * rhs[i - 1]
        from_below = ops.pad(ops.expand_dims(upper[..., :-1], -1) * b[..., 1:, :], zero_row + [(0, 1), (0, 0)])
        from_above = ops.pad(ops.expand_dims(lower[..., 1:], -1) * b[..., :-1, :], zero_row + [(1, 0), (0, 0)])
        out = out + from_below + from_above
    return out


__all__ = ["logm", "sqrtm", "tridiagonal_matmul"]
