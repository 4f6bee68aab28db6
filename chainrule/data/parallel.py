"""Work on other threads for the input pipeline: ``prefetch``'s producer thread, and the ordered thread pool behind
``map``/``interleave`` with ``num_parallel_calls`` and ``keras.utils.PyDataset``'s ``workers``.

Threads help where the work waits or leaves Python (file reads, image decoding, large NumPy operations release the
GIL): then the next batches are made while the model trains on this one. Three rules keep that safe:

- buffers are bounded, so a producer runs at most ``buffer_size`` items ahead;
- an error on a worker thread is raised again where the items are consumed, with its traceback;
- stopping early (a ``for`` loop that breaks, an iterator that is dropped) stops and joins the threads.

Random draws made on a worker thread (``backend.rng()``: augmentation in a ``map`` function) come from generators
spawned from the consumer's at a fixed point, one per item in the pools, so a seeded run repeats whatever the
threads' timing, and the model's own sequence (initializers, dropout, shuffles) is not consumed by them.

>>> [x * 10 for x in background(lambda: iter(range(3)), buffer_size=2)]
[0, 10, 20]
>>> list(ordered_map(lambda x: x * x, iter(range(5)), workers=2))
[0, 1, 4, 9, 16]
"""
from __future__ import annotations

import collections
import concurrent.futures
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from chainrule import backend

_POLL = 0.05  # seconds a blocked producer waits between looks at its stop flag
_TASK_SECONDS = (0.002, 0.02)  # a pool task shorter than this takes more items per task, longer takes fewer
_MAX_ITEMS_PER_TASK = 64


class _Failure:
    """An exception raised on the producer thread, carried to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def cores() -> int:
    """The CPU cores this process may run on (what AUTOTUNE sizes thread pools by)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_seeds() -> np.random.SeedSequence:
    """A seed sequence spawned from the calling thread's generator: spawning takes no draws from it, and the n-th
    spawn after ``set_seed`` is always the same one."""
    return backend.rng().spawn(1)[0].bit_generator.seed_seq


def _item_generator(seeds: np.random.SeedSequence, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seeds.entropy, spawn_key=(*seeds.spawn_key, index)))


def background(make_items: Callable[[], Iterable], buffer_size: int) -> Iterator:
    """Iterate ``make_items()`` on a producer thread, at most ``buffer_size`` items ahead of the consumer."""
    buffer: queue.Queue = queue.Queue(maxsize=max(1, buffer_size))
    stop = threading.Event()
    seeds = worker_seeds()

    def produce() -> None:
        backend.use_thread_rng(functools.partial(np.random.default_rng, seeds))
        items = None
        try:
            items = iter(make_items())
            for item in items:
                if not _put(buffer, item, stop):
                    return
            _put(buffer, _END, stop)
        except BaseException as error:  # noqa: BLE001  (carried to the consumer and raised there)
            _put(buffer, _Failure(error), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # an upstream prefetch or pool stops its own threads
                close()

    thread = threading.Thread(target=produce, name="chainrule.data prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if type(item) is _Failure:
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


def _put(buffer: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` when there is room; False (not put) once the consumer has stopped."""
    while not stop.is_set():
        try:
            buffer.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def ordered_map(fn: Callable, items: Iterator, workers: int, ordered: bool = True,
                in_flight: int | None = None) -> Iterator:
    """``fn`` over ``items`` on ``workers`` threads, the results in the order of ``items`` (or, with ``ordered``
    False, as they finish). At most ``in_flight`` tasks (default ``2 * workers``) are queued or running; a task
    takes several items when items are quick, so that thread hand-offs do not cost more than the work."""
    seeds = worker_seeds()
    limit = in_flight or 2 * workers
    pending: collections.deque = collections.deque()
    per_task = 1
    first_index = 0

    def run(start: int, batch: list) -> tuple[list, float]:
        began = time.perf_counter()
        results = []
        for offset, item in enumerate(batch):
            backend.use_thread_rng(functools.partial(_item_generator, seeds, start + offset))
            results.append(fn(item))
        backend.use_thread_rng(None)
        return results, (time.perf_counter() - began) / len(batch)

    def finished() -> list:
        nonlocal per_task
        if ordered:
            future = pending.popleft()
        else:
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            future = next(f for f in pending if f in done)
            pending.remove(future)
        results, seconds_per_item = future.result()
        task_seconds = seconds_per_item * per_task
        if task_seconds < _TASK_SECONDS[0]:
            per_task = min(per_task * 2, _MAX_ITEMS_PER_TASK)
        elif task_seconds > _TASK_SECONDS[1]:
            per_task = max(per_task // 2, 1)
        return results

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainrule.data worker")
    try:
        items = iter(items)
        while True:
            batch = [item for _, item in zip(range(per_task), items)]
            if batch:
                pending.append(pool.submit(run, first_index, batch))
                first_index += len(batch)
            if pending and (len(pending) >= limit or not batch):
                yield from finished()
            if not batch and not pending:
                return
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
