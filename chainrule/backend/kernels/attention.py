"""The attention node's softmax pass that NumPy does slowly: subtracting each row's maximum, in place.

NumPy's ``max`` along a short last axis (a few dozen keys) runs about four times slower than the exponential of the
same array; one kernel pass finds each row's maximum and subtracts it while the row is in cache. The result is the
same bits as NumPy's ``x -= x.max(axis=-1, keepdims=True)`` (a maximum and one subtraction per value); NaN rows
give NaN in both.

>>> import numpy as np
>>> x = np.array([[1.0, 3.0, 2.0]], "float32")
>>> subtract_row_max_(x); x
array([[-2.,  0., -1.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.backend.kernels import falls_back_to, jit, runs_on


def subtract_row_max_numpy(x) -> None:
    x -= x.max(axis=-1, keepdims=True)


@jit(nogil=True)  # the attention node calls it from threads side by side
def _subtract_row_max_nb(rows):
    for r in range(rows.shape[0]):
        m = rows[r, 0]
        for c in range(1, rows.shape[1]):
            v = rows[r, c]
            if v > m or v != v:  # NaN wins, as in np.max
                m = v
                if v != v:
                    break
        for c in range(rows.shape[1]):
            rows[r, c] = rows[r, c] - m


@falls_back_to(subtract_row_max_numpy)
def subtract_row_max_(x) -> None:
    """In place: ``x -= max(x)`` along the last axis."""
    if not (runs_on(x.dtype) and x.flags.c_contiguous and x.ndim >= 1 and x.size > 0):
        return subtract_row_max_numpy(x)
    _subtract_row_max_nb(x.reshape(-1, x.shape[-1]))
