"""``tf.summary``: write scalars, histograms, images and text into TensorBoard event files, as TensorFlow 2 does.

A writer made by :func:`create_file_writer` becomes the default inside ``with writer.as_default():``; the summary
functions write to the default writer at ``step`` (or the step of ``as_default(step)`` /
``experimental.set_step``) and return whether they wrote. The files are written with tensorboardX (``pip install
'chainrule[tensorboard]'``), the writer behind ``keras.callbacks.TensorBoard`` too.

>>> import chainrule as tf
>>> writer = tf.summary.create_file_writer("logs/run1")        # doctest: +SKIP
>>> with writer.as_default(step=0):                            # doctest: +SKIP
...     tf.summary.scalar("loss", 0.25)
True
>>> tf.summary.scalar("loss", 0.25, step=1)  # no default writer: nothing written
False
"""
from __future__ import annotations

import contextlib
import os
import types
from typing import Iterator

import numpy as np

from chainrule.keras.callbacks.tensorboard import EventWriter

_default: list["SummaryWriter"] = []  # the writers made default, innermost last
_step: list[int | None] = [None]
_record: list = [True]


class SummaryWriter:
    """A writer of one event file (``tf.summary.create_file_writer``'s result)."""

    def __init__(self, logdir: str | os.PathLike, max_queue: int | None = None, flush_millis: int | None = None,
                 filename_suffix: str | None = None):
        self._events = EventWriter(logdir, filename_suffix=filename_suffix or "")  # (written at once: no queue)
        self._closed = False

    @contextlib.contextmanager
    def as_default(self, step: int | None = None) -> Iterator["SummaryWriter"]:
        """Make this the default writer (and ``step`` the default step, when given) inside the ``with``."""
        _default.append(self)
        if step is not None:
            _step.append(int(np.asarray(getattr(step, "data", step))))
        try:
            yield self
        finally:
            if step is not None:
                _step.pop()
            _default.remove(self)
            self.flush()

    def set_as_default(self, step: int | None = None) -> None:
        """Make this the default writer from now on (``as_default`` without the ``with``)."""
        _default.append(self)
        if step is not None:
            experimental.set_step(step)

    def flush(self) -> None:
        if not self._closed:
            self._events.flush()

    def close(self) -> None:
        if not self._closed:
            self._events.close()
            self._closed = True


def create_file_writer(logdir: str | os.PathLike, max_queue: int | None = None, flush_millis: int | None = None,
                       filename_suffix: str | None = None, name: str | None = None,
                       experimental_trackable: bool = False) -> SummaryWriter:
    """A writer of a new event file in ``logdir`` (made if missing)."""
    return SummaryWriter(logdir, max_queue, flush_millis, filename_suffix)


def scalar(name: str, data, step: int | None = None, description: str | None = None) -> bool:
    """Write a single number; False when there is no default writer (or recording is off)."""
    return _write(lambda w, s: w.scalar(name, _numpy(data), s), step)


def histogram(name: str, data, step: int | None = None, buckets: int | None = None,
              description: str | None = None) -> bool:
    """Write the histogram of all values of ``data`` in ``buckets`` equal bins (default 30, as TensorFlow)."""
    return _write(lambda w, s: w.histogram(name, _numpy(data), s, buckets), step)


def image(name: str, data, step: int | None = None, max_outputs: int = 3, description: str | None = None) -> bool:
    """Write up to ``max_outputs`` images of ``data`` (count, height, width, channels), floats in [0, 1] or uint8."""
    images = _numpy(data)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"tf.summary.image: data must be [k, h, w, c] with c in 1, 3 or 4, got shape {images.shape}")
    images = images[:max_outputs]
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    return _write(lambda w, s: w.image(name, images, s), step)


def text(name: str, data, step: int | None = None, description: str | None = None) -> bool:
    """Write a string (Markdown, as TensorBoard shows it)."""
    value = _numpy(data)
    value = value.item() if value.size == 1 else value
    value = value.decode() if isinstance(value, bytes) else value
    return _write(lambda w, s: w.text(name, str(value), s), step)


def flush(writer: SummaryWriter | None = None, name: str | None = None) -> None:
    """Flush ``writer`` (default: the default writer) to disk."""
    writer = writer or (_default[-1] if _default else None)
    if writer is not None:
        writer.flush()


@contextlib.contextmanager
def record_if(condition) -> Iterator[None]:
    """Write summaries only while ``condition`` (a bool, or a callable returning one) holds."""
    _record.append(condition)
    try:
        yield
    finally:
        _record.pop()


def _get_step() -> int | None:
    return _step[-1]


def _set_step(step) -> None:
    _step[-1] = None if step is None else int(np.asarray(getattr(step, "data", step)))


experimental = types.SimpleNamespace(get_step=_get_step, set_step=_set_step)


def _write(write, step) -> bool:
    if not _default:
        return False
    condition = _record[-1]
    if not (condition() if callable(condition) else condition):
        return False
    step = _get_step() if step is None else int(np.asarray(getattr(step, "data", step)))
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument or through "
                         "tf.summary.experimental.set_step()")
    write(_default[-1]._events, step)
    return True


def _numpy(data) -> np.ndarray:
    return np.asarray(data.numpy() if hasattr(data, "numpy") else data)
