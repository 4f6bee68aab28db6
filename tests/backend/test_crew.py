"""backend/threads.py's helper threads and backend/kernels/crew.py, spin.py: a helper polls for its next part and
blocks after a while, runs float32 products without the GIL, hands back errors; ``threads.matmul`` splits a product
over them where OpenBLAS's own threads are stopped, with OpenBLAS's bits, and leaves them stopped."""
import threading
import time

import numpy as np
import pytest

from chainrule.backend import kernels, threads
from chainrule.backend.kernels import blas, crew, spin

blas_controller = threads._blas_controller()
direct = bool(blas_controller) and all(count is not None for _, count, _ in
                                        threads._openblas_thread_counts(blas_controller))
needs_direct_openblas = pytest.mark.skipif(
    not direct or threads._blas_threads(blas_controller) < 2 or not kernels.enabled() or blas.sgemm_address() is None,
    reason="NumPy's BLAS here is not OpenBLAS's pthreads build on several threads with an ILP64 sgemm, or no numba")
needs_spin = pytest.mark.skipif(not kernels.enabled() or spin.yield_address() is None, reason="no numba or sched_yield")


def _stop_blas_threads():
    with threads.parallel_region():  # a region stops OpenBLAS's threads, and nothing here starts them again
        pass


@needs_spin
def test_wait_for_change_sees_another_threads_store_and_times_out_otherwise():
    counters = np.zeros(2, np.int64)
    start = time.perf_counter()
    assert not spin.wait_for_change(counters, 0, 0, 1 << 16, spin.yield_address())
    assert time.perf_counter() - start < 1.0

    def store():
        time.sleep(0.02)
        counters[1] = 7

    thread = threading.Thread(target=store)
    thread.start()
    assert spin.wait_for_change(counters, 1, 0, 1 << 40, spin.yield_address())  # returns on the store, not the budget
    thread.join()
    assert counters[1] == 7


def test_post_moves_the_posted_count_after_the_fields():
    job = np.zeros(crew.FIELDS, np.int64)
    crew.post(job, crew.PRODUCT, (blas.TRANS, blas.NO_TRANS, 2, 3, 4, 10, 11, 12, 13, 14, 15))
    assert job[crew.POSTED] == 1 and job[crew.DONE] == 0
    assert job[crew.KIND:].tolist() == [crew.PRODUCT, blas.TRANS, blas.NO_TRANS, 2, 3, 4, 10, 11, 12, 13, 14, 15]


@needs_direct_openblas
@pytest.mark.parametrize("layout", ["plain", "transposed a", "transposed b"])
def test_matmul_in_parts_gives_openblas_bits_and_leaves_its_threads_stopped(monkeypatch, layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2048, 64)).astype(np.float32)
    w = rng.standard_normal((64, 96)).astype(np.float32)
    g = rng.standard_normal((2048, 96)).astype(np.float32)
    a, b = {"plain": (x, w), "transposed a": (x.T, g), "transposed b": (g, w.T)}[layout]
    expected = a @ b  # BLAS's own threads
    posted = []
    start_product = threads._Helper.start_product
    monkeypatch.setattr(threads._Helper, "start_product",
                        lambda self, *arrays: (posted.append(arrays[0].shape), start_product(self, *arrays))[1])
    _stop_blas_threads()
    result = threads.matmul(a, b)
    assert posted, "the product did not run in parts"
    np.testing.assert_array_equal(result, expected)
    assert all(avail.value == 0 for _, _, avail in threads._openblas_thread_counts(blas_controller))
    assert threads._blas_threads(blas_controller) >= 2  # the setting is back


@needs_direct_openblas
def test_matmul_keeps_blas_threads_where_they_run_and_numpy_for_other_dtypes(monkeypatch):
    posted = []
    monkeypatch.setattr(threads._Helper, "start_product", lambda self, *arrays: posted.append(arrays))
    a = np.ones((2048, 64), np.float32)
    b = np.ones((64, 96), np.float32)
    a @ b  # starts OpenBLAS's threads
    np.testing.assert_array_equal(threads.matmul(a, b), np.full((2048, 96), 64, np.float32))
    _stop_blas_threads()
    np.testing.assert_array_equal(threads.matmul(a.astype(np.float64), b), np.full((2048, 96), 64.0))
    np.testing.assert_array_equal(threads.matmul(a[:8], b), np.full((8, 96), 64, np.float32))  # too small to split
    assert not posted


@needs_direct_openblas
def test_a_helper_that_blocked_wakes_for_products_and_python_parts(monkeypatch):
    monkeypatch.setattr(threads, "SPIN_CYCLES", 1 << 10)  # the helpers block almost at once
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1024, 128)).astype(np.float32)
    b = rng.standard_normal((128, 128)).astype(np.float32)
    expected = a @ b
    for _ in range(3):
        time.sleep(0.02)  # long past the polling: the helper is blocked
        _stop_blas_threads()
        np.testing.assert_array_equal(threads.matmul(a, b), expected)
        seen = []
        with threads.parallel_region(2 * threads.MIN_ROWS):
            threads.run_on_rows(lambda lo, hi: seen.append((lo, hi)), 2 * threads.MIN_ROWS)
        assert sorted(seen) == [(0, threads.MIN_ROWS), (threads.MIN_ROWS, 2 * threads.MIN_ROWS)]


@pytest.mark.skipif(not blas_controller or threads._blas_threads(blas_controller) < 2, reason="BLAS on one thread")
def test_an_error_in_a_helpers_part_reaches_the_caller_and_the_helper_serves_on():
    def part(lo, hi):
        if lo:
            raise KeyError(f"part {lo}")

    with threads.parallel_region(2 * threads.MIN_ROWS):
        with pytest.raises(KeyError, match=f"part {threads.MIN_ROWS}"):
            threads.run_on_rows(part, 2 * threads.MIN_ROWS)
        seen = []
        threads.run_on_rows(lambda lo, hi: seen.append(lo), 2 * threads.MIN_ROWS)
    assert sorted(seen) == [0, threads.MIN_ROWS]


def test_matmul_of_a_single_column_by_a_single_row_is_the_outer_product_with_blas_bits():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 300)).astype(np.float32)  # a batch of one: the kernel's gradient is xᵀ g
    g = rng.standard_normal((1, 40)).astype(np.float32)
    np.testing.assert_array_equal(threads.matmul(x.T, g), x.T @ g)
    assert threads.matmul(x.T.astype(np.float64), g).dtype == np.float64


@pytest.mark.skipif(not blas_controller or threads._blas_threads(blas_controller) < 2, reason="BLAS on one thread")
def test_a_part_that_splits_its_own_work_runs_it_whole():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2048, 64)).astype(np.float32)
    b = rng.standard_normal((64, 96)).astype(np.float32)
    expected = a @ b
    inner = []

    def part(lo, hi):
        inner.append(threads._ranges(4 * threads.MIN_ROWS, threads.MIN_ROWS))
        if lo == 0:  # the caller's own part, while the helper runs the other
            np.testing.assert_array_equal(threads.matmul(a, b), expected)

    with threads.parallel_region(2 * threads.MIN_ROWS):
        threads.run_on_rows(part, 2 * threads.MIN_ROWS)
    assert inner == [[(0, 4 * threads.MIN_ROWS)]] * 2


@needs_direct_openblas
def test_matmul_inside_a_region_of_this_thread_splits_too(monkeypatch):
    posted = []
    start_product = threads._Helper.start_product
    monkeypatch.setattr(threads._Helper, "start_product",
                        lambda self, *arrays: (posted.append(arrays[0].shape), start_product(self, *arrays))[1])
    a = np.ones((2048, 64), np.float32)
    b = np.ones((64, 96), np.float32)
    a @ b  # OpenBLAS's threads running: the region stops them
    with threads.parallel_region():
        np.testing.assert_array_equal(threads.matmul(a, b), np.full((2048, 96), 64, np.float32))
    assert posted and sum(rows for rows, _ in posted) < 2048  # the helpers took all rows but the caller's part


@needs_direct_openblas
def test_a_part_posted_while_an_abandoned_one_still_runs_waits_for_it():
    """A caller interrupted while it waited (Ctrl-C) leaves its part running; the next post must not overwrite it."""
    helper = threads._crew(1)[0]
    order = []

    def slow(lo, hi):
        time.sleep(0.05)
        order.append(("slow", lo))

    helper.start(slow, 1, 2)  # never finished: the caller "was interrupted"
    helper.start(lambda lo, hi: order.append(("next", lo)), 3, 4)
    assert helper.finish() is None
    assert order == [("slow", 1), ("next", 3)]
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((512, 256)).astype(np.float32), rng.standard_normal((256, 256)).astype(np.float32)
    first, second = np.empty((512, 256), np.float32), np.empty((512, 256), np.float32)
    helper.start_product(a, b, first)  # abandoned too
    helper.start_product(a[:, :128], b[:128], second)  # views with a leading dimension of 256
    helper.finish()
    np.testing.assert_array_equal(first, a @ b)
    np.testing.assert_array_equal(second, a[:, :128] @ b[:128])


@needs_direct_openblas
@pytest.mark.parametrize("view", ["reversed rows", "reversed columns", "every other column", "broadcast rows"])
def test_matmul_of_views_blas_cannot_take_as_they_lie_is_numpys_product(view):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2048, 128)).astype(np.float32)
    a = {"reversed rows": base[::-1], "reversed columns": base[:, ::-1], "every other column": base[:, ::2],
         "broadcast rows": np.broadcast_to(base[:1], (2048, 128))}[view]
    b = rng.standard_normal((a.shape[1], 96)).astype(np.float32)
    expected = np.ascontiguousarray(a) @ b
    _stop_blas_threads()
    np.testing.assert_array_equal(threads.matmul(a, b), expected)


@needs_direct_openblas
def test_many_hand_offs_in_a_row_never_hang():
    """Thousands of products and Python parts back to back, short enough that the helper's part often ends while the
    caller is between looking and waiting (the race a wait on a re-read count once lost)."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((512, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)
    expected = a @ b
    failures = []

    def hand_offs():
        try:
            for _ in range(1500):
                _stop_blas_threads()
                if not np.array_equal(threads.matmul(a, b), expected):
                    failures.append("product")
                with threads.parallel_region(2 * threads.MIN_ROWS):
                    threads.run_on_rows(lambda lo, hi: None, 2 * threads.MIN_ROWS)
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(repr(error))

    worker = threading.Thread(target=hand_offs, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "a hand-off hung"
    assert not failures


def test_drain_waits_on_the_count_it_compared():
    """The helper may finish between the caller's look at the done count and its wait: the wait must be on the value
    it looked at, or it waits for a change that never comes (a Transformer's fit hung so)."""
    class Job(np.ndarray):
        reads = 0

        def __getitem__(self, index):
            if index == crew.DONE:  # the part ends right after the first look
                Job.reads += 1
                return np.int64(0 if Job.reads == 1 else 1)
            return super().__getitem__(index)

    helper = object.__new__(threads._Helper)  # no thread: only the caller's side
    helper._job = np.zeros(crew.FIELDS, np.int64).view(Job)
    np.ndarray.__setitem__(helper._job, crew.POSTED, 1)
    helper._yield, helper._sleepers, helper._changed = None, 0, threading.Condition()
    waiter = threading.Thread(target=helper._drain, daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
