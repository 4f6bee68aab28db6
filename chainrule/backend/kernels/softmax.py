"""Softmax and softmax cross-entropy along the last axis: each NumPy function beside the numba kernel that replaces it.

A classifier's output is a few values per row (10 for MNIST): there, NumPy's cost is its per-call overhead, ~8 array
operations for the cross-entropy, and one kernel call does the whole row loop.

    softmax(x)                      p = e^(x - max) / Σ e^(x - max)                                   (per row)
    softmax_xent(labels, logits)    log_p = x - max - log Σ e^(x - max);  loss = -Σ labels * log_p;
                                    also p = e^(log_p) and Σ labels, which the gradient (p Σ labels - labels) needs

The kernels add each row in order; NumPy sums in pairs: the two agree to rounding (tests/oracle/test_nn_kernels.py).

>>> import numpy as np
>>> softmax(np.array([[0.0, 0.0, 0.0, 0.0]], "float32"))
array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import jit, runs_on


def _fits(*arrays) -> bool:
    """Whether the kernels take these arrays: NumPy's (CuPy's share their dtypes), numba on, float32/float64 alike,
    at least one row and one class."""
    x = arrays[-1]
    if not (runs_on(x.dtype) and x.ndim >= 1 and x.size > 0):
        return False
    for a in arrays:  # a loop, not all(<generator>): this runs every step
        if type(a) is not np.ndarray or a.dtype != x.dtype or a.shape != x.shape:
            return False
    return True


# --- NumPy versions ---------------------------------------------------------------------------------------------------
def softmax_numpy(x, axis: int = -1):
    xp = backend.array_namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax_numpy(x, axis: int = -1):
    xp = backend.array_namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax_xent_numpy(labels, logits, axis: int = -1):
    """(loss, log_p, p, Σ labels), the last three keeping the class axis (as size 1 for the sum)."""
    xp = backend.array_namespace(labels, logits)
    log_p = log_softmax_numpy(logits, axis)
    loss = xp.asarray(0.0 - xp.sum(labels * log_p, axis=axis))  # 0 - s: no -0.0 for a sure class
    return loss, log_p, xp.exp(log_p), xp.sum(labels, axis=axis, keepdims=True)


# --- numba versions ---------------------------------------------------------------------------------------------------
@jit
def _row_max(x, r):
    m = x[r, 0]
    for j in range(1, x.shape[1]):
        m = max(m, x[r, j])
    return m


@jit(bit_exact=False)  # rounds unlike NumPy: compiled in the calling thread, never swapped mid-run
def _softmax_kernel(x, p):
    for r in range(x.shape[0]):
        m = _row_max(x, r)
        total = 0.0
        for j in range(x.shape[1]):
            p[r, j] = np.exp(x[r, j] - m)
            total += p[r, j]
        for j in range(x.shape[1]):
            p[r, j] = p[r, j] / total


@jit(bit_exact=False)  # rounds unlike NumPy: compiled in the calling thread, never swapped mid-run
def _softmax_xent_kernel(labels, logits, loss, log_p, p, label_sums):
    for r in range(logits.shape[0]):
        m = _row_max(logits, r)
        total = 0.0
        for j in range(logits.shape[1]):
            total += np.exp(logits[r, j] - m)
        log_total = np.log(total)
        acc = 0.0
        label_sum = 0.0
        for j in range(logits.shape[1]):
            lp = (logits[r, j] - m) - log_total
            log_p[r, j] = lp
            p[r, j] = np.exp(lp)
            acc += labels[r, j] * lp
            label_sum += labels[r, j]
        loss[r] = 0.0 - acc
        label_sums[r, 0] = label_sum


# --- dispatch (last axis) ---------------------------------------------------------------------------------------------
def softmax(x):
    """Softmax along the last axis, as a new array."""
    if not _fits(x):
        return softmax_numpy(x)
    rows = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    p = np.empty_like(rows)
    _softmax_kernel(rows, p)
    return p.reshape(x.shape)


def softmax_xent(labels, logits):
    """(loss, log_p, p, Σ labels) along the last axis, as softmax_xent_numpy."""
    if not _fits(labels, logits):
        return softmax_xent_numpy(labels, logits)
    shape, classes = logits.shape, logits.shape[-1]
    rows = np.ascontiguousarray(logits).reshape(-1, classes)
    loss = np.empty(rows.shape[0], dtype=rows.dtype)
    log_p, p = np.empty_like(rows), np.empty_like(rows)
    label_sums = np.empty((rows.shape[0], 1), dtype=rows.dtype)
    _softmax_xent_kernel(np.ascontiguousarray(labels).reshape(-1, classes), rows, loss, log_p, p, label_sums)
    return (loss.reshape(shape[:-1]), log_p.reshape(shape), p.reshape(shape),
            label_sums.reshape(shape[:-1] + (1,)))
