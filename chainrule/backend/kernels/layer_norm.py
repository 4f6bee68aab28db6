"""Layer normalization over the last axis of (rows, features) arrays: one pass per row forward and backward, each
beside its NumPy version.

    layer_norm(x, gamma, beta, eps)          y = (x - μ) / √(σ² + ε) · γ + β, and (μ, 1/√(σ² + ε)) per row
    layer_norm_grad(g, x, gamma, mean, inv)  dx, and Σ_rows g x̂ and Σ_rows g (the gradients of γ and β)

NumPy needs about eight passes over the array for the forward and as many for the backward, each allocating; the
kernels read each row once or twice while it is in cache, and keep only μ and 1/σ per row for the backward (x̂ is
rebuilt from x). The kernels add each row in float64 over a few running sums (NumPy adds float32 in pairs): the two
agree to rounding, not bit for bit (tests/oracle/test_layer_norm_ops.py compares them).

>>> import numpy as np
>>> y, mean, inv = layer_norm(np.array([[1.0, 2.0, 3.0]], "float32"), None, None, 0.0)
>>> np.round(y, 4), mean
(array([[-1.2247,  0.    ,  1.2247]], dtype=float32), array([2.], dtype=float32))
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import falls_back_to, jit, runs_on


def _fits(*arrays) -> bool:
    """Whether the kernels take these arrays: NumPy backend, numba on, 2-D contiguous float32/float64 alike."""
    first = arrays[0]
    if not (runs_on(first.dtype) and first.ndim == 2 and first.size > 0):
        return False
    for a in arrays:
        if a is not None and (a.dtype != first.dtype or not a.flags.c_contiguous):
            return False
    return True


# --- NumPy versions ---------------------------------------------------------------------------------------------------
def layer_norm_numpy(x, gamma, beta, eps: float):
    xp = backend.xp
    mean = x.mean(axis=1)
    centered = x - mean[:, None]
    inv = 1.0 / xp.sqrt((centered * centered).mean(axis=1) + eps)
    y = centered * inv[:, None]
    if gamma is not None:
        y *= gamma
    if beta is not None:
        y += beta
    return y, mean, inv.astype(x.dtype, copy=False)


def layer_norm_grad_numpy(g, x, gamma, mean, inv):
    xhat = (x - mean[:, None]) * inv[:, None]
    gh = g if gamma is None else g * gamma
    dx = (gh - gh.mean(axis=1, keepdims=True) - xhat * (gh * xhat).mean(axis=1, keepdims=True)) * inv[:, None]
    return dx, (g * xhat).sum(axis=0), g.sum(axis=0)


# --- numba versions ---------------------------------------------------------------------------------------------------
@jit(bit_exact=False)
def _row_sum(v, shift):
    """Σ_c (v[c] - shift) in float64 over four running sums (one chain of dependent adds left the loop waiting on
    the adder's latency)."""
    n = v.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= n:
        s0 += v[c] - shift
        s1 += v[c + 1] - shift
        s2 += v[c + 2] - shift
        s3 += v[c + 3] - shift
        c += 4
    while c < n:
        s0 += v[c] - shift
        c += 1
    return (s0 + s1) + (s2 + s3)


@jit(bit_exact=False)
def _row_square_sum(v, m):
    """Σ_c (v[c] - m)² in float64, four running sums."""
    n = v.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= n:
        d0, d1, d2, d3 = v[c] - m, v[c + 1] - m, v[c + 2] - m, v[c + 3] - m
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        c += 4
    while c < n:
        d0 = v[c] - m
        s0 += d0 * d0
        c += 1
    return (s0 + s1) + (s2 + s3)


@jit(bit_exact=False)  # adds in another order than NumPy: compiled in the calling thread, never swapped mid-run
def _forward_nb(x, gamma, beta, has_gamma, has_beta, eps, y, mean, inv):
    rows, cols = x.shape
    for r in range(rows):
        xr, yr = x[r], y[r]
        m = _row_sum(xr, 0.0) / cols
        s = 1.0 / np.sqrt(_row_square_sum(xr, m) / cols + eps)
        mean[r] = m
        inv[r] = s
        for c in range(cols):
            yr[c] = (xr[c] - m) * s
        if has_gamma:
            for c in range(cols):
                yr[c] = yr[c] * gamma[c]
        if has_beta:
            for c in range(cols):
                yr[c] = yr[c] + beta[c]


@jit(bit_exact=False)
def _backward_nb(g, x, gamma, has_gamma, mean, inv, dx, dgamma, dbeta):
    rows, cols = x.shape
    for r in range(rows):
        m, s = mean[r], inv[r]
        gr, xr, dxr = g[r], x[r], dx[r]
        for c in range(cols):  # x̂ in dx's row for now; the column sums run across rows, so this loop vectorizes
            xhat = (xr[c] - m) * s
            dxr[c] = xhat
            dgamma[c] += gr[c] * xhat
            dbeta[c] += gr[c]
        s0 = s1 = t0 = t1 = 0.0
        c = 0
        while c + 2 <= cols:
            gh0 = gr[c] * gamma[c] if has_gamma else gr[c]
            gh1 = gr[c + 1] * gamma[c + 1] if has_gamma else gr[c + 1]
            s0 += gh0
            s1 += gh1
            t0 += gh0 * dxr[c]
            t1 += gh1 * dxr[c + 1]
            c += 2
        if c < cols:
            gh0 = gr[c] * gamma[c] if has_gamma else gr[c]
            s0 += gh0
            t0 += gh0 * dxr[c]
        mean_gh = (s0 + s1) / cols
        mean_ghx = (t0 + t1) / cols
        for c in range(cols):
            gh = gr[c] * gamma[c] if has_gamma else gr[c]
            dxr[c] = (gh - mean_gh - dxr[c] * mean_ghx) * s


# --- dispatch ---------------------------------------------------------------------------------------------------------
@falls_back_to(layer_norm_numpy)
def layer_norm(x, gamma, beta, eps: float):
    """(y, mean, 1/σ) of layer normalization over the last axis of a (rows, features) array; gamma and beta are
    (features,) or None."""
    if not _fits(x, gamma, beta):
        return layer_norm_numpy(x, gamma, beta, eps)
    rows = x.shape[0]
    y = np.empty_like(x)
    mean, inv = np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    _forward_nb(x, x[0] if gamma is None else gamma, x[0] if beta is None else beta, gamma is not None,
                beta is not None, float(eps), y, mean, inv)
    return y, mean, inv


@falls_back_to(layer_norm_grad_numpy)
def layer_norm_grad(g, x, gamma, mean, inv):
    """(dx, Σ_rows g x̂, Σ_rows g) for layer_norm's output gradient ``g``."""
    if not _fits(g, x, gamma):
        return layer_norm_grad_numpy(g, x, gamma, mean, inv)
    dx = np.empty_like(x)
    dgamma, dbeta = np.zeros(x.shape[1], np.float64), np.zeros(x.shape[1], np.float64)
    _backward_nb(g, x, x[0] if gamma is None else gamma, gamma is not None, mean, inv, dx, dgamma, dbeta)
    return dx, dgamma.astype(x.dtype), dbeta.astype(x.dtype)
