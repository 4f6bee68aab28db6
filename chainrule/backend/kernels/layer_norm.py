"""Layer normalization over the last axis of (rows, features) arrays: one pass per row forward and backward, each
beside its NumPy version.

    layer_norm(x, gamma, beta, eps)          y = (x - μ) / √(σ² + ε) · γ + β, and (μ, 1/√(σ² + ε)) per row
    layer_norm_grad(g, x, gamma, mean, inv)  dx, and Σ_rows g x̂ and Σ_rows g (the gradients of γ and β)

NumPy needs about eight passes over the array for the forward and as many for the backward, each allocating; the
kernels read each row once or twice while it is in cache, and keep only μ and 1/σ per row for the backward (x̂ is
rebuilt from x). The kernels add each row in float64 in an order the compiler picks (NumPy adds float32 in pairs):
the two agree to rounding, not bit for bit (tests/oracle/test_layer_norm_ops.py compares them).

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
# Each row's sums run in float64 with the compiler free to reorder them (``reassociate``), so that they vectorize
# into several running sums rather than wait on one chain of dependent adds.
@jit(reassociate=True)
def _forward_nb(x, gamma, beta, eps, y, mean, inv):
    rows, cols = x.shape
    for r in range(rows):
        xr, yr = x[r], y[r]
        total = 0.0
        for c in range(cols):
            total += xr[c]
        m = total / cols
        squares = 0.0
        for c in range(cols):
            d = xr[c] - m
            squares += d * d
        s = 1.0 / np.sqrt(squares / cols + eps)
        mean[r] = m
        inv[r] = s
        m32, s32 = yr.dtype.type(m), yr.dtype.type(s)
        for c in range(cols):
            yr[c] = (xr[c] - m32) * s32 * gamma[c] + beta[c]


@jit(reassociate=True)
def _backward_nb(g, x, gamma, mean, inv, dx, dgamma, dbeta):
    rows, cols = x.shape
    for r in range(rows):
        m, s = mean[r], inv[r]
        gr, xr, dxr = g[r], x[r], dx[r]
        sum_gh = sum_ghx = 0.0
        for c in range(cols):  # x̂ in dx's row for now; the column sums run across rows
            xhat = (xr[c] - m) * s
            dxr[c] = xhat
            dgamma[c] += gr[c] * xhat
            dbeta[c] += gr[c]
            gh = gr[c] * gamma[c]
            sum_gh += gh
            sum_ghx += gh * xhat
        mean_gh, mean_ghx = dxr.dtype.type(sum_gh / cols), dxr.dtype.type(sum_ghx / cols)
        for c in range(cols):
            dxr[c] = (gr[c] * gamma[c] - mean_gh - dxr[c] * mean_ghx) * s


# --- dispatch ---------------------------------------------------------------------------------------------------------
@falls_back_to(layer_norm_numpy)
def layer_norm(x, gamma, beta, eps: float):
    """(y, mean, 1/σ) of layer normalization over the last axis of a (rows, features) array; gamma and beta are
    (features,) or None."""
    if not _fits(x, gamma, beta):
        return layer_norm_numpy(x, gamma, beta, eps)
    rows, cols = x.shape
    y = np.empty_like(x)
    mean, inv = np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    # no gamma or beta: ones and zeros (x · 1 and x + 0 are x exactly), one loop for every case
    _forward_nb(x, np.ones(cols, x.dtype) if gamma is None else gamma, np.zeros(cols, x.dtype) if beta is None
                else beta, float(eps), y, mean, inv)
    return y, mean, inv


@falls_back_to(layer_norm_grad_numpy)
def layer_norm_grad(g, x, gamma, mean, inv):
    """(dx, Σ_rows g x̂, Σ_rows g) for layer_norm's output gradient ``g``."""
    if not _fits(g, x, gamma):
        return layer_norm_grad_numpy(g, x, gamma, mean, inv)
    dx = np.empty_like(x)
    dgamma, dbeta = np.zeros(x.shape[1], np.float64), np.zeros(x.shape[1], np.float64)
    _backward_nb(g, x, np.ones(x.shape[1], x.dtype) if gamma is None else gamma, mean, inv, dx, dgamma, dbeta)
    return dx, dgamma.astype(x.dtype), dbeta.astype(x.dtype)
