"""The embedding lookup's gradient: rows of the output gradient added into a table of zeros at their ids.

    scatter_add_rows(g, ids, num_rows)     out = zeros(num_rows, D);  out[ids[i]] += g[i]   for i in order

A text model's batch holds thousands of ids drawn from a vocabulary of many thousands: NumPy's ``add.at`` walks the
ids with a generic per-element loop, the kernel adds each row with one contiguous inner loop. Both add the rows in
the order of the ids, so their results are the same bits (tests/oracle/test_embedding_ops.py).

>>> import numpy as np
>>> scatter_add_rows(np.ones((3, 2), "float32"), np.array([2, 0, 2]), 3)
array([[1., 1.],
       [0., 0.],
       [2., 2.]], dtype=float32)
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import falls_back_to, jit, runs_on


def scatter_add_rows_numpy(g, ids, num_rows: int):
    out = backend.xp.zeros((num_rows,) + g.shape[1:], dtype=g.dtype)
    backend.xp.add.at(out, ids, g)
    return out


@jit
def _scatter_add_rows_kernel(g, ids, out):
    for i in range(ids.shape[0]):
        row = ids[i]
        for j in range(g.shape[1]):
            out[row, j] += g[i, j]


@falls_back_to(scatter_add_rows_numpy)
def scatter_add_rows(g, ids, num_rows: int):
    """Zeros of shape ``(num_rows,) + g.shape[1:]`` with row ``g[i]`` added at row ``ids[i]`` (ids in range)."""
    if not (runs_on(g.dtype) and g.ndim == 2 and g.flags.c_contiguous and ids.ndim == 1):
        return scatter_add_rows_numpy(g, ids, num_rows)
    out = backend.xp.zeros((num_rows, g.shape[1]), dtype=g.dtype)
    _scatter_add_rows_kernel(g, ids, out)
    return out
