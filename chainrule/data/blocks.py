"""Streams of blocks: how a Dataset moves its elements in bulk instead of one Python step per element.

A block is a 1-D NumPy array of items, either row numbers into a Dataset's source arrays (integers) or whole
elements (dtype=object). Every function here takes an iterator of blocks and returns one, so take, skip, shuffle and
batching work on row numbers with NumPy slicing, and the rows themselves are gathered once per batch.

>>> import numpy as np
>>> [b.tolist() for b in rebatch(iter([np.arange(5), np.arange(5, 7)]), 3, drop_remainder=False)]
[[0, 1, 2], [3, 4, 5], [6]]
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

Blocks = Iterator[np.ndarray]
_SHUFFLE_OUTPUT = 1024  # items per block that the buffer shuffle hands on


_ROWS_PER_BLOCK = 1 << 16  # row numbers handed on at a time by an endless (or huge) source


def as_objects(items: list) -> np.ndarray:
    """A block of whole elements (dtype=object keeps tuples and dicts as single items)."""
    return np.fromiter(items, dtype=object, count=len(items))


def row_numbers(n: int | None) -> Blocks:
    """The row numbers ``0 .. n - 1`` (None: endless), in blocks of at most ``_ROWS_PER_BLOCK``.

    >>> [len(b) for b in row_numbers(70000)]
    [65536, 4464]
    """
    for start in itertools.count(0, _ROWS_PER_BLOCK):
        if n is not None and start >= n:
            return
        stop = start + _ROWS_PER_BLOCK if n is None else min(start + _ROWS_PER_BLOCK, n)
        yield np.arange(start, stop)


def shard(blocks: Blocks, num_shards: int, index: int) -> Blocks:
    """The items at positions ``index``, ``index + num_shards``, ... of the stream.

    >>> [b.tolist() for b in shard(iter([np.arange(4), np.arange(4, 10)]), 3, 1)]
    [[1], [4, 7]]
    """
    seen = 0
    for block in blocks:
        chosen = block[(index - seen) % num_shards::num_shards]
        seen += len(block)
        if len(chosen):
            yield chosen


def take(blocks: Blocks, n: int) -> Blocks:
    """The first ``n`` items; no block is read past them (a generator source is not asked for one more)."""
    if n <= 0:
        return
    for block in blocks:
        yield block[:n]
        n -= len(block)
        if n <= 0:
            return


def skip(blocks: Blocks, n: int) -> Blocks:
    """Everything after the first ``n`` items."""
    for block in blocks:
        if n >= len(block):
            n -= len(block)
            continue
        yield block[n:]
        n = 0


def repeat(make_blocks: Callable[[], Blocks], count: int | None) -> Blocks:
    """``count`` passes over a fresh stream each (None: forever)."""
    passes = itertools.repeat(None) if count is None else range(count)
    for _ in passes:
        yield from make_blocks()


def rebatch(blocks: Blocks, size: int, drop_remainder: bool) -> Blocks:
    """Blocks of exactly ``size`` items, crossing the boundaries of the blocks that come in; the last may be short."""
    pending: list[np.ndarray] = []
    count = 0
    for block in blocks:
        pending.append(block)
        count += len(block)
        if count < size:
            continue
        merged = np.concatenate(pending) if len(pending) > 1 else block
        full = count - count % size
        yield from (merged[start:start + size] for start in range(0, full, size))
        pending, count = [merged[full:]], count - full
    if count and not drop_remainder:
        yield np.concatenate(pending)


def permute(blocks: Blocks, rng: np.random.Generator) -> Blocks:
    """All items in one block, in a uniformly random order."""
    everything = list(blocks)
    if everything:
        items = np.concatenate(everything)
        yield items[rng.permutation(len(items))]


def buffer_shuffle(blocks: Blocks, buffer_size: int, rng: np.random.Generator) -> Blocks:
    """tf.data's shuffle buffer: fill ``buffer_size`` slots, then for each new item emit a random slot's item and
    put the new one in its place; at the end, emit what is left in random order. Works on endless streams."""
    buffer: list = []
    out: list = []
    dtype = None
    for block in blocks:
        dtype = block.dtype
        slots = rng.integers(buffer_size, size=len(block)).tolist()  # one draw per incoming item, in bulk
        for item, slot in zip(block.tolist(), slots):
            if len(buffer) < buffer_size:
                buffer.append(item)
                continue
            out.append(buffer[slot])
            buffer[slot] = item
            if len(out) == _SHUFFLE_OUTPUT:
                yield np.fromiter(out, dtype, len(out))
                out = []
    rng.shuffle(buffer)
    out.extend(buffer)
    if out:
        yield np.fromiter(out, dtype, len(out))
