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


@jit(nogil=True)  # the attention node calls it from threads side by side
def _subtract_row_max_nb(rows):
    for r in range(rows.shape[0]):
        row = rows[r]
        m = row[0]
        nan = False
        for c in range(row.shape[0]):  # no branch that leaves the loop: it vectorizes
            v = row[c]
            m = max(m, v)
            nan |= v != v
        if nan:  # NaN wins, as in np.max
            m = np.nan
        for c in range(row.shape[0]):
            row[c] = row[c] - m


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
