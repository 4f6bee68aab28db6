"""``tf.linalg``'s decompositions and the functions built on them, with TensorFlow's names, argument orders and
results: ``cholesky``, ``cholesky_solve``, ``qr``, ``svd`` (returns ``s, u, v``), ``eigh``/``eigvalsh``,
``eig``/``eigvals``, ``lu`` (a row permutation, not LAPACK's pivots), ``lu_solve``, ``lu_matrix_inverse``,
``lu_reconstruct``, ``triangular_solve``, ``lstsq``, ``pinv``, ``slogdet``, ``logdet``, ``matrix_rank``, ``expm``,
``set_diag``, ``adjoint``, ``cross`` and ``normalize``. The differentiable ones are built on the registered ops of
chainrule/ops/decomposition.py and matrix.py.

>>> import numpy as np
>>> import chainrule as tf
>>> s, u, v = tf.linalg.svd(np.array([[3.0, 0.0], [0.0, -2.0]], "float32"))
>>> s.numpy()
array([3., 2.], dtype=float32)
>>> tf.linalg.triangular_solve(np.array([[2.0, 0.0], [1.0, 1.0]], "float32"), np.array([[2.0], [3.0]], "float32")
...                            ).numpy()  # lower=True by default
array([[1.],
       [2.]], dtype=float32)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule import backend, ops
from chainrule.compat.tf.api import matmul
from chainrule.compat.tf.linalg import _at_least_matrix, diag, eye, matrix_transpose, norm
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops import linalg as _klinalg
from chainrule.ops import decomposition
from chainrule.ops.matrix import solve as _solve
from chainrule.ops.no_gradient import no_gradient


class Lu(NamedTuple):
    """What ``tf.linalg.lu`` returns: L and U in one matrix, and the row permutation ``p`` (A[p] = L U)."""

    lu: Tensor
    p: Tensor


def adjoint(matrix_: TensorLike, name=None) -> Tensor:
    """The conjugate transpose of each matrix."""
    return ops.conj(matrix_transpose(matrix_))


def cholesky(input: TensorLike, name=None) -> Tensor:  # noqa: A002  (TensorFlow's name)
    """The lower Cholesky factor of each symmetric positive-definite matrix (its lower triangle is read)."""
    return decomposition.cholesky(input)


def triangular_solve(matrix: TensorLike, rhs: TensorLike, lower: bool = True, adjoint: bool = False,  # noqa: A002
                     name=None) -> Tensor:
    """``X`` with ``matrix @ X = rhs`` for lower (default) or upper triangular matrices (``adjoint``: with the
    transposed matrix, whose triangle is the other one)."""
    a = as_tensor(matrix)
    if adjoint:
        a, lower = matrix_transpose(a), not lower
    return decomposition.triangular_solve(a, rhs, lower=bool(lower))


def cholesky_solve(chol: TensorLike, rhs: TensorLike, name=None) -> Tensor:
    """``X`` with ``A @ X = rhs`` given ``chol``, A's lower Cholesky factor: two triangular solves."""
    chol = as_tensor(chol)
    return decomposition.triangular_solve(matrix_transpose(chol), decomposition.triangular_solve(chol, rhs, True),
                                          lower=False)


def qr(input: TensorLike, full_matrices: bool = False, name=None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(q, r)`` with ``input = q @ r``: reduced (q (m, k)) unless ``full_matrices``."""
    return decomposition.qr(input, "complete" if full_matrices else "reduced")


def svd(tensor: TensorLike, full_matrices: bool = False, compute_uv: bool = True, name=None):
    """TensorFlow's order: ``(s, u, v)`` with ``tensor = u @ diag(s) @ adjoint(v)`` (v not transposed), or ``s``
    alone with ``compute_uv=False``."""
    if not compute_uv:
        return decomposition.svd(tensor, compute_uv=False)
    u, s, vh = decomposition.svd(tensor, full_matrices=full_matrices)
    return s, u, matrix_transpose(vh)


def eigh(tensor: TensorLike, name=None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of each self-adjoint matrix."""
    return decomposition.eigh(tensor)


def eigvalsh(tensor: TensorLike, name=None) -> Tensor:
    """The eigenvalues of each self-adjoint matrix, ascending."""
    return decomposition.eigh(tensor)[0]


def _complex_of(x: Tensor) -> str:
    return "complex128" if x.dtype == np.float64 else "complex64"


def eig(tensor: TensorLike, name=None) -> tuple[Tensor, Tensor]:
    """Eigenvalues and eigenvectors of each square matrix, always complex (as TensorFlow); no gradient."""
    x = as_tensor(tensor)
    w, v = _klinalg.eig(x)
    return ops.cast(w, _complex_of(x)), ops.cast(v, _complex_of(x))


def eigvals(tensor: TensorLike, name=None) -> Tensor:
    """The (complex) eigenvalues of each square matrix; no gradient."""
    return eig(tensor)[0]


def slogdet(input: TensorLike, name=None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(sign, log_abs_determinant)`` of each square matrix."""
    return decomposition.slogdet(input)


def logdet(matrix: TensorLike, name=None) -> Tensor:
    """The log of the determinant of each Hermitian positive-definite matrix."""
    return decomposition.slogdet(matrix)[1]


def pinv(a: TensorLike, rcond=None, validate_args: bool = False, name=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse; singular values below ``rcond`` times the largest are dropped (None:
    TensorFlow's 10 * max(m, n) * eps)."""
    a = _at_least_matrix(a, "pinv")
    cutoff = 10.0 * max(a.shape[-2:]) * float(np.finfo(a.dtype).eps) if rcond is None else float(rcond)
    return decomposition.pinv(a, cutoff)


def lstsq(matrix: TensorLike, rhs: TensorLike, l2_regularizer: float = 0.0, fast: bool = True,
          name=None) -> Tensor:
    """The least-squares solution of ``matrix @ X = rhs`` for each batch (the least-norm one for a rank-deficient
    matrix); with ``l2_regularizer`` λ > 0 the ridge solution ``(AᵀA + λI)⁻¹ Aᵀ rhs``."""
    a, b = _at_least_matrix(matrix, "lstsq"), _at_least_matrix(rhs, "lstsq")
    if b.shape[-2] != a.shape[-2]:
        raise ValueError(f"tf.linalg.lstsq: rhs must have {a.shape[-2]} rows for a matrix of shape {a.shape}, got "
                         f"shape {b.shape}")
    if l2_regularizer:
        n = a.shape[-1]
        gram = matmul(a, a, transpose_a=True) + float(l2_regularizer) * backend.xp.eye(n, dtype=a.dtype)
        return _solve(gram, matmul(a, b, transpose_a=True))
    cutoff = float(np.finfo(a.dtype).eps) * max(a.shape[-2:])
    return matmul(decomposition.pinv(a, cutoff), b)



def _pivots_to_permutation(pivots):
    """LAPACK's row interchanges (row i swapped with pivots[i], in turn) as the permutation they make."""
    pivots = np.asarray(backend.to_host(pivots))
    flat = pivots.reshape(-1, pivots.shape[-1])
    m = flat.shape[-1]
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for i in range(m):
        swap = flat[:, i]
        first, second = perm[rows, i].copy(), perm[rows, swap].copy()
        perm[rows, i], perm[rows, swap] = second, first
    return backend.array_namespace(pivots).asarray(perm.reshape(pivots.shape).astype(np.int32))


def lu(input: TensorLike, output_idx_type="int32", name=None) -> Lu:  # noqa: A002
    """The LU decomposition with partial pivoting of each square matrix: ``Lu(lu, p)`` with L's multipliers below
    the diagonal and U on and above it, and ``p`` such that ``input[p] == L @ U``; no gradient."""
    x = _at_least_matrix(input, "lu")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"tf.linalg.lu: expected square matrices, got shape {x.shape}")
    factors, pivots = _klinalg.lu_factor(x)
    return Lu(factors, ops.cast(no_gradient(_pivots_to_permutation, pivots), output_idx_type))


def _unit_lower_and_upper(lower_upper: Tensor) -> tuple[Tensor, Tensor]:
    n = lower_upper.shape[-1]
    strictly_lower = np.tril(np.ones((n, n)), -1).astype(lower_upper.dtype)
    lower = lower_upper * strictly_lower + backend.xp.eye(n, dtype=lower_upper.dtype)
    upper = lower_upper * np.triu(np.ones((n, n))).astype(lower_upper.dtype)
    return lower, upper


def _rows(x: Tensor, perm: Tensor) -> Tensor:
    """``x`` with its rows (axis -2) taken in the order ``perm``, batch by batch."""
    index = ops.expand_dims(ops.cast(perm, "int64"), -1)
    return ops.take_along_axis(x, ops.broadcast_to(index, tuple(perm.shape) + (x.shape[-1],)), axis=-2)


def lu_solve(lower_upper: TensorLike, perm: TensorLike, rhs: TensorLike, validate_args: bool = False,
             name=None) -> Tensor:
    """``X`` with ``A @ X = rhs`` from A's ``lu`` decomposition: two triangular solves of the permuted rhs."""
    lower_upper, perm, rhs = as_tensor(lower_upper), as_tensor(perm), as_tensor(rhs)
    lower, upper = _unit_lower_and_upper(lower_upper)
    batch = np.broadcast_shapes(tuple(lower_upper.shape[:-2]), tuple(rhs.shape[:-2]))
    rhs = ops.broadcast_to(rhs, batch + tuple(rhs.shape[-2:]))
    perm = ops.broadcast_to(perm, batch + tuple(perm.shape[-1:]))
    y = decomposition.triangular_solve(lower, _rows(rhs, perm), lower=True)
    return decomposition.triangular_solve(upper, y, lower=False)


def lu_matrix_inverse(lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False, name=None) -> Tensor:
    """The inverse of A from its ``lu`` decomposition."""
    lower_upper = as_tensor(lower_upper)
    n = lower_upper.shape[-1]
    return lu_solve(lower_upper, perm, eye(n, batch_shape=lower_upper.shape[:-2], dtype=lower_upper.dtype))


def _inverse_permutation(perm):
    xp = backend.array_namespace(perm)
    return xp.argsort(perm, axis=-1).astype(perm.dtype)


def lu_reconstruct(lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False, name=None) -> Tensor:
    """A from its ``lu`` decomposition: ``L @ U`` with the rows put back."""
    lower_upper, perm = as_tensor(lower_upper), as_tensor(perm)
    lower, upper = _unit_lower_and_upper(lower_upper)
    return _rows(matmul(lower, upper), no_gradient(_inverse_permutation, perm))


def matrix_rank(a: TensorLike, tol=None, validate_args: bool = False, name=None) -> Tensor:
    """The number of singular values above ``tol`` (None: the largest times eps times max(m, n)), int32."""
    return _klinalg.matrix_rank(a, tol)


def expm(input: TensorLike, name=None) -> Tensor:  # noqa: A002
    """The matrix exponential of each square matrix: scaled by 2^-s below norm 1/2, an 18-term Taylor sum (error
    under eps), then squared s times; built from products, so differentiable."""
    x = _at_least_matrix(input, "expm")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"tf.linalg.expm: expected square matrices, got shape {x.shape}")
    largest = float(np.max(np.abs(np.asarray(backend.to_host(x.data))).sum(axis=-2), initial=0.0))  # the 1-norm
    squarings = max(0, int(np.ceil(np.log2(largest / 0.5)))) if largest > 0.5 else 0
    scaled = x * (0.5 ** squarings)
    identity = backend.xp.eye(x.shape[-1], dtype=x.dtype)
    total = None
    for k in range(18, 0, -1):  # Horner: I + A/1 (I + A/2 (I + ... (I + A/18)))
        total = identity + (scaled * (1.0 / k) if total is None else matmul(scaled, total) * (1.0 / k))
    for _ in range(squarings):
        total = matmul(total, total)
    return total


def set_diag(input: TensorLike, diagonal: TensorLike, name=None, k: int = 0,  # noqa: A002
             align: str = "RIGHT_LEFT") -> Tensor:
    """Each matrix with its main diagonal replaced by ``diagonal`` (..., min(m, n))."""
    if k != 0:
        raise NotImplementedError(f"tf.linalg.set_diag: only the main diagonal (k=0) is supported, got k={k!r}")
    x = _at_least_matrix(input, "set_diag")
    m, n = x.shape[-2:]
    d = as_tensor(diagonal)
    if tuple(d.shape) != tuple(x.shape[:-2]) + (min(m, n),):
        raise ValueError(f"tf.linalg.set_diag: diagonal must have shape {tuple(x.shape[:-2]) + (min(m, n),)}, got "
                         f"{tuple(d.shape)}")
    off = 1.0 - backend.xp.eye(m, n, dtype=x.dtype)
    square = diag(d)
    if m != n:
        square = ops.pad(square, [(0, 0)] * (x.ndim - 2) + [(0, m - min(m, n)), (0, n - min(m, n))])
    return x * off + square


def cross(a: TensorLike, b: TensorLike, name=None) -> Tensor:
    """The cross products of 3-vectors along the last axis."""
    from chainrule.keras.ops.arrays import cross as numpy_cross

    a, b = as_tensor(a), as_tensor(b)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"tf.linalg.cross: both inputs must end in 3-vectors, got shapes {a.shape} and {b.shape}")
    return numpy_cross(a, b)


def normalize(tensor: TensorLike, ord="euclidean", axis=None, name=None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(tensor / norm, norm)`` with ``tf.norm``'s orders and axes (norm kept with its reduced axes)."""
    x = as_tensor(tensor)
    size = norm(x, ord=ord, axis=axis, keepdims=True)
    return x / size, size


def tridiagonal_parts(diagonals, diagonals_format: str, fn: str) -> tuple[Tensor, Tensor, Tensor]:
    """(superdiagonal, diagonal, subdiagonal) from TensorFlow's 'compact' ((..., 3, M): superdiagonal (last entry
    unused), diagonal, subdiagonal (first entry unused)) or 'sequence' format."""
    if diagonals_format == "sequence":
        return tuple(as_tensor(d) for d in diagonals)  # type: ignore[return-value]
    if diagonals_format == "compact":
        diagonals = as_tensor(diagonals)
        if diagonals.ndim < 2 or diagonals.shape[-2] != 3:
            raise ValueError(f"tf.linalg.{fn}: compact diagonals must have shape (..., 3, M), got "
                             f"{tuple(diagonals.shape)}")
        return diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :]
    raise ValueError(f"tf.linalg.{fn}: unrecognized diagonals_format {diagonals_format!r}")


def _tridiagonal_matrix(diagonals, diagonals_format: str) -> Tensor:
    """The dense (..., M, M) matrix of tridiagonal ``diagonals`` in 'compact', 'sequence' or 'matrix' format."""
    if diagonals_format == "matrix":
        return _at_least_matrix(diagonals, "tridiagonal_solve")
    upper, middle, lower = tridiagonal_parts(diagonals, diagonals_format, "tridiagonal_solve")
    m = middle.shape[-1]
    dtype = middle.dtype
    above = np.eye(m, k=1, dtype=dtype)   # (i, i + 1) holds upper[i]
    below = np.eye(m, k=-1, dtype=dtype)  # (i + 1, i) holds lower[i + 1]
    # each entry of row r comes from the diagonals' entry r
    return (ops.expand_dims(middle, -1) * np.eye(m, dtype=dtype) + ops.expand_dims(upper, -1) * above
            + ops.expand_dims(lower, -1) * below)


def tridiagonal_solve(diagonals, rhs: TensorLike, diagonals_format: str = "compact", transpose_rhs: bool = False,
                      conjugate_rhs: bool = False, name=None, partial_pivoting: bool = True,
                      perturb_singular: bool = False) -> Tensor:
    """``X`` with ``A @ X = rhs`` for a tridiagonal A (rhs (..., M, K), or (..., M)); solved as the dense matrix,
    differentiable in the diagonals and rhs."""
    a = _tridiagonal_matrix(diagonals, diagonals_format)
    b = as_tensor(rhs)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = ops.expand_dims(b, -1)
    elif transpose_rhs:
        b = matrix_transpose(b)
    if conjugate_rhs:
        b = ops.conj(b)
    out = _solve(a, b)
    return ops.squeeze(out, -1) if vector else out


__all__ = ["Lu", "adjoint", "cholesky", "cholesky_solve", "cross", "eig", "eigh", "eigvals", "eigvalsh", "expm",
           "logdet", "lstsq", "lu", "lu_matrix_inverse", "lu_reconstruct", "lu_solve", "matrix_rank", "normalize",
           "pinv", "qr", "set_diag", "slogdet", "svd", "triangular_solve", "tridiagonal_solve"]
