"""Independent rows of a batch on several threads, each thread's BLAS on one core.

A recurrent layer's steps are a chain of small products ((128 x 128) @ (128 x 512) for an LSTM(128) at batch 128),
and OpenBLAS's threads speed such a product up little, far less than oneDNN's do PyTorch's (docs/performance.md,
"Recurrent ops, second pass"). The rows of a batch are independent sequences, though, so inside a
:func:`parallel_region` (BLAS limited to one thread, through threadpoolctl) :func:`run_on_rows` runs the whole chain
on each part of the rows in a thread of its own: the parts compute side by side, with NumPy's products and
chainrule's ``nogil`` kernels releasing the GIL. Callers split their large products the same way rather than hand
them to BLAS's own threads, which, once woken, keep polling for work for a while and take the cores from the parts.

The parts are as many as BLAS's threads (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or the cores), at least
``MIN_ROWS`` rows each. With one part, or outside a region this thread opened (none opens where threadpoolctl or
the NumPy backend is missing, or while another thread's region holds the BLAS setting), the function runs once on
all rows in the caller, with BLAS's own threads. A row's numbers never depend on another
row, so a split changes results only in rounding (BLAS may sum a product of fewer rows in another order), and the
same split, which depends only on the batch size and the thread count, gives the same bits every time.

>>> seen = []
>>> with parallel_region(4):
...     run_on_rows(lambda lo, hi: seen.append((lo, hi)), 4)
>>> seen
[(0, 4)]
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from chainrule import backend

MIN_ROWS = 64  # smaller parts lose to BLAS's own threads on one product (docs/performance.md)

_pool: ThreadPoolExecutor | None = None
_blas = None  # threadpoolctl's controller of the BLAS libraries, once found
_lock = threading.Lock()  # one region at a time changes BLAS's thread count
_owner: int | None = None  # the thread whose region is open
_outside_threads = 1  # BLAS's thread count when that region opened


def _blas_controller():
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = False
        else:
            _blas = ThreadpoolController().select(user_api="blas") or False
    return _blas


def _blas_threads(blas) -> int:
    return max((c.num_threads for c in blas.lib_controllers), default=1) if blas else 1


def parts(batch: int, min_rows: int = MIN_ROWS) -> list[tuple[int, int]]:
    """The (start, stop) row ranges :func:`run_on_rows` would use for ``batch`` rows, parts of at least ``min_rows``
    (callers whose rows are larger units of work, such as attention's (batch, head) matrices, pass fewer).

    >>> parts(10)
    [(0, 10)]
    """
    if _owner == threading.get_ident():
        threads = _outside_threads
    else:
        threads = _blas_threads(_blas_controller() if backend.xp.__name__ == "numpy" else False)
    count = max(1, min(threads, batch // max(1, min_rows)))
    bounds = [batch * k // count for k in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


@contextlib.contextmanager
def parallel_region(rows: int | None = None, min_rows: int = MIN_ROWS):
    """BLAS on one thread, and OpenBLAS's own threads stopped, while the block runs its products in parts
    (:func:`run_on_rows`); BLAS's setting comes back at the end. With ``rows``, only if that many rows make several
    parts (else the block keeps BLAS's threads). OpenBLAS's threads, once woken by a threaded product,
    keep polling for work for about 0.1 s, a core's worth of time that the parts' threads then lack; stopped here (as
    OpenBLAS does before a fork), they start again with its next threaded product. Nested regions are one region;
    another thread's region meanwhile leaves this thread's work in one part.
    """
    global _owner, _outside_threads
    me = threading.get_ident()
    blas = _blas_controller() if backend.xp.__name__ == "numpy" else False
    threads = _blas_threads(blas)
    if _owner == me or threads < 2 or (rows is not None and len(parts(rows, min_rows)) < 2) \
            or not _lock.acquire(blocking=False):
        yield
        return
    try:
        with blas.limit(limits=1):
            _stop_openblas_threads(blas)
            _owner, _outside_threads = me, threads
            try:
                yield
            finally:
                _owner = None
    finally:
        _lock.release()


def _stop_openblas_threads(blas) -> None:
    for library in blas.lib_controllers:
        if library.internal_api == "openblas":
            stop = getattr(library.dynlib, "blas_thread_shutdown_", None)
            if stop is not None:
                stop()


def run_on_rows(fn: Callable[[int, int], None], batch: int, min_rows: int = MIN_ROWS) -> None:
    """Inside a :func:`parallel_region` this thread opened, call ``fn(start, stop)`` for each part of ``batch`` rows,
    the parts in threads side by side; elsewhere ``fn(0, batch)``, with BLAS's own threads. "Rows" are any range of
    independent work: a batch's sequences, or a product's row or column blocks."""
    ranges = parts(batch, min_rows) if _owner == threading.get_ident() else [(0, batch)]
    if len(ranges) == 1:
        fn(0, batch)
        return
    futures = [_executor(len(ranges) - 1).submit(fn, lo, hi) for lo, hi in ranges[1:]]
    try:
        fn(*ranges[0])
    finally:
        for future in futures:
            future.result()


def added_in_order(parts: dict):
    """The arrays ``parts`` maps each part's start to (results of :func:`run_on_rows`'s parts, say) added in the order
    of the starts, so that the same split gives the same bits.

    >>> import numpy as np
    >>> added_in_order({4: np.array([1.0]), 0: np.array([2.0])})
    array([3.])
    """
    starts = sorted(parts)
    total = parts[starts[0]]
    for start in starts[1:]:
        total = total + parts[start]
    return total


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    if _pool is None or _pool._max_workers < workers:
        _pool = ThreadPoolExecutor(workers, thread_name_prefix="chainrule-rows")
    return _pool


def _forget_after_fork() -> None:
    """A forked child has none of its parent's threads: it starts its own pool and lock when it needs them."""
    global _pool, _lock, _owner
    _pool, _lock, _owner = None, threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
