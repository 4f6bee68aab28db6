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


def take(blocks: Blocks, n: int) -> Blocks:
    """The first ``n`` items."""
    for block in blocks:
        if n <= 0:
            return
        yield block[:n]
        n -= len(block)


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
