"""``tf.keras.preprocessing.sequence.TimeseriesGenerator``: batches of windows over a timeseries, each with the target
of the step that follows it, as a PyDataset (keras.utils.Sequence) that fit/evaluate/predict take. Keras 3 dropped it
for ``keras.utils.timeseries_dataset_from_array``; tf.keras programs still use it.

>>> import numpy as np
>>> data = np.arange(10).reshape(10, 1)
>>> windows = TimeseriesGenerator(data, np.arange(10), length=2, batch_size=3)
>>> len(windows)
3
>>> x, y = windows[0]
>>> x[:, :, 0].tolist(), y.tolist()
([[0, 1], [1, 2], [2, 3]], [2, 3, 4])
"""
from __future__ import annotations

import json

import numpy as np

from chainrule.keras.utils.py_dataset import PyDataset


class TimeseriesGenerator(PyDataset):
    """Windows of ``length`` steps (every ``sampling_rate``-th), one per ``stride`` steps from ``start_index +
    length`` to ``end_index``, with ``targets[row]`` for the window ending before ``row``; ``shuffle`` draws rows at
    random, ``reverse`` gives each window in reverse order (tf.keras's arguments, defaults and errors)."""

    def __init__(self, data, targets, length: int, sampling_rate: int = 1, stride: int = 1, start_index: int = 0,
                 end_index: int | None = None, shuffle: bool = False, reverse: bool = False, batch_size: int = 128):
        super().__init__()
        if len(data) != len(targets):
            raise ValueError(f"Data and targets have to be of same length. Data length is {len(data)} while target "
                             f"length is {len(targets)}")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index={self.end_index}` is disallowed, as "
                             f"no part of the sequence would be left to be used as current step.")

    def __len__(self) -> int:
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index: int):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...] if self.reverse else samples), targets

    def get_config(self) -> dict:
        """The arguments, the data and targets as lists (tf.keras's config)."""
        listed = lambda values: np.asarray(values).tolist()  # noqa: E731
        return {"data": listed(self.data), "targets": listed(self.targets), "length": self.length,
                "sampling_rate": self.sampling_rate, "stride": self.stride,
                "start_index": self.start_index - self.length, "end_index": self.end_index,
                "shuffle": self.shuffle, "reverse": self.reverse, "batch_size": self.batch_size}

    def to_json(self, **kwargs) -> str:
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


__all__ = ["TimeseriesGenerator"]
