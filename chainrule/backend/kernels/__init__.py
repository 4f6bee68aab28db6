"""Fused CPU kernels compiled by numba, each beside the NumPy code it replaces.

A kernel does in one pass over memory what NumPy does in several (max-pool with its argmax, the Adam update, ...).
numba is optional (``pip install chainrule[fast]``): without it, or with ``CHAINRULE_NUMBA=0`` in the environment,
every op runs its NumPy version, which is also what the GPU backend uses. Tests hold each pair equal.

>>> from chainrule import kernels
>>> isinstance(kernels.enabled(), bool)
True
"""
from __future__ import annotations

import os

import numpy as np

from chainrule import backend

try:
    import numba

    # numba's default OpenMP layer spins, starving a busy machine's other threads; the workqueue layer yields the core
    # instead (docs/performance.md, "Numba kernels").
    numba.config.THREADING_LAYER = "workqueue"
except ImportError:  # the NumPy versions serve
    numba = None

_wanted = os.environ.get("CHAINRULE_NUMBA", "1") != "0"


def enabled() -> bool:
    """True when the numba kernels run: numba is installed, not switched off, and the backend is NumPy."""
    return _wanted and numba is not None and backend.xp.__name__ == "numpy"


FLOATS = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes the kernels are compiled for


def runs_on(dtype) -> bool:
    """True when the numba kernels run on arrays of this dtype: kernels enabled, float32 or float64."""
    return enabled() and dtype in FLOATS


def set_enabled(flag: bool) -> None:
    """Switch the numba kernels on or off (tests compare both paths)."""
    global _wanted
    _wanted = flag


def jit(fn=None, *, parallel: bool = False):
    """``numba.njit`` with the cache on (compiled once per machine), or the function unchanged without numba."""
    def wrap(f):
        if numba is None:
            return f
        return numba.njit(parallel=parallel, cache=True, fastmath=False)(f)
    return wrap if fn is None else wrap(fn)


prange = range if numba is None else numba.prange  # a parallel loop inside a kernel (plain range without numba)
