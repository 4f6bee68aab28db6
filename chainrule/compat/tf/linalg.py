"""``tf.linalg``: matrix products, inverses, determinants, solves, norms, diagonals, traces, transposes and identity
matrices, batched over leading axes as in TensorFlow. Every function is differentiable: the inverse, determinant
and solve are ops of their own (chainrule/ops/matrix.py), the rest compositions of ops.

>>> import chainrule as tf
>>> a = tf.Variable([[4.0, 1.0], [2.0, 3.0]])
>>> with tf.GradientTape() as tape:
...     d = tf.linalg.det(a)
>>> float(d), tape.gradient(d, a).numpy()  # d det(A) / dA = det(A) A^-T
(10.0, array([[ 3., -2.],
       [-1.,  4.]], dtype=float32))
>>> tf.linalg.trace(tf.eye(3, batch_shape=[2])).numpy()
array([3., 3.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend, ops
from chainrule.compat.tf.api import matmul
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import matrix


def _at_least_matrix(x: TensorLike, name: str) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"tf.linalg.{name}: expected a matrix or a batch of them (rank >= 2), got shape {x.shape}")
    return x


def matrix_transpose(a: TensorLike, name=None, conjugate: bool = False) -> Tensor:
    """The last two axes swapped (real tensors: ``conjugate`` changes nothing)."""
    a = _at_least_matrix(a, "matrix_transpose")
    perm = list(range(a.ndim))
    perm[-2:] = perm[-1], perm[-2]
    return ops.transpose(a, perm)


transpose = matrix_transpose  # tf.linalg.transpose


def matvec(a: TensorLike, b: TensorLike, transpose_a: bool = False, adjoint_a: bool = False, name=None, **_) -> Tensor:
    """``a @ b`` for matrices ``a`` (..., m, n) and vectors ``b`` (..., n)."""
    b = as_tensor(b)
    return ops.squeeze(matmul(a, ops.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a), -1)


def inv(input: TensorLike, adjoint: bool = False, name=None) -> Tensor:  # noqa: A002  (TensorFlow's name)
    """The inverse of each matrix (of its transpose with ``adjoint``)."""
    return matrix.inv(matrix_transpose(input) if adjoint else input)


def det(input: TensorLike, name=None) -> Tensor:  # noqa: A002
    """The determinant of each matrix."""
    return matrix.det(input)


def solve(matrix_: TensorLike, rhs: TensorLike, adjoint: bool = False, name=None, **kwargs) -> Tensor:
    """``X`` with ``matrix @ X = rhs`` (``matrixᵀ @ X = rhs`` with ``adjoint``); rhs has shape (..., n, k)."""
    if "matrix" in kwargs:  # TensorFlow's keyword is `matrix`
        matrix_ = kwargs.pop("matrix")
    if kwargs:
        raise TypeError(f"tf.linalg.solve got unexpected keyword arguments {sorted(kwargs)}")
    return matrix.solve(matrix_transpose(matrix_) if adjoint else matrix_, rhs)


def eye(num_rows: int, num_columns: int | None = None, batch_shape=None, dtype=np.float32, name=None) -> Tensor:
    """An identity matrix (ones on the diagonal of a num_rows × num_columns matrix), repeated over ``batch_shape``."""
    rows = int(num_rows)
    cols = rows if num_columns is None else int(num_columns)
    if rows < 0 or cols < 0:
        raise ValueError(f"tf.eye: num_rows and num_columns must be >= 0, got {rows} and {cols}")
    identity = backend.xp.eye(rows, cols, dtype=backend.as_dtype(dtype))
    if batch_shape is not None:
        identity = backend.xp.broadcast_to(identity, tuple(int(n) for n in batch_shape) + (rows, cols)).copy()
    return Tensor._wrap(identity)


def _diagonal_only(name: str, k, **defaults) -> None:
    """chainrule's diag and diag_part take the main diagonal only."""
    if k != 0 or any(value not in (-1, 0, "RIGHT_LEFT", None) for value in defaults.values()):
        raise NotImplementedError(f"tf.linalg.{name}: only the main diagonal (k=0, default sizes and padding) is "
                                  f"supported; got k={k!r}, {defaults}")


def diag(diagonal: TensorLike, name=None, k: int = 0, num_rows: int = -1, num_cols: int = -1,
         padding_value=0, align: str = "RIGHT_LEFT") -> Tensor:
    """Square matrices (..., n, n) with ``diagonal`` (..., n) on their diagonal, zeros elsewhere."""
    _diagonal_only("diag", k, num_rows=num_rows, num_cols=num_cols, padding_value=padding_value, align=align)
    diagonal = as_tensor(diagonal)
    if diagonal.ndim < 1:
        raise ValueError(f"tf.linalg.diag: the diagonal must have rank >= 1, got shape {diagonal.shape}")
    n = diagonal.shape[-1]
    return ops.expand_dims(diagonal, -1) * backend.xp.eye(n, dtype=diagonal.dtype)


def diag_part(input: TensorLike, name=None, k: int = 0, padding_value=0,  # noqa: A002  (TensorFlow's name)
              align: str = "RIGHT_LEFT") -> Tensor:
    """The main diagonal of each (..., m, n) matrix, shape (..., min(m, n))."""
    _diagonal_only("diag_part", k, padding_value=padding_value, align=align)
    x = _at_least_matrix(input, "diag_part")
    n = min(x.shape[-2:])
    square = x[..., :n, :n] if x.shape[-2] != x.shape[-1] else x
    return ops.sum(square * backend.xp.eye(n, dtype=x.dtype), -1)


def trace(x: TensorLike, name=None) -> Tensor:
    """The sum of each matrix's main diagonal."""
    return ops.sum(diag_part(x), -1)


def band_part(input: TensorLike, num_lower: int, num_upper: int, name=None) -> Tensor:  # noqa: A002
    """Each matrix with the entries outside its band zeroed: ``num_lower`` diagonals below the main one and
    ``num_upper`` above kept (a negative count keeps them all); ``band_part(x, -1, 0)`` is the lower triangle."""
    x = _at_least_matrix(input, "band_part")
    m, n = x.shape[-2:]
    rows, cols = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((num_lower < 0) | (rows - cols <= num_lower)) & ((num_upper < 0) | (cols - rows <= num_upper))
    return ops.where(backend.xp.asarray(keep), x, backend.xp.zeros((), dtype=x.dtype))


def norm(tensor: TensorLike, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:  # noqa: A002
    """``tf.norm``: the 2-norm of the whole tensor by default; over one axis a vector norm (``ord`` 1, 2, inf or
    any p > 0), over two axes a matrix norm ('euclidean'/'fro', 1, inf)."""
    from chainrule.keras.ops.linalg import norm as numpy_norm  # NumPy's orders and axes, as keras.ops has them

    axes = (axis,) if isinstance(axis, int) else None if axis is None else tuple(axis)
    if ord == "fro" and axes is not None and len(axes) == 1:
        raise ValueError(f"'ord' must be a supported vector norm, got {ord!r}.")
    if not (ord in ("euclidean", "fro", 1, 2, np.inf) or isinstance(ord, (int, float)) and ord > 0):
        raise ValueError(f"'ord' must be a supported vector norm, got {ord!r}.")
    if ord in ("euclidean", "fro"):
        numpy_ord = None if axes is None or len(axes) == 1 else "fro"
    else:
        numpy_ord = ord
    if axes is None and ord not in ("euclidean", "fro"):
        x = as_tensor(tensor)
        out = numpy_norm(ops.reshape(x, (-1,)), ord=numpy_ord, axis=0)
        return ops.reshape(out, (1,) * x.ndim) if keepdims else out
    return numpy_norm(tensor, ord=numpy_ord, axis=axes, keepdims=bool(keepdims))


__all__ = ["band_part", "det", "diag", "diag_part", "eye", "inv", "matmul", "matrix_transpose", "matvec", "norm",
           "solve", "trace", "transpose"]

# the decompositions and what is built on them, in a module of their own (it uses the functions above)
from chainrule.compat.tf import linalg_decompositions  # noqa: E402
from chainrule.compat.tf.linalg_decompositions import *  # noqa: E402,F401,F403
from chainrule.compat.tf.api import einsum, global_norm  # noqa: E402,F401
from chainrule.compat.tf.array_ops import tensordot  # noqa: E402,F401
from chainrule.compat.tf.math import l2_normalize  # noqa: E402,F401

__all__ += linalg_decompositions.__all__ + ["einsum", "global_norm", "l2_normalize", "tensordot"]
del linalg_decompositions
from chainrule.compat.tf.linalg_matrix_functions import logm, sqrtm, tridiagonal_matmul  # noqa: E402,F401

__all__ += ["logm", "sqrtm", "tridiagonal_matmul"]
