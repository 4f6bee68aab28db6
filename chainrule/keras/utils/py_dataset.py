"""``keras.utils.PyDataset`` (Keras 3) and its TF 2 name ``keras.utils.Sequence``: a dataset written in Python, one
batch per index.

A subclass returns batch ``index`` from ``__getitem__`` (``x``, ``(x, y)`` or ``(x, y, sample_weight)``) and the
number of batches from ``__len__`` (or the ``num_batches`` property; None there means endless). ``fit``,
``evaluate`` and ``predict`` take it as ``x``: each epoch asks for every batch once (in a new random order per
epoch with ``fit(shuffle=True)``), and calls ``on_epoch_begin()`` before and ``on_epoch_end()`` after.

``workers`` above 1 (or ``use_multiprocessing=True``) has ``fit`` fetch up to ``max_queue_size`` batches ahead on
that many threads, in order, as Keras does with a thread pool; ``use_multiprocessing`` runs them on threads too,
which helps where ``__getitem__`` waits or leaves Python (files, image decoding, large NumPy work).

>>> import numpy as np
>>> class Squares(PyDataset):
...     def __init__(self, **kwargs):
...         super().__init__(**kwargs)
...     def __len__(self):
...         return 2
...     def __getitem__(self, index):
...         x = np.arange(3.0) + 3 * index
...         return x, x ** 2
>>> [y.tolist() for _, y in Squares()]
[[0.0, 1.0, 4.0], [9.0, 16.0, 25.0]]
"""
from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator


class PyDataset:
    """Base class of a dataset written in Python: see the module's docstring."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, name)]
        if not missing:
            return
        self._workers = getattr(self, "_workers", 1)
        self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
        self._max_queue_size = getattr(self, "_max_queue_size", 10)
        warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                      "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass these "
                      "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int):
        """Batch ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) to return a batch")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (None: endless); ``len(self)`` unless a subclass says otherwise."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self) -> Iterator:
        """The batches in order (endless when ``num_batches`` is None or not defined)."""
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in (range(count) if count is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called before each epoch."""

    def on_epoch_end(self) -> None:
        """Called after each epoch (shuffle the data here, for example)."""


Sequence = PyDataset  # tf.keras.utils.Sequence: the same class in Keras 3
