"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a timeseries as a batched Dataset.

Windows are gathered a batch at a time from the start positions (never all materialised), so a long series with long
windows costs memory for one batch only; the arguments, their checks and the order of windows are Keras 3's.

>>> import numpy as np
>>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10, sequence_length=3, batch_size=4)
>>> x, y = next(iter(ds))
>>> x.numpy().tolist(), y.numpy().tolist()
([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 10, 20, 30])
"""
from __future__ import annotations

import numpy as np

from chainrule.data import Dataset


def _check_arguments(n: int, sequence_length: int, sequence_stride: int, sampling_rate: int, start_index,
                     end_index) -> None:
    """Keras's checks on the window arguments, with its messages."""
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: start_index={start_index}, "
                             f"and end_index={end_index}")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: {name}={value}, "
                             f"for data of length {n}")
    if sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be higher than 0. Received: sequence_length={sequence_length}")


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> Dataset:
    """A Dataset of windows ``data[p], data[p + r], ..., data[p + (sequence_length - 1) * r]`` (r the
    ``sampling_rate``) for start positions ``p`` every ``sequence_stride`` steps, with ``targets[p]`` when
    ``targets`` is given (batches of ``(windows, targets)``, else of windows); only ``data[start_index:end_index]``
    is used. ``shuffle`` draws the windows in a random order (``seed`` fixes it); ``batch_size=None`` yields single
    windows."""
    data = data.numpy() if hasattr(data, "numpy") else np.asarray(data)
    if targets is not None:
        targets = targets.numpy() if hasattr(targets, "numpy") else np.asarray(targets)
    _check_arguments(len(data), sequence_length, sequence_stride, sampling_rate, start_index, end_index)
    start_index = 0 if start_index is None else start_index
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    start_positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(start_positions)
    steps = data[start_index:end_index]
    labels = None if targets is None else targets[start_index:end_index]
    offsets = np.arange(sequence_length) * sampling_rate

    def windows(positions):
        positions = positions.numpy()
        gathered = steps[positions[..., None] + offsets]
        return gathered if labels is None else (gathered, labels[positions])

    dataset = Dataset.from_tensor_slices(start_positions)
    if batch_size is None:
        return dataset.map(windows)
    return dataset.batch(batch_size).map(windows)


__all__ = ["timeseries_dataset_from_array"]
