"""Ctrl-C held back while a few lines must finish together (a checkpoint's files, a run's record): the interrupt is
raised, as a KeyboardInterrupt, right after the block instead of in the middle of it.

>>> import os, signal
>>> done = []
>>> try:
...     with deferred_interrupts():
...         os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the block runs
...         done.append("the block finished")
... except KeyboardInterrupt:
...     done.append("then the interrupt")
>>> done
['the block finished', 'then the interrupt']
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT until the block ends, then raise KeyboardInterrupt (once, however many came). Only the main
    thread receives signals in Python, so elsewhere, or when SIGINT has a handler of the program's own, the block
    runs as it is."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt
