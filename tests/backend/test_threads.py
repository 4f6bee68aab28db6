"""backend/threads.py: parts in threads with BLAS on one thread each, OpenBLAS's own polling threads stopped meanwhile,
BLAS's setting restored after."""
import threading
import time

import numpy as np
import pytest

from chainrule.backend import threads

blas = threads._blas_controller()
needs_two = pytest.mark.skipif(not blas or threads._blas_threads(blas) < 2, reason="BLAS runs on one thread here")


def _busy_share(seconds=0.05) -> float:
    """The process's CPU time over wall time while this thread sleeps: other threads' polling."""
    start, cpu = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    return (time.process_time() - cpu) / (time.perf_counter() - start)


@needs_two
def test_a_region_stops_blas_threads_polling_and_restores_the_setting():
    before = threads._blas_threads(blas)
    a = np.ones((256, 256), np.float32)
    a @ a  # wakes OpenBLAS's threads, which then poll for work
    if blas.lib_controllers[0].internal_api == "openblas" and _busy_share() <= 0.5:
        pytest.skip("the machine is too busy for OpenBLAS's polling thread to show (other processes hold the cores)")
    with threads.parallel_region(2 * threads.MIN_ROWS):
        assert threads._blas_threads(blas) == 1
        assert len(threads.parts(4 * threads.MIN_ROWS)) == min(before, 4)  # parts follow the setting outside
        if blas.lib_controllers[0].internal_api == "openblas":
            assert _busy_share() < 0.3
        with threads.parallel_region():  # nested: the same region
            assert threads._blas_threads(blas) == 1
        assert threads._blas_threads(blas) == 1
    assert threads._blas_threads(blas) == before
    np.testing.assert_array_equal(a @ a, np.full((256, 256), 256, np.float32))  # BLAS's threads start again


@needs_two
def test_parts_run_side_by_side_in_other_threads():
    seen = {}
    barrier = threading.Barrier(2, timeout=10)

    def part(lo, hi):
        seen[(lo, hi)] = threading.get_ident()
        barrier.wait()  # only returns if both parts run at once

    with threads.parallel_region(2 * threads.MIN_ROWS):
        threads.run_on_rows(part, 2 * threads.MIN_ROWS)
    assert sorted(seen) == [(0, threads.MIN_ROWS), (threads.MIN_ROWS, 2 * threads.MIN_ROWS)]
    assert len(set(seen.values())) == 2


def test_parts_follow_the_blas_threads_and_keep_a_minimum_of_rows():
    parts = threads.parts(4 * threads.MIN_ROWS + 3)
    assert parts[0][0] == 0 and parts[-1][1] == 4 * threads.MIN_ROWS + 3
    assert all(hi - lo >= threads.MIN_ROWS for lo, hi in parts)
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert threads.parts(threads.MIN_ROWS * 2 - 1) == [(0, threads.MIN_ROWS * 2 - 1)]


@needs_two
def test_a_part_that_raises_raises_in_the_caller(monkeypatch):
    monkeypatch.setattr(threads, "parts", lambda batch, min_rows=None: [(0, 2), (2, 4)])

    def fail_on_second(lo, hi):
        if lo == 2:
            raise RuntimeError("part (2, 4) failed")

    with pytest.raises(RuntimeError, match=r"part \(2, 4\) failed"), threads.parallel_region(4):
        threads.run_on_rows(fail_on_second, 4)


def test_outside_a_region_and_below_two_parts_the_work_stays_in_the_caller():
    seen = []
    threads.run_on_rows(lambda lo, hi: seen.append((lo, hi, threading.get_ident())), 8 * threads.MIN_ROWS)
    with threads.parallel_region(threads.MIN_ROWS):  # one part: no region, BLAS's setting untouched
        assert threads._owner is None
        threads.run_on_rows(lambda lo, hi: seen.append((lo, hi, threading.get_ident())), threads.MIN_ROWS)
    me = threading.get_ident()
    assert seen == [(0, 8 * threads.MIN_ROWS, me), (0, threads.MIN_ROWS, me)]
