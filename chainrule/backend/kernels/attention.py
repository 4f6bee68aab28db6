"""The attention node's softmax passes that NumPy does slowly along a short last axis (a few dozen keys): subtracting
each row's maximum, and dividing each row by its sum, in place.

NumPy's ``max`` and ``sum`` along a short last axis run several times slower than the exponential of the same array;
a kernel pass finds each row's maximum (or sum) and applies it while the row is in cache. ``subtract_row_max_`` gives
the same bits as NumPy's ``x -= x.max(axis=-1, keepdims=True)`` (a maximum and one subtraction per value; NaN rows
give NaN in both); ``normalize_rows_`` adds each row in float64, in an order the compiler picks (NumPy adds float32
in pairs), so the two agree to rounding.

>>> import numpy as np
>>> x = np.array([[1.0, 3.0, 2.0]], "float32")
>>> subtract_row_max_(x); x
array([[-2.,  0., -1.]], dtype=float32)
>>> p = np.array([[1.0, 3.0]], "float32")
>>> normalize_rows_(p); p
array([[0.25, 0.75]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.backend.kernels import falls_back_to, jit, runs_on


def subtract_row_max_numpy(x) -> None:
    x -= x.max(axis=-1, keepdims=True)


@jit(nogil=True, reassociate=True)  # from threads side by side; maxima in any order are the same maximum
def _subtract_row_max_nb(rows):
    for r in range(rows.shape[0]):
        row = rows[r]
        n = row.shape[0]
        # eight running maxima: one chain of dependent comparisons waited on each one's latency
        m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
        c = 0
        while c + 8 <= n:
            m0, m1, m2, m3 = max(m0, row[c]), max(m1, row[c + 1]), max(m2, row[c + 2]), max(m3, row[c + 3])
            m4, m5, m6, m7 = max(m4, row[c + 4]), max(m5, row[c + 5]), max(m6, row[c + 6]), max(m7, row[c + 7])
            c += 8
        while c < n:
            m0 = max(m0, row[c])
            c += 1
        nans = 0
        for j in range(n):
            nans += row[j] != row[j]
        m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
        if nans:  # NaN wins, as in np.max (the row's own NaN: m keeps the row's dtype)
            for j in range(n):
                if row[j] != row[j]:
                    m = row[j]
                    break
        for j in range(n):
            row[j] = row[j] - m


def normalize_rows_numpy(x) -> None:
    x *= 1.0 / x.sum(axis=-1, keepdims=True)


@jit(nogil=True, reassociate=True)
def _normalize_rows_nb(rows):
    for r in range(rows.shape[0]):
        row = rows[r]
        total = 0.0
        for c in range(row.shape[0]):
            total += row[c]
        scale = row.dtype.type(1.0 / total)
        for c in range(row.shape[0]):
            row[c] = row[c] * scale


def softmax_grad_numpy(ds, probs, row_dot) -> None:
    ds -= row_dot
    ds *= probs


@jit(nogil=True)
def _softmax_grad_nb(ds, probs, row_dot):
    for r in range(ds.shape[0]):
        d, p, c = ds[r], probs[r], row_dot[r]
        for j in range(d.shape[0]):
            d[j] = (d[j] - c) * p[j]


@falls_back_to(softmax_grad_numpy)
def softmax_grad_(ds, probs, row_dot) -> None:
    """In place: the softmax's backward ``ds = (ds - row_dot) * probs``, ``ds`` holding the probabilities' gradient
    on entry and ``row_dot`` (shaped as ``ds`` with a last axis of 1) each row's Σ_j ds_j probs_j."""
    if not (runs_on(ds.dtype) and ds.dtype == probs.dtype == row_dot.dtype and ds.flags.c_contiguous
            and probs.flags.c_contiguous and ds.shape == probs.shape and row_dot.shape == ds.shape[:-1] + (1,)):
        return softmax_grad_numpy(ds, probs, row_dot)
    _softmax_grad_nb(ds.reshape(-1, ds.shape[-1]), probs.reshape(-1, ds.shape[-1]), row_dot.reshape(-1))


@falls_back_to(normalize_rows_numpy)
def normalize_rows_(x) -> None:
    """In place: ``x *= 1 / sum(x)`` along the last axis."""
    if not (runs_on(x.dtype) and x.flags.c_contiguous and x.ndim >= 1 and x.size > 0):
        return normalize_rows_numpy(x)
    _normalize_rows_nb(x.reshape(-1, x.shape[-1]))


@falls_back_to(subtract_row_max_numpy)
def subtract_row_max_(x) -> None:
    """In place: ``x -= max(x)`` along the last axis."""
    if not (runs_on(x.dtype) and x.flags.c_contiguous and x.ndim >= 1 and x.size > 0):
        return subtract_row_max_numpy(x)
    _subtract_row_max_nb(x.reshape(-1, x.shape[-1]))
