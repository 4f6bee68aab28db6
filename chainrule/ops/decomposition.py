"""Matrix decompositions and triangular solves, batched over leading axes: ``cholesky``, ``triangular_solve``,
``qr``, ``svd``, ``eigh`` and ``slogdet`` (``numpy.linalg``'s, on the array namespace of the inputs), each with its
backward written with ops, so second derivatives work too.

An op has one output, so a decomposition's factors travel as one packed array (each factor flattened and joined on
the last axis); ``qr``, ``svd`` and ``eigh`` unpack it with differentiable slices, and their backward unpacks the
gradient the same way.

>>> import numpy as np
>>> import chainrule as cr
>>> a = cr.constant([[4.0, 2.0], [2.0, 5.0]])
>>> cholesky(a).numpy()
array([[2., 0.],
       [1., 2.]], dtype=float32)
>>> w, v = eigh(a)
>>> np.round(w.numpy(), 4)
array([2.4384, 6.5616], dtype=float32)
>>> sign, logabsdet = slogdet(a)
>>> float(sign), round(float(logabsdet), 4)
(1.0, 2.7726)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.linalg import _swap_last
from chainrule.ops.matrix import Inv, _namespace, _reshape, _square_float
from chainrule.ops.no_gradient import no_gradient


# --- helpers on arrays and Tensors alike (backward sees either) ---------------------------------------------------
def _triangle_mask(n: int, m: int, lower: bool, like) -> object:
    """A (n, m) 0/1 array of ``like``'s dtype: the lower (or upper) triangle with the diagonal."""
    xp = _namespace(like)
    dtype = like.data.dtype if isinstance(like, Tensor) else like.dtype
    ones = xp.ones((n, m), dtype=dtype)
    return xp.tril(ones) if lower else xp.triu(ones)


def _diag_embed(v):
    """(..., k) -> (..., k, k) with ``v`` on the diagonal: a product with the identity, so it is an op on Tensors."""
    k = v.shape[-1]
    eye = _namespace(v).eye(k, dtype=v.data.dtype if isinstance(v, Tensor) else v.dtype)
    return _reshape(v, tuple(v.shape) + (1,)) * eye


def _off_diagonal_reciprocal(w):
    """F with F[..., i, j] = 1 / (w_j - w_i) off the diagonal and 0 on it (as PyTorch, equal values give inf)."""
    arr = w.data if isinstance(w, Tensor) else w
    xp = _namespace(arr)
    diff = arr[..., None, :] - arr[..., :, None]
    eye = xp.eye(arr.shape[-1], dtype=bool)
    with np.errstate(divide="ignore"):
        return xp.where(eye, xp.zeros_like(diff), 1.0 / xp.where(eye, xp.ones_like(diff), diff))


def _pack(xp, *factors):
    """Factors (..., r_i, c_i) flattened and joined on the last axis: one array the op returns."""
    batch = factors[0].shape[:-2]
    return xp.concat([xp.reshape(f, batch + (math.prod(f.shape[-2:]),)) for f in factors], axis=-1)


def _unpack(packed, shapes: list[tuple[int, ...]]):
    """The factors of a packed array or Tensor, each of its trailing shape in ``shapes``."""
    batch, start, parts = tuple(packed.shape[:-1]), 0, []
    for shape in shapes:
        size = math.prod(shape)
        parts.append(_reshape(packed[..., start:start + size], batch + tuple(shape)))
        start += size
    return parts


def _linalg(fn, name: str, *arrays, why: str = "the matrix is singular"):
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as error:
        raise np.linalg.LinAlgError(f"{name}: {why} ({error})") from None


def _r_inverse_transposed(x, r):
    """``x @ R⁻ᵀ`` for an upper-triangular R, as the transpose of ``R⁻¹ xᵀ`` (a triangular solve)."""
    return _swap_last(TriangularSolve.apply(r, _swap_last(x), lower=False))


# --- cholesky ------------------------------------------------------------------------------------------------------
class Cholesky(Function):
    # A = L Lᵀ   ->   dA = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹),  Φ = lower triangle with the diagonal halved, sym(X) = (X + Xᵀ) / 2
    def forward(self, a):
        return _linalg(backend.array_namespace(a).linalg.cholesky, "cholesky", a,
                       why="the matrix is not positive definite")

    def backward(self, g):
        lower = self.output
        n = lower.shape[-1]
        tril = _triangle_mask(n, n, True, lower)
        half_diagonal = tril - 0.5 * _namespace(tril).eye(n, dtype=tril.dtype)
        phi = (_swap_last(lower) @ (g * tril)) * half_diagonal
        upper = _swap_last(lower)
        left = TriangularSolve.apply(upper, phi, lower=False)                          # L⁻ᵀ Φ
        s = _swap_last(TriangularSolve.apply(upper, _swap_last(left), lower=False))    # L⁻ᵀ Φ L⁻¹
        return 0.5 * (s + _swap_last(s))


@op
def cholesky(a: TensorLike) -> Tensor:
    """The lower-triangular L with ``a = L Lᵀ`` for each symmetric positive-definite (..., n, n) matrix (only the
    lower triangle of ``a`` is read); a matrix that is not positive definite raises ``numpy.linalg.LinAlgError``."""
    return Cholesky.apply(_square_float(a, "cholesky"))


# --- triangular solve ----------------------------------------------------------------------------------------------
class TriangularSolve(Function):
    # X = A⁻¹ B, A triangular   ->   dB = A⁻ᵀ G,  dA = -(dB Xᵀ) on A's triangle   (summed over broadcast batch axes)
    def forward(self, a, b, lower):
        self.lower = lower
        xp = backend.array_namespace(a)
        n = a.shape[-1]
        mask = xp.tril(xp.ones((n, n), dtype=a.dtype)) if lower else xp.triu(xp.ones((n, n), dtype=a.dtype))
        return _linalg(xp.linalg.solve, "triangular_solve", a * mask, b)

    def backward(self, g):
        a, _ = self.args
        lower = self.lower
        need_a, need_b = self.needs_input_grad
        gb = TriangularSolve.apply(_swap_last(a), g, lower=not lower)
        ga = None
        if need_a:
            n = a.shape[-1]
            ga = unbroadcast(-(gb @ _swap_last(self.output)) * _triangle_mask(n, n, lower, gb), self.arrays[0].shape)
        return ga, unbroadcast(gb, self.arrays[1].shape) if need_b else None


@op
def triangular_solve(a: TensorLike, b: TensorLike, lower: bool = False) -> Tensor:
    """``X`` with ``a @ X = b`` where ``a`` (..., n, n) is lower (``lower=True``) or upper triangular (only that
    triangle is read) and b is (..., n, k), batch axes broadcast."""
    a = _square_float(a, "triangular_solve", "the matrix")
    b = as_tensor(b)
    if b.dtype != a.dtype:
        raise TypeError(f"triangular_solve: the right-hand side has dtype {b.dtype}, the matrix {a.dtype}; they "
                        f"must match")
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"triangular_solve: the right-hand side must have shape (..., {a.shape[-1]}, k) for a "
                         f"matrix of shape {a.shape}; got shape {b.shape}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"triangular_solve: batch dimensions of {a.shape} and {b.shape} cannot be broadcast") \
            from None
    return TriangularSolve.apply(a, b, lower=bool(lower))


# --- qr ------------------------------------------------------------------------------------------------------------
def _qr_shapes(m: int, n: int, complete: bool) -> list[tuple[int, int]]:
    k = m if complete else min(m, n)
    return [(m, k), (k, n)]


class QR(Function):
    # A = Q R (m >= n)  ->  dA = Q (G_R + tril(QᵀG_Q − G_QᵀQ + R G_Rᵀ − G_R Rᵀ) R⁻ᵀ) + (G_Q − Q QᵀG_Q) R⁻ᵀ
    # (TensorFlow's QrGrad);
    # m < n splits A = [X | Y], R = [U | V]: dX as above with G_Q + Y G_Vᵀ and U, dY = Q G_V
    def forward(self, a, complete):
        self.complete = complete
        xp = backend.array_namespace(a)
        q, r = xp.linalg.qr(a, mode="complete" if complete else "reduced")
        return _pack(xp, q, r)

    def backward(self, g):
        (a,) = self.args
        m, n = a.shape[-2:]
        q, r = _unpack(self.output, _qr_shapes(m, n, self.complete))
        gq, gr = _unpack(g, _qr_shapes(m, n, self.complete))
        if self.complete and m > n:
            raise NotImplementedError("qr: the gradient of mode='complete' is not defined for matrices with more "
                                      "rows than columns (the extra columns of Q are not determined by A); use "
                                      "mode='reduced'")
        if m >= n:
            return _qr_square_or_tall(q, r, gq, gr)
        x, y = a[..., :, :m], a[..., :, m:]
        u, gu, gv = r[..., :, :m], gr[..., :, :m], gr[..., :, m:]
        from chainrule.ops.shape import concat

        dx = _qr_square_or_tall(q, u, gq + y @ _swap_last(gv), gu)
        dy = q @ gv
        if isinstance(dx, Tensor) or isinstance(dy, Tensor):
            return concat([dx, dy], axis=-1)
        return _namespace(dx).concat([dx, dy], axis=-1)


def _qr_square_or_tall(q, r, gq, gr):
    n = r.shape[-1]
    qdq = _swap_last(q) @ gq
    rdr = r @ _swap_last(gr)
    lower = (qdq - _swap_last(qdq) + rdr - _swap_last(rdr)) * _triangle_mask(n, n, True, qdq)
    return q @ (gr + _r_inverse_transposed(lower, r)) + _r_inverse_transposed(gq - q @ qdq, r)


@op
def qr(a: TensorLike, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """Q (orthonormal columns) and R (upper triangular) with ``a = Q R`` for each (..., m, n) matrix: 'reduced'
    gives Q (m, k), R (k, n) with k = min(m, n); 'complete' Q (m, m), R (m, n)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete'. Received: mode={mode!r}")
    a = as_tensor(a)
    if a.dtype.kind != "f" or a.ndim < 2:
        raise ValueError(f"qr: expected a float matrix or batch of matrices (..., m, n), got dtype {a.dtype} and "
                         f"shape {a.shape}")
    packed = QR.apply(a, complete=mode == "complete")
    return tuple(_unpack(packed, _qr_shapes(a.shape[-2], a.shape[-1], mode == "complete")))


# --- svd -----------------------------------------------------------------------------------------------------------
def _svd_shapes(m: int, n: int, full: bool) -> list[tuple[int, ...]]:
    k = min(m, n)
    return [(m, m if full else k), (1, k), (n if full else k, n)]


class SVD(Function):
    # A = U S Vᵀ   ->   dA = U [(F∘(UᵀG_U − G_UᵀU)) S + diag(G_S) + S (F∘(VᵀG_V − G_VᵀV))] Vᵀ
    #                        + (I − UUᵀ) G_U S⁻¹ Vᵀ + U S⁻¹ G_Vᵀ (I − VVᵀ),   F_ij = 1 / (s_j² − s_i²)  (Townsend)
    def forward(self, a, full):
        self.full = full
        xp = backend.array_namespace(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full)
        return _pack(xp, u, s[..., None, :], vh)

    def backward(self, g):
        (a,) = self.args
        m, n = a.shape[-2:]
        k = min(m, n)
        u, s, vh = _unpack(self.output, _svd_shapes(m, n, self.full))
        gu, gs, gvh = _unpack(g, _svd_shapes(m, n, self.full))
        if self.full and m != n:
            extra = [part for part, size in ((gu[..., :, k:], m), (gvh[..., k:, :], n)) if size > k]
            if any(bool(_namespace(part).any(abs(part.data if isinstance(part, Tensor) else part) > 0))
                   for part in extra):
                raise NotImplementedError("svd: the gradient through the extra singular vectors of "
                                          "full_matrices=True is not defined (they are not determined by the "
                                          "matrix); use full_matrices=False")
            u, gu, vh, gvh = u[..., :, :k], gu[..., :, :k], vh[..., :k, :], gvh[..., :k, :]
        s, gs = s[..., 0, :], gs[..., 0, :]
        v, gv = _swap_last(vh), _swap_last(gvh)
        f = _off_diagonal_reciprocal(s * s)
        utgu, vtgv = _swap_last(u) @ gu, _swap_last(v) @ gv
        s_row = _reshape(s, tuple(s.shape[:-1]) + (1, k))
        s_col = _reshape(s, tuple(s.shape[:-1]) + (k, 1))
        # the Tensor on the left of each product with F (an array): a strict array refuses a Tensor on its right
        inner = ((utgu - _swap_last(utgu)) * f) * s_row + _diag_embed(gs) + s_col * ((vtgv - _swap_last(vtgv)) * f)
        out = u @ inner @ vh
        if m > k:  # the part of G_U outside U's columns
            out = out + ((gu - u @ utgu) / s_row) @ vh
        if n > k:
            out = out + u @ (_swap_last(gv - v @ vtgv) / s_col)
        return out


@op
def svd(a: TensorLike, full_matrices: bool = True, compute_uv: bool = True):
    """The singular value decomposition ``a = U diag(S) Vh`` of each (..., m, n) matrix: (U, S, Vh), singular values
    in descending order; only S with ``compute_uv=False``."""
    a = as_tensor(a)
    if a.dtype.kind != "f" or a.ndim < 2:
        raise ValueError(f"svd: expected a float matrix or batch of matrices (..., m, n), got dtype {a.dtype} and "
                         f"shape {a.shape}")
    full = bool(full_matrices) and compute_uv
    packed = SVD.apply(a, full=full)
    u, s, vh = _unpack(packed, _svd_shapes(a.shape[-2], a.shape[-1], full))
    s = s[..., 0, :]
    return (u, s, vh) if compute_uv else s


# --- eigh ----------------------------------------------------------------------------------------------------------
class Eigh(Function):
    # A = V diag(w) Vᵀ   ->   dA = V (diag(G_w) + F ∘ (VᵀG_V − G_VᵀV) / 2) Vᵀ,   F_ij = 1 / (w_j − w_i)
    def forward(self, a):
        xp = backend.array_namespace(a)
        w, v = _linalg(xp.linalg.eigh, "eigh", a, why="the eigenvalues did not converge")
        return _pack(xp, w[..., None, :], v)

    def backward(self, g):
        n = self.arrays[0].shape[-1]
        w, v = _unpack(self.output, [(1, n), (n, n)])
        gw, gv = _unpack(g, [(1, n), (n, n)])
        w, gw = w[..., 0, :], gw[..., 0, :]
        vtgv = _swap_last(v) @ gv
        inner = _diag_embed(gw) + (0.5 * (vtgv - _swap_last(vtgv))) * _off_diagonal_reciprocal(w)
        return v @ inner @ _swap_last(v)


@op
def eigh(a: TensorLike) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric (..., n, n) matrix (only the lower
    triangle is read)."""
    a = _square_float(a, "eigh")
    n = a.shape[-1]
    w, v = _unpack(Eigh.apply(a), [(1, n), (n, n)])
    return w[..., 0, :], v


# --- slogdet -------------------------------------------------------------------------------------------------------
class LogAbsDet(Function):
    # y = log|det A|   ->   dA = g A⁻ᵀ
    def forward(self, a):
        return backend.array_namespace(a).linalg.slogdet(a)[1]

    def backward(self, g):
        (a,) = self.args
        return _reshape(g, tuple(g.shape) + (1, 1)) * _swap_last(Inv.apply(a))


def _sign_of_det(a):
    return backend.array_namespace(a).linalg.slogdet(a)[0]


@op
def slogdet(a: TensorLike) -> tuple[Tensor, Tensor]:
    """The sign (no gradient) and the log of the absolute value of each (..., n, n) matrix's determinant; a
    singular matrix gives sign 0 and -inf."""
    a = _square_float(a, "slogdet")
    return no_gradient(_sign_of_det, a), LogAbsDet.apply(a)


# --- pinv ----------------------------------------------------------------------------------------------------------
class Pinv(Function):
    # P = A⁺ (m <= n)   ->   dA = -(P K)ᵀ + K Pᵀ - A P K Pᵀ + Pᵀ P (Gᵀ - K A),  K = Gᵀ P   (Golub and Pereyra, as
    # PyTorch; the transposed formula for m > n), valid where the rank does not change
    def forward(self, a, rcond):
        linalg = backend.array_namespace(a).linalg
        try:
            return linalg.pinv(a, rtol=rcond)  # the array API's (and NumPy 2's) name
        except TypeError:
            return linalg.pinv(a, rcond=rcond)  # CuPy's

    def backward(self, g):
        (a,) = self.args
        p, gt = self.output, _swap_last(g)
        pt = _swap_last(p)
        if a.shape[-2] <= a.shape[-1]:
            k = gt @ p
            k_pt = k @ pt
            return -_swap_last(p @ k) + k_pt - (a @ p) @ k_pt + (pt @ p) @ (gt - k @ a)
        k = p @ gt
        pt_k = pt @ k
        return -_swap_last(k @ p) + ((gt - a @ k) @ p) @ pt + pt_k - (pt_k @ p) @ a


@op
def pinv(a: TensorLike, rcond: float | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (..., n, m) of each (..., m, n) matrix: singular values below ``rcond``
    times the largest are taken as 0 (None: NumPy's default)."""
    a = as_tensor(a)
    if a.dtype.kind != "f" or a.ndim < 2:
        raise ValueError(f"pinv: expected a float matrix or batch of matrices (..., m, n), got dtype {a.dtype} and "
                         f"shape {a.shape}")
    return Pinv.apply(a, rcond=1e-15 if rcond is None else float(rcond))


__all__ = ["cholesky", "eigh", "pinv", "qr", "slogdet", "svd", "triangular_solve"]
