"""Bias + relu kernels for the fused layer nodes (Dense, Conv2D), each beside its NumPy version.

The layers compute ``relu(affine + bias)`` in place on the affine op's fresh output, and keep only that output for
backward: ``y > 0`` is the relu's gradient mask. Arrays are seen as (rows, channels): the last axis is the channel.

    bias_relu_(y, b)         y = max(y + b, 0)          in place      (NumPy: two passes; numba: one)
    relu_grad(g, y)          g * (y > 0)                a new array   (NumPy: a bool temporary and a product)
    relu_grad_sum(g, y)      (g * (y > 0), Σ_rows)      numba: one pass; the sum is deterministic

NaN stays NaN through the relu (like ``np.maximum``) and ``g * 0`` keeps an infinite g's NaN, so both versions agree
bit for bit; only the column sum adds in another order (blocks of rows, each block's sum added to the total). While
the kernel compiles in the background, relu_grad_sum adds in the kernel's order in NumPy, so that a run's bits do
not depend on when the kernel became ready.

The kernels run on the calling thread: these passes are memory-bound, and waking numba's thread pool between two BLAS
products costs more than it saves (the threaded versions were slower; docs/performance.md, "Numba kernels").

>>> import numpy as np
>>> y = np.array([[-1.0, 2.0]], "float32")
>>> bias_relu_(y, np.array([0.5, 0.5], "float32")); y
array([[0. , 2.5]], dtype=float32)
>>> relu_grad(np.ones((1, 2), "float32"), y)
array([[0., 1.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import NotReady, falls_back_to, jit, runs_on

SUM_BLOCK = 256  # rows summed apart before joining the column total: a short chain of float32 additions


def _fits(*arrays) -> bool:
    """Whether the numba versions take these arrays: NumPy backend, numba on, contiguous float32/float64 alike."""
    first = arrays[0]
    if not (runs_on(first.dtype) and first.size > 0):
        return False
    for a in arrays:  # a loop, not all(<generator>): this runs a few times per layer and step
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:  # (CuPy's share dtypes)
            return False
    return True


# --- NumPy versions ---------------------------------------------------------------------------------------------------
def bias_relu_numpy(y, b) -> None:
    if b is not None:
        y += b
    owner = backend.extras_for(y)
    if owner.takes_out:
        owner.xp.maximum(y, 0, out=y)
    else:
        y[...] = owner.xp.maximum(y, 0)


def relu_grad_numpy(g, y):
    return g * backend.extras_for(y).as_numeric(y > 0, y.dtype)


def relu_grad_sum_numpy(g, y):
    gm = relu_grad_numpy(g, y)
    return gm, column_sum(gm)


def relu_grad_sum_in_blocks(g, y):
    """relu_grad_sum_numpy adding as the kernel does (each block of SUM_BLOCK rows in order, then the blocks), for
    the calls that run before the kernel is ready: the same bits. (A cumulative sum adds in order by definition.)"""
    gm = relu_grad_numpy(g, y)
    rows = gm.reshape(-1, gm.shape[-1])
    total = backend.xp.zeros(rows.shape[1], dtype=gm.dtype)
    for lo in range(0, rows.shape[0], SUM_BLOCK):
        total += rows[lo:lo + SUM_BLOCK].cumsum(axis=0)[-1]
    return gm, total


def column_sum(a):
    """Σ over all axes but the last, as one matrix-vector product (BLAS: faster than ``a.sum(axis=...)``); on a
    device one reduction (no vector of ones to make first)."""
    xp = backend.array_namespace(a)
    rows = xp.reshape(a, (-1, a.shape[-1]))
    if type(a) is not np.ndarray:
        return xp.sum(rows, axis=0)
    return xp.ones(rows.shape[0], dtype=a.dtype) @ rows


def device_kernel(name: str, first):
    """The device backend's fused kernel ``name`` (``Backend.fused``: CuPy's) for ``first``'s arrays, or None."""
    return None if type(first) is np.ndarray else backend.extras_for(first).fused(name)


# --- numba versions ---------------------------------------------------------------------------------------------------
@jit
def _bias_relu_nb(y, b, has_bias):
    for r in range(y.shape[0]):
        for c in range(y.shape[1]):
            v = y[r, c] + b[c] if has_bias else y[r, c]
            if v <= 0:  # NaN is not <= 0: it stays, as with np.maximum; -0.0 becomes 0.0, as there
                v = 0
            y[r, c] = v


@jit
def _relu_grad_nb(g, y, summing, gm, total, block):
    """gm = g * (y > 0), and (when summing) its column sums into total (zeros), one block of rows at a time."""
    rows, cols = g.shape
    for r in range(rows):
        for c in range(cols):
            gm[r, c] = g[r, c] if y[r, c] > 0 else g[r, c] * 0  # g * 0: an infinite g gives NaN, as g * False
        if summing:
            for c in range(cols):
                block[c] += gm[r, c]
            if (r + 1) % SUM_BLOCK == 0 or r + 1 == rows:
                for c in range(cols):
                    total[c] += block[c]
                    block[c] = 0


def _relu_grad_kernel(g, y, summing: bool):
    """(gm, total) from the kernel on (rows, channels) views; the arrays are made here, since a kernel that
    allocates takes longer to compile (docs/performance.md, "Kernel compilation")."""
    g2 = g.reshape(-1, g.shape[-1])
    gm = backend.xp.empty_like(g2)
    if not summing:  # total and its block are not read: a row of gm stands in for them
        _relu_grad_nb(g2, y.reshape(g2.shape), False, gm, gm[0], gm[0])
        return gm.reshape(g.shape), None
    total = backend.xp.zeros(g2.shape[1], dtype=g.dtype)
    _relu_grad_nb(g2, y.reshape(g2.shape), True, gm, total, backend.xp.zeros_like(total))
    return gm.reshape(g.shape), total


# --- dispatch ---------------------------------------------------------------------------------------------------------
@falls_back_to(bias_relu_numpy)
def bias_relu_(y, b) -> None:
    """In place: ``y = max(y + b, 0)`` along the last axis (``b`` may be None)."""
    if not _fits(y) or (b is not None and b.dtype != y.dtype):
        fused = device_kernel("bias_relu", y) if b is None or b.dtype == y.dtype else None
        return bias_relu_numpy(y, b) if fused is None else fused(y, b)
    y2 = y.reshape(-1, y.shape[-1])  # a view: y is contiguous
    has_bias = b is not None
    _bias_relu_nb(y2, backend.xp.ascontiguousarray(b) if has_bias else y2[0], has_bias)  # (y2[0]: not read)


@falls_back_to(relu_grad_numpy)
def relu_grad(g, y):
    """``g * (y > 0)``: the gradient through ``y = relu(...)``, as a new array."""
    if g.shape == y.shape and _fits(g, y):
        return _relu_grad_kernel(g, y, False)[0]
    fused = device_kernel("relu_grad", y) if g.shape == y.shape and g.dtype == y.dtype else None
    return relu_grad_numpy(g, y) if fused is None else fused(g, y)


def relu_grad_sum(g, y):
    """``(gm, Σ gm over all but the last axis)`` with ``gm = g * (y > 0)``."""
    if not (g.shape == y.shape and _fits(g, y)):
        if device_kernel("relu_grad", y) is not None:
            gm = relu_grad(g, y)
            return gm, column_sum(gm)
        return relu_grad_sum_numpy(g, y)
    try:
        return _relu_grad_kernel(g, y, True)
    except NotReady:
        return relu_grad_sum_in_blocks(g, y)
