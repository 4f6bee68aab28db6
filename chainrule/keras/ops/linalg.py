"""``keras.ops.linalg``: norms, decompositions (``cholesky``, ``qr``, ``svd``, ``eigh``, ``eig``, ``lu_factor``),
inverses and solves (``inv``, ``pinv``, ``solve``, ``solve_triangular``, ``lstsq``, ``cholesky_inverse``), ``det``,
``matrix_power``, ``matrix_rank`` and ``jvp``. Every function of floats is differentiable through the registered ops
of chainrule/ops/matrix.py and decomposition.py; ``eig``, ``lu_factor`` and ``matrix_rank`` run on the arrays
without a gradient (integer results, or complex ones NumPy's backend gives), as their docstrings say.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> float(ops.norm(np.array([3.0, 4.0], "float32")))
5.0
>>> ops.norm(np.array([[1.0, -2.0], [3.0, 4.0]], "float32"), ord=1).numpy()  # the largest column sum of |x|
np.float32(6.0)
>>> ops.linalg.solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]], "float32"), np.array([[2.0], [3.0]], "float32"),
...                             lower=True).numpy()
array([[1.],
       [2.]], dtype=float32)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule import ops as _ops
from chainrule.backend import array_namespace as _array_namespace
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import as_axis, to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.keras.ops.numpy import count_nonzero, eye, matmul, moveaxis
from chainrule.ops import decomposition as _decomposition
from chainrule.ops import matrix as _matrix
from chainrule.ops.no_gradient import no_gradient
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape


def _vector_norm(x: Tensor, ord, axis: int, keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return _ops.sqrt(_reduce.sum(x * x, axis, keepdims))
    if ord == math.inf:
        return _reduce.max(_ops.abs(x), axis, keepdims)
    if ord == -math.inf:
        return _reduce.min(_ops.abs(x), axis, keepdims)
    if ord == 0:
        return _ops.cast(count_nonzero(x, axis), x.dtype) if not keepdims else \
            _shape.reshape(_ops.cast(count_nonzero(x, axis), x.dtype), _kept(x.shape, (axis,)))
    if ord == 1:
        return _reduce.sum(_ops.abs(x), axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
    return _reduce.sum(_ops.abs(x) ** float(ord), axis, keepdims) ** (1.0 / float(ord))


def _moved_last(x: Tensor, axes: tuple[int, int]) -> Tensor:
    """``x`` with the two matrix axes moved to the end (where the decompositions read them)."""
    return x if axes == (x.ndim - 2, x.ndim - 1) else moveaxis(x, axes, (-2, -1))


def _kept(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _matrix_norm(x: Tensor, ord, axes: tuple[int, int], keepdims: bool) -> Tensor:
    rows, cols = axes
    if ord is None or ord == "fro":
        out = _ops.sqrt(_reduce.sum(x * x, axes, keepdims=True))
    elif ord in (1, -1):
        sums = _reduce.sum(_ops.abs(x), rows, keepdims=True)
        out = _reduce.max(sums, cols, keepdims=True) if ord == 1 else _reduce.min(sums, cols, keepdims=True)
    elif ord in (math.inf, -math.inf):
        sums = _reduce.sum(_ops.abs(x), cols, keepdims=True)
        out = _reduce.max(sums, rows, keepdims=True) if ord > 0 else _reduce.min(sums, rows, keepdims=True)
    elif ord in ("nuc", 2, -2):
        values = _decomposition.svd(_moved_last(x, axes), compute_uv=False)
        reduced = _reduce.sum(values, -1) if ord == "nuc" else \
            _reduce.max(values, -1) if ord == 2 else _reduce.min(values, -1)
        out = _shape.reshape(reduced, _kept(x.shape, axes))
    else:
        raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={ord}")
    return out if keepdims else _shape.reshape(out, tuple(n for d, n in enumerate(out.shape) if d not in axes))


def norm(x: TensorLike, ord=None, axis=None, keepdims: bool = False) -> Tensor:
    """A vector norm over one axis, or a matrix norm over two (all axes of a vector or matrix when None; the
    2-norm of the flattened tensor for higher ranks), as ``numpy.linalg.norm``."""
    x = to_float(x)
    axis = as_axis(axis)
    if axis is None:
        if ord is not None and x.ndim not in (1, 2):
            raise ValueError(f"norm: `ord`={ord!r} needs `axis` for a tensor of rank {x.ndim}")
        if ord is None:
            out = _ops.sqrt(_reduce.sum(x * x))
            return _shape.reshape(out, (1,) * x.ndim) if keepdims else out
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    axes = tuple(_reduce._normalize_axis(a, x.ndim, "norm")[0] for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: `axis` must be an int or a pair of distinct ints, got {axis!r}")


# --- decompositions, inverses and solves ------------------------------------------------------------------------------
def _matrices(x: TensorLike, fn: str, name: str = "x", square: bool = False) -> Tensor:
    """``x`` as a float tensor of matrices (..., m, n) (integers become floatx), or Keras's error for a lower rank."""
    x = to_float(x, name)
    if x.ndim < 2:
        raise ValueError(f"{fn}: Expected `{name}` to have rank >= 2 (a matrix or a batch of them). Received input "
                         f"with shape {tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{fn}: Expected `{name}` to be a square matrix or a batch of them, shape (..., n, n). "
                         f"Received input with shape {tuple(x.shape)}")
    return x


def _swapped(x: Tensor) -> Tensor:
    return moveaxis(x, -1, -2)


def cholesky(x: TensorLike, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower L with ``x = L Lᵀ`` (upper ``Lᵀ`` with
    ``upper=True``)."""
    lower = _decomposition.cholesky(_matrices(x, "cholesky", square=True))
    return _swapped(lower) if upper else lower


def cholesky_inverse(x: TensorLike, upper: bool = False) -> Tensor:
    """The inverse of ``A`` from its Cholesky factor ``x`` (lower L with A = L Lᵀ, or upper U with A = Uᵀ U)."""
    factor = _matrices(x, "cholesky_inverse", square=True)
    identity = _ops.broadcast_to(_ops.cast(eye(factor.shape[-1]), factor.dtype), tuple(factor.shape))
    inverse = _decomposition.triangular_solve(factor, identity, lower=not upper)
    return matmul(inverse, _swapped(inverse)) if upper else matmul(_swapped(inverse), inverse)


def det(x: TensorLike) -> Tensor:
    """The determinant of each square matrix."""
    return _matrix.det(_matrices(x, "det", square=True))


def inv(x: TensorLike) -> Tensor:
    """The inverse of each square matrix (a singular one raises ``numpy.linalg.LinAlgError``)."""
    return _matrix.inv(_matrices(x, "inv", square=True))


def _right_hand_side(a: Tensor, b: TensorLike, fn: str) -> tuple[Tensor, bool]:
    """``b`` in ``a``'s dtype as (..., n, k), and whether it was a vector (..., n) to give back as one."""
    b = to_float(b, "b")
    if b.dtype != a.dtype:
        b = _ops.cast(b, a.dtype)
    vector = b.ndim == a.ndim - 1 or b.ndim == 1
    if vector:
        b = _ops.expand_dims(b, -1)
    return b, vector


def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """``X`` with ``a @ X = b`` for square ``a`` (..., n, n) and ``b`` (..., n, k) or (..., n)."""
    a = _matrices(a, "solve", "a", square=True)
    b, vector = _right_hand_side(a, b, "solve")
    out = _matrix.solve(a, b)
    return _shape.squeeze(out, -1) if vector else out


def solve_triangular(a: TensorLike, b: TensorLike, lower: bool = False) -> Tensor:
    """``X`` with ``a @ X = b`` for a lower (``lower=True``) or upper triangular ``a``; only that triangle is read."""
    a = _matrices(a, "solve_triangular", "a", square=True)
    b, vector = _right_hand_side(a, b, "solve_triangular")
    out = _decomposition.triangular_solve(a, b, lower=bool(lower))
    return _shape.squeeze(out, -1) if vector else out


def qr(x: TensorLike, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """``(Q, R)`` with ``x = Q R``: 'reduced' (Q (m, k), R (k, n), k = min(m, n)) or 'complete' (Q (m, m))."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. "
                         f"Received: mode={mode}")
    return _decomposition.qr(_matrices(x, "qr"), mode)


def svd(x: TensorLike, full_matrices: bool = True, compute_uv: bool = True):
    """``(U, S, Vh)`` with ``x = U diag(S) Vh``, singular values descending; only ``S`` with ``compute_uv=False``.
    With ``full_matrices=True`` (Keras's default) the extra singular vectors carry no gradient (an error if one is
    asked of them)."""
    return _decomposition.svd(_matrices(x, "svd"), full_matrices, compute_uv)


def eigh(x: TensorLike) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix (its lower triangle is read)."""
    return _decomposition.eigh(_matrices(x, "eigh", square=True))


def _eigenvalues(a):
    return _array_namespace(a).linalg.eig(a)[0]


def _eigenvectors(a):
    return _array_namespace(a).linalg.eig(a)[1]


def eig(x: TensorLike) -> tuple[Tensor, Tensor]:
    """Eigenvalues and (column) eigenvectors of each square matrix, complex where NumPy's are; no gradient."""
    x = _matrices(x, "eig", square=True)
    return no_gradient(_eigenvalues, x), no_gradient(_eigenvectors, x)


def _lu_pivoted(a):
    """Doolittle LU with partial pivoting of each (..., m, n) matrix: L below the diagonal (unit diagonal implied)
    and U on and above it in one array, and the 0-based row swapped with row i at step i (LAPACK's getrf, SciPy's
    lu_factor)."""
    a = np.asarray(backend.to_host(a))
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    lu = a.reshape((-1, m, n)).astype(np.result_type(a.dtype, np.float32), copy=True)
    steps = min(m, n)
    pivots = np.zeros((lu.shape[0], steps), np.int32)
    rows = np.arange(lu.shape[0])
    for j in range(steps):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p
        swapped = lu[rows, p].copy()
        lu[rows, p] = lu[:, j]
        lu[:, j] = swapped
        pivot = lu[:, j, j]
        safe = np.where(pivot == 0, 1, pivot)  # a zero column: nothing to eliminate (LAPACK leaves it too)
        lu[:, j + 1:, j] /= safe[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(batch + (m, n)), pivots.reshape(batch + (steps,))


def _lu_matrix(a):
    return backend.xp.asarray(_lu_pivoted(a)[0])


def _lu_pivots(a):
    return backend.xp.asarray(_lu_pivoted(a)[1])


def lu_factor(x: TensorLike) -> tuple[Tensor, Tensor]:
    """``(lu, pivots)`` of the LU decomposition with partial pivoting (SciPy's ``lu_factor``): L's multipliers below
    the diagonal, U on and above it, and the int32 row interchanges. No gradient."""
    x = _matrices(x, "lu_factor")
    return no_gradient(_lu_matrix, x), no_gradient(_lu_pivots, x)


def _rank(x, tol):
    return _array_namespace(x).asarray(np.linalg.matrix_rank(np.asarray(backend.to_host(x)), tol=tol).astype("int32"))


def matrix_rank(x: TensorLike, tol: float | None = None) -> Tensor:
    """The number of singular values above ``tol`` (None: the largest times eps times max(m, n)), int32; no
    gradient."""
    return no_gradient(_rank, _matrices(x, "matrix_rank"), tol=None if tol is None else float(tol))


def pinv(x: TensorLike, rcond: float | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix (singular values below ``rcond`` times the largest
    dropped; None: 1e-15)."""
    return _decomposition.pinv(_matrices(x, "pinv"), rcond)


def lstsq(a: TensorLike, b: TensorLike, rcond: float | None = None) -> Tensor:
    """The least-squares solution of ``a @ x = b`` (the least norm one where ``a`` is rank deficient), as
    ``numpy.linalg.lstsq(a, b, rcond)[0]``: the pseudo-inverse of ``a`` with NumPy's cutoff times ``b``."""
    a = _matrices(a, "lstsq", "a")
    if a.ndim != 2:
        raise ValueError(f"lstsq: `a` must be a matrix (rank 2). Received input with shape {tuple(a.shape)}")
    b, vector = _right_hand_side(a, b, "lstsq")
    if b.ndim != 2 or b.shape[0] != a.shape[0]:
        raise ValueError(f"lstsq: `b` must have {a.shape[0]} rows for `a` of shape {tuple(a.shape)}. Received "
                         f"b.shape={tuple(b.shape[:-1]) if vector else tuple(b.shape)}")
    cutoff = float(np.finfo(a.dtype).eps) * max(a.shape) if rcond is None else float(rcond)
    out = matmul(_decomposition.pinv(a, cutoff), b)
    return _shape.squeeze(out, -1) if vector else out


def matrix_power(x: TensorLike, n: int) -> Tensor:
    """``x`` multiplied by itself ``n`` times (by repeated squaring; the inverse's powers for negative ``n``, the
    identity for 0)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: `n` must be an integer. Received: n={n!r}")
    x = to_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"matrix_power: Expected `x` to be a square matrix or a batch of them, shape (..., n, n). "
                         f"Received input with shape {tuple(x.shape)}")
    if n < 0:
        x, n = inv(x), -n
    if n == 0:
        return _ops.broadcast_to(_ops.cast(eye(x.shape[-1]), x.dtype), tuple(x.shape))
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return result


def jvp(fun, primals, tangents, has_aux: bool = False):
    """Forward-mode product of ``fun``'s Jacobian at ``primals`` with ``tangents``: ``(fun(*primals), J·tangents)``
    (with ``has_aux``, ``fun`` returns (output, aux) and a third item ``aux`` follows). chainrule differentiates in
    reverse, so J·t is the gradient with respect to ``u`` of ``<Jᵀu, t>``, a double backward (exact, as every op's
    backward is made of ops)."""
    from chainrule.engine.autograd import grad
    from chainrule.utils import tree

    if not isinstance(primals, (list, tuple)) or not isinstance(tangents, (list, tuple)):
        raise TypeError(f"jvp: `primals` and `tangents` must be tuples or lists of arguments. Received: "
                        f"primals={type(primals).__name__}, tangents={type(tangents).__name__}")
    flat_p, flat_t = tree.flatten(primals), tree.flatten(tangents)
    if len(flat_p) != len(flat_t):
        raise ValueError(f"jvp: `tangents` must have the structure of `primals`: {len(flat_p)} primal values, "
                         f"{len(flat_t)} tangents")
    inputs = [Tensor(to_float(p, "primals").data, requires_grad=True) for p in flat_p]
    for p, t in zip(inputs, flat_t):
        if tuple(np.shape(t)) != tuple(p.shape):
            raise ValueError(f"jvp: a tangent of shape {tuple(np.shape(t))} for a primal of shape {tuple(p.shape)}")
    result = fun(*tree.pack_sequence_as(primals, inputs))
    out, aux = result if has_aux else (result, None)
    flat_out = [o if isinstance(o, Tensor) else to_float(o) for o in tree.flatten(out)]
    dummies = [Tensor(np.zeros(tuple(o.shape), o.dtype), requires_grad=True) for o in flat_out]
    differentiable = [(o, u) for o, u in zip(flat_out, dummies) if o.requires_grad]
    tangents_out = [None] * len(flat_out)
    if differentiable:
        vjps = grad([o for o, _ in differentiable], inputs, grad_outputs=[u for _, u in differentiable],
                    create_graph=True, allow_unused=True)
        pairing = [_reduce.sum(g * _ops.cast(to_float(t), g.dtype)) for g, t in zip(vjps, flat_t) if g is not None]
        total = pairing[0]
        for term in pairing[1:]:
            total = total + term
        found = grad(total, [u for _, u in differentiable], allow_unused=True) if total.requires_grad else \
            [None] * len(differentiable)
        by_output = {id(o): g for (o, _), g in zip(differentiable, found)}
        tangents_out = [by_output.get(id(o)) for o in flat_out]
    tangents_out = [Tensor(np.zeros(tuple(o.shape), o.dtype)) if g is None else g.detach() if hasattr(g, "detach")
                    else g for o, g in zip(flat_out, tangents_out)]
    outs = tree.pack_sequence_as(out, [o.detach() if hasattr(o, "detach") else o for o in flat_out])
    result = (outs, tree.pack_sequence_as(out, tangents_out))
    return result + (aux,) if has_aux else result


__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor", "matrix_power",
           "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]
wrap_namespace(globals(), __all__, "keras.ops.")
