"""``tf.data.TextLineDataset``: the lines of text files, one scalar string element per line, file after file.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> _ = open(path, "w").write("first line\\r\\nsecond\\n")
>>> list(TextLineDataset(path).as_numpy_iterator())
[b'first line', b'second']
"""
from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.data.spec import TensorSpec
from chainrule.engine.tensor import Tensor


def _paths(filenames) -> list[str]:
    """The file names as a list of str (a name, a list of names, or a string tensor of them)."""
    array = np.asarray(filenames.numpy() if isinstance(filenames, Tensor) else filenames, dtype=object)
    names = [os.fsdecode(x) if isinstance(x, bytes) else os.fspath(x) for x in array.ravel().tolist()]
    if array.ndim > 1:
        raise ValueError(f"`filenames` must be a string or a 1-D list of strings, got shape {array.shape}")
    return names


def _zlib_lines(path: str) -> Iterator[bytes]:
    with open(path, "rb") as file:
        yield from zlib.decompress(file.read()).splitlines(keepends=True)


def _raw_lines(path: str, compression_type: str) -> Iterator[bytes]:
    """The file's lines as bytes, line endings kept; ``compression_type`` '' (none), 'GZIP' or 'ZLIB'."""
    if compression_type == "":
        with open(path, "rb") as file:
            yield from file
    elif compression_type == "GZIP":
        with gzip.open(path, "rb") as file:
            yield from file
    else:
        yield from _zlib_lines(path)


class TextLineDataset(Dataset):
    """The lines of ``filenames`` in order, each a scalar string without its ``\\n`` or ``\\r\\n`` (TensorFlow's
    TextLineDataset). ``buffer_size`` and ``num_parallel_reads`` are accepted; files are read one after another."""

    def __init__(self, filenames, compression_type: str | None = None, buffer_size: int | None = None,
                 num_parallel_reads: int | None = None, name: str | None = None):
        paths = _paths(filenames)
        compression = "" if compression_type is None else str(compression_type)
        if compression not in ("", "GZIP", "ZLIB"):
            raise ValueError(f"Unsupported compression_type: {compression_type!r} (expected '', 'GZIP' or 'ZLIB')")

        def lines() -> Iterator[str]:
            for path in paths:
                for line in _raw_lines(path, compression):
                    line = line[:-1] if line.endswith(b"\n") else line
                    yield (line[:-1] if line.endswith(b"\r") else line).decode("utf-8")

        source = Dataset.from_generator(lines, output_signature=TensorSpec((), np.str_))
        super().__init__(source._make_blocks, source._cardinality, spec=source._spec)


__all__ = ["TextLineDataset"]
