"""``tf.data.Dataset.list_files``: the files that match glob patterns, as a dataset of their names (shuffled by
default, in a new order each pass, as tf.data's).

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> for name in ("b.csv", "a.csv", "c.txt"):
...     _ = open(os.path.join(folder, name), "w").write("x")
>>> names = list_files(os.path.join(folder, "*.csv"), shuffle=False)
>>> [os.path.basename(n) for n in names.as_numpy_iterator()]
[b'a.csv', b'b.csv']
"""
from __future__ import annotations

import glob
import os

import numpy as np

from chainrule.data.dataset import Dataset


def matching_files(file_pattern) -> list[str]:
    """The sorted names of the files that match ``file_pattern`` (a pattern or a list of them); none is an error."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes, os.PathLike)) else list(np.asarray(
        file_pattern).ravel().tolist())
    paths = sorted({path for pattern in patterns for path in glob.glob(os.fsdecode(pattern))})
    if not paths:
        raise ValueError(f"No files matched pattern: {file_pattern!r}")
    return paths


def list_files(file_pattern, shuffle: bool | None = None, seed: int | None = None, name: str | None = None) -> Dataset:
    """The names of the files matching ``file_pattern`` as scalar strings; ``shuffle`` (None: True) puts them in a
    random order, another each pass."""
    dataset = Dataset.from_tensor_slices(np.array(matching_files(file_pattern), dtype=str))
    return dataset.shuffle(len(dataset), seed=seed) if shuffle is None or shuffle else dataset


__all__ = ["list_files", "matching_files"]
