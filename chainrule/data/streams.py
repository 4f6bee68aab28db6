"""Element streams that tf.data defines by an order rather than a formula: ``interleave``'s cycle and ``window``'s
sliding windows.

>>> [x for x in interleave(iter("ab"), lambda c: iter(c * 3), cycle_length=2, block_length=2)]
['a', 'a', 'b', 'b', 'a', 'b']
>>> list(windows(iter(range(5)), size=2, shift=2, stride=1, drop_remainder=False))
[[0, 1], [2, 3], [4]]
"""
from __future__ import annotations

import collections
from collections.abc import Callable, Iterator


def interleave(inputs: Iterator, open_element: Callable[..., Iterator], cycle_length: int,
               block_length: int) -> Iterator:
    """TensorFlow's interleave order: up to ``cycle_length`` input elements are open at once; visit them in turn,
    taking ``block_length`` items from each; an exhausted one is closed (the visit moves on) and its slot takes the
    next input element when the cycle comes back to it."""
    open_items: list[Iterator | None] = [None] * cycle_length
    open_count, slot, taken, inputs_left = 0, 0, 0, True
    try:
        while inputs_left or open_count:
            current = open_items[slot]
            if current is not None:
                try:
                    item = next(current)
                except StopIteration:
                    _close(current)
                    open_items[slot], open_count = None, open_count - 1
                    slot, taken = (slot + 1) % cycle_length, 0
                    continue
                yield item
                taken += 1
                if taken == block_length:
                    slot, taken = (slot + 1) % cycle_length, 0
            elif inputs_left:
                try:
                    element = next(inputs)
                except StopIteration:
                    inputs_left = False
                    continue
                open_items[slot], open_count = open_element(element), open_count + 1
            else:
                slot, taken = (slot + 1) % cycle_length, 0
    finally:
        for current in open_items:  # stopped early: the open elements stop their threads, if any
            if current is not None:
                _close(current)


def _close(iterator: Iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def windows(elements: Iterator, size: int, shift: int, stride: int, drop_remainder: bool) -> Iterator[list]:
    """Window ``k`` holds the elements at positions ``k * shift + i * stride`` for ``i < size``; windows keep
    coming, shorter, until one would be empty (or, with ``drop_remainder``, until one would be short)."""
    span = (size - 1) * stride + 1
    held: collections.deque = collections.deque()  # held[j] is the element at position first + j
    first, start, exhausted = 0, 0, False
    while True:
        while held and first < start:  # elements before this window are not needed again
            held.popleft()
            first += 1
        while not exhausted and first + len(held) < start + span:
            try:
                element = next(elements)
            except StopIteration:
                exhausted = True
                break
            if first + len(held) < start:  # a gap between windows (shift > span)
                first += 1
            else:
                held.append(element)
        window = [held[p] for p in range(start - first, start - first + span, stride) if p < len(held)]
        if not window or (drop_remainder and len(window) < size):
            return
        yield window
        start += shift
