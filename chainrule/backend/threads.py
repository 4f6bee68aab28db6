"""Independent rows of a batch on several threads, each thread's BLAS on one core.

A recurrent layer's steps are a chain of small products ((128 x 128) @ (128 x 512) for an LSTM(128) at batch 128),
and OpenBLAS's threads speed such a product up little, far less than oneDNN's do PyTorch's (docs/performance.md,
"Recurrent ops, second pass"). The rows of a batch are independent sequences, though, so inside a
:func:`parallel_region` (BLAS limited to one thread) :func:`run_on_rows` runs the whole chain on each part of the
rows in a thread of its own: the parts compute side by side, with NumPy's products and chainrule's ``nogil`` kernels
releasing the GIL. Callers split their large products the same way rather than hand them to BLAS's own threads,
which, once woken, keep polling for work for a while and take the cores from the parts; :func:`matmul` does so for
the dense op's products once a region has stopped OpenBLAS's threads, so that a training step never starts them
again (a start and the next region's stop cost a thread's creation and end, milliseconds on a busy machine).

The parts after the first run on helper threads that, between parts, poll for the next one for a few milliseconds
before they block, as OpenMP's threads do (``backend/kernels/spin.py``), so a step's regions hand work over in
microseconds rather than waiting for the system to wake a thread; a float32 product's part runs on a helper in numba
code, without the GIL (``backend/kernels/crew.py``).

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
import ctypes
import os
import threading
from typing import Callable

import numpy as np

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import blas, crew, spin

MIN_ROWS = 64  # smaller parts lose to BLAS's own threads on one product (docs/performance.md)

_helpers: list = []  # the threads that run the parts after the first (see _Helper)
_blas = None  # threadpoolctl's controller of the BLAS libraries, once found
_lock = threading.Lock()  # one region at a time changes BLAS's thread count
_owner: int | None = None  # the thread whose region is open
_outside_threads = 1  # BLAS's thread count when that region opened
_helpers_busy = False  # the region's owner is running its own part while the helpers run theirs


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
    OpenBLAS does before a fork), they start again with its next threaded product (which :func:`matmul` avoids).
    Nested regions are one region; another thread's region meanwhile leaves this thread's work in one part.
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
        with _blas_on_one_thread(blas):
            _owner, _outside_threads = me, threads
            try:
                yield
            finally:
                _owner = None
    finally:
        _lock.release()


@contextlib.contextmanager
def _blas_on_one_thread(blas):
    """Each BLAS library on one thread for the block, OpenBLAS's waiting threads stopped. OpenBLAS (its own pthreads
    build, as NumPy's wheels ship it) gets its thread count written directly: its ``openblas_set_num_threads``, which
    threadpoolctl calls, starts its threads anew whenever they are stopped, so each region would start and stop one
    even where no threaded product ran in between. Other libraries go through threadpoolctl."""
    libraries = _openblas_thread_counts(blas)
    direct = [(library, count) for library, count, _ in libraries if count is not None]
    others = [library for library, count, _ in libraries if count is None]
    before = [count.value for _, count in direct]
    with contextlib.ExitStack() as stack:
        for library in others:
            stack.enter_context(_limited(library))
        for library, count in direct:
            count.value = 1
            library.dynlib.blas_thread_shutdown_()
        try:
            yield
        finally:
            for (_, count), value in zip(direct, before):
                count.value = value


_thread_counts: dict = {}


def _openblas_thread_counts(blas) -> list:
    """(library, OpenBLAS's ``blas_cpu_number`` and ``blas_server_avail`` (its threads are running) as ctypes ints,
    or None twice where they cannot be used directly) for each of the controller's libraries."""
    key = id(blas)
    if key not in _thread_counts:
        found = []
        for library in blas.lib_controllers:
            count = avail = None
            if library.internal_api == "openblas" and getattr(library, "threading_layer", "") == "pthreads" \
                    and hasattr(library.dynlib, "blas_thread_shutdown_"):
                try:
                    count = ctypes.c_int.in_dll(library.dynlib, "blas_cpu_number")
                    avail = ctypes.c_int.in_dll(library.dynlib, "blas_server_avail")
                except ValueError:
                    count = avail = None
            found.append((library, count, avail))
        _thread_counts[key] = found
    return _thread_counts[key]


@contextlib.contextmanager
def _limited(library):
    """One library on one thread for the block, through threadpoolctl, its OpenBLAS threads (if any) stopped."""
    before = library.num_threads
    library.set_num_threads(1)
    stop = getattr(library.dynlib, "blas_thread_shutdown_", None) if library.internal_api == "openblas" else None
    if stop is not None:
        stop()
    try:
        yield
    finally:
        library.set_num_threads(before)


def run_on_rows(fn: Callable[[int, int], None], batch: int, min_rows: int = MIN_ROWS) -> None:
    """Inside a :func:`parallel_region` this thread opened, call ``fn(start, stop)`` for each part of ``batch`` rows,
    the parts in threads side by side; elsewhere ``fn(0, batch)``, with BLAS's own threads. "Rows" are any range of
    independent work: a batch's sequences, or a product's row or column blocks."""
    global _helpers_busy
    ranges = _ranges(batch, min_rows)
    if len(ranges) == 1:
        fn(0, batch)
        return
    helpers = _crew(len(ranges) - 1)[:len(ranges) - 1]
    for helper, (lo, hi) in zip(helpers, ranges[1:]):
        helper.start(fn, lo, hi)
    _helpers_busy = True
    try:
        fn(*ranges[0])
    finally:
        _helpers_busy = False
        errors = [helper.finish() for helper in helpers]
    for error in errors:
        if error is not None:
            raise error


# A part of a product below this many floating-point operations (about 40 us on one core) loses to the hand-off.
MIN_PART_FLOPS = 1 << 22


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D NumPy arrays, in parts of ``a``'s rows on chainrule's threads where OpenBLAS's own threads
    are stopped, as a region earlier in a training step leaves them; else NumPy's product. A step of a model with
    attention or recurrent layers (which open regions) then never starts OpenBLAS's threads again, where each start
    costs a thread's creation and, in the next region, its end. Float32 parts run on the helper threads without
    the GIL (backend/kernels/crew.py). Each row's result is OpenBLAS's for that row either way.

    >>> import numpy as np
    >>> matmul(np.ones((2, 3)), np.ones((3, 4))).tolist()
    [[3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]
    """
    if a.ndim == b.ndim == 2 and a.shape[1] == 1:  # an outer product (a batch of one's kernel gradient), which
        return a * b                                # NumPy's matmul runs slowly, without BLAS
    if not (type(a) is type(b) is np.ndarray and a.ndim == b.ndim == 2 and a.dtype == b.dtype == np.float32
            and _gemm_operand(a) and _gemm_operand(b)) or not _blas_threads_stopped():
        return a @ b
    rows = a.shape[0]
    min_rows = -(-MIN_PART_FLOPS // max(1, 2 * a.shape[1] * b.shape[1]))
    if rows < 2 * min_rows:
        return a @ b
    out = np.empty((rows, b.shape[1]), np.float32)
    with parallel_region(rows, min_rows):
        ranges = _ranges(rows, min_rows)
        helpers = _crew(len(ranges) - 1)[:len(ranges) - 1]
        if not helpers or not helpers[0].can_multiply:
            np.matmul(a, b, out=out)
            return out
        for helper, (lo, hi) in zip(helpers, ranges[1:]):
            helper.start_product(a[lo:hi], b, out[lo:hi])
        try:
            np.matmul(a[:ranges[0][1]], b, out=out[:ranges[0][1]])
        finally:
            for helper in helpers:
                helper.finish()
    return out


def _ranges(rows: int, min_rows: int) -> list[tuple[int, int]]:
    """The parts for this thread: :func:`parts` in the region it opened while the helpers are free, else one (a
    part that splits its own work again runs it whole: each helper holds one job at a time)."""
    if _owner == threading.get_ident() and not _helpers_busy:
        return parts(rows, min_rows)
    return [(0, rows)]


def _blas_threads_stopped() -> bool:
    """True inside a region of this thread's, or, outside any region, where NumPy's BLAS is OpenBLAS under this
    module's direct control, set to several threads, none of them running now (stopped by a region, not started
    since)."""
    if backend.xp.__name__ != "numpy":
        return False
    if _owner is not None:
        return _owner == threading.get_ident() and _outside_threads > 1
    blas = _blas_controller()
    if not blas:
        return False
    libraries = _openblas_thread_counts(blas)
    return all(count is not None and count.value > 1 and not avail.value for _, count, avail in libraries)


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


# How long a thread polls before it blocks, in processor cycles (about 3 ms at 3 GHz): long enough to keep a worker
# awake across the gaps between one region's parts and the next's, as OpenMP's threads stay awake.
SPIN_CYCLES = 1 << 23
# How long a helper that has seen a Python function's part waits before it takes the GIL, which the caller holds until
# its own part reaches numba code: taken then, it is free, where a thread that finds it held sleeps until woken.
GRACE_CYCLES = 1 << 15


class _Helper:
    """A thread that runs one part at a time for :func:`run_on_rows` and :func:`matmul`. The caller posts a part by
    moving a counter (backend/kernels/crew.py); the helper, between parts, polls that counter for a while before it
    blocks, and runs a product's part without the GIL; the caller polls the helper's "done" counter the same way,
    so that neither waits for the system to wake it while both are busy."""

    def __init__(self, name: str):
        self._job = np.zeros(crew.FIELDS, np.int64)
        self._part = None
        self._operands = None  # a posted product's arrays
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._sleepers = 0  # threads blocked on _changed
        self._yield = spin.yield_address() if kernels.enabled() else None
        self._gemm = (blas.sgemm_address() or 0) if self._yield is not None else 0
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def start(self, fn: Callable[[int, int], None], lo: int, hi: int) -> None:
        """Post ``fn(lo, hi)``."""
        self._drain()
        self._part, self._error = (fn, lo, hi), None
        (crew.post_in_python if self._yield is None else crew.post)(self._job, crew.PYTHON, _NO_FIELDS)
        self._wake()

    def start_product(self, a, b, c) -> None:
        """Post ``c = a @ b`` (float32 matrices that BLAS takes as they lie, see ``_gemm_operand``; C-ordered rows
        for ``c``)."""
        self._drain()
        self._error, self._operands = None, (a, b, c)  # alive until the product is done, whatever the caller does
        (trans_a, lda), (trans_b, ldb) = _gemm_operand(a), _gemm_operand(b)
        crew.post(self._job, crew.PRODUCT, (trans_a, trans_b, c.shape[0], c.shape[1], a.shape[1], a.ctypes.data, lda,
                                            b.ctypes.data, ldb, c.ctypes.data, c.strides[0] // c.itemsize))
        self._wake()

    @property
    def can_multiply(self) -> bool:
        return bool(self._gemm)

    def finish(self) -> BaseException | None:
        """Wait for the part posted last; its exception, if it raised one."""
        self._drain()
        self._operands = None
        return self._error

    def _drain(self) -> None:
        """Wait until every part posted is done: normally at once; after a caller was interrupted while it waited
        (Ctrl-C), the helper may still be running that part, and a new one must not overwrite it."""
        while True:
            done = self._job[crew.DONE]  # read once: compared, then waited on (a second read could miss the change)
            if done == self._job[crew.POSTED]:
                return
            self._wait(crew.DONE, done)

    def _serve(self) -> None:
        finished = False  # a Python part ran and is not counted done yet
        while True:
            if finished and (self._yield is None or self._sleepers):  # the caller blocked: count it here and wake it
                self._job[crew.DONE] += 1
                self._wake()
                finished = False
            if self._yield is not None and crew.serve(self._job, self._gemm, SPIN_CYCLES, self._yield, finished,
                                                      GRACE_CYCLES):
                finished = self._run_part()
                continue
            finished = False
            self._wait(crew.POSTED, self._job[crew.DONE], spin_first=False)
            if self._job[crew.KIND] != crew.PRODUCT:  # a product is crew.serve's to run
                finished = self._run_part()

    def _run_part(self) -> bool:
        fn, lo, hi = self._part
        try:
            fn(lo, hi)
        except BaseException as error:  # handed to the caller, which raises it
            self._error = error
        return True

    def _wait(self, index: int, old: int, spin_first: bool = True) -> None:
        """Until field ``index`` of the job moves past ``old``: polling first, then blocked."""
        if spin_first and self._yield is not None \
                and spin.wait_for_change(self._job, index, old, SPIN_CYCLES, self._yield):
            return
        with self._changed:
            self._sleepers += 1
            while self._job[index] == old:
                # the done count, stored by the helper's numba code, wakes no one: look again each millisecond; a
                # post always wakes the helper, which can sleep until then
                self._changed.wait(0.001 if index == crew.DONE else None)
            self._sleepers -= 1

    def _wake(self) -> None:
        if self._sleepers:  # read after the counter moved: a thread about to block sees the new count instead
            with self._changed:
                self._changed.notify_all()


_NO_FIELDS = (0,) * (crew.FIELDS - crew.TRANS_A)


def _gemm_operand(a) -> tuple[int, int] | None:
    """(CBLAS's transpose flag, leading dimension) for a matrix BLAS takes as it lies: one axis of unit stride, the
    other a leading dimension at least as long as a row; None for any other view (reversed, strided, overlapping:
    NumPy copies those)."""
    rows, columns = a.strides[0] // a.itemsize, a.strides[1] // a.itemsize
    if a.strides[1] == a.itemsize and rows >= max(1, a.shape[1]):
        return blas.NO_TRANS, rows
    if a.strides[0] == a.itemsize and columns >= max(1, a.shape[0]):
        return blas.TRANS, columns
    return None


def _crew(helpers: int) -> list[_Helper]:
    global _helpers
    while len(_helpers) < helpers:
        _helpers.append(_Helper(f"chainrule-rows-{len(_helpers)}"))
    return _helpers


def _forget_after_fork() -> None:
    """A forked child has none of its parent's threads: it starts its own pool and lock when it needs them."""
    global _helpers, _lock, _owner
    _helpers, _lock, _owner = [], threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
