"""TFRecord files, TensorFlow's record format: ``tf.io.TFRecordWriter`` writes them, ``tf.data.TFRecordDataset``
reads them, optionally GZIP- or ZLIB-compressed (``tf.io.TFRecordOptions``).

The framing (length, masked CRC32C of the length, data, masked CRC32C of the data) is tensorboard's: its
``RecordWriter`` writes records and its ``PyRecordReader_New`` reads and checks them; compression is the standard
library's ``gzip`` and ``zlib`` streams under them.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
>>> with TFRecordWriter(path, "GZIP") as writer:
...     writer.write(b"first")
...     writer.write(b"second")
>>> list(TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator())
[b'first', b'second']
"""
from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator

import numpy as np

from chainrule.backend.string_dtype import STRING
from chainrule.data.dataset import Dataset
from chainrule.data.spec import TensorSpec
from chainrule.data.text_line import _paths
from chainrule.engine.tensor import Tensor
from chainrule.utils.errors import DataLossError, NotFoundError
from chainrule.utils.optional import require_tensorboard

_COMPRESSIONS = ("", "GZIP", "ZLIB")


class TFRecordOptions:
    """How a TFRecord file is compressed: ``compression_type`` '' / None (none), 'GZIP' or 'ZLIB', with zlib's
    ``compression_level`` (0-9, default 6 as TensorFlow's), ``window_bits`` and ``mem_level``; the buffer sizes,
    ``flush_mode`` and ``compression_strategy`` are accepted as TensorFlow's."""

    compression_type_map = {"": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}

    def __init__(self, compression_type: str | None = None, flush_mode=None, input_buffer_size: int | None = None,
                 output_buffer_size: int | None = None, window_bits: int | None = None,
                 compression_level: int | None = None, compression_strategy=None, mem_level: int | None = None):
        self.compression_type = _compression(compression_type, "compression_type")
        self.flush_mode, self.compression_strategy = flush_mode, compression_strategy
        self.input_buffer_size, self.output_buffer_size = input_buffer_size, output_buffer_size
        self.window_bits, self.compression_level, self.mem_level = window_bits, compression_level, mem_level

    @classmethod
    def get_compression_type_string(cls, options) -> str:
        """The compression of ``options`` (a TFRecordOptions, a string or None) as '', 'GZIP' or 'ZLIB'."""
        if isinstance(options, TFRecordOptions):
            return options.compression_type
        return _compression(options, "options")


def _compression(value, argument: str) -> str:
    """'' / 'GZIP' / 'ZLIB' from what TensorFlow accepts for a compression type (None means none)."""
    name = "" if value is None else str(value)
    if name not in _COMPRESSIONS:
        raise ValueError(f"Unsupported {argument}: {value!r}; expected one of '', 'GZIP', 'ZLIB' or None")
    return name


class _ZlibWriteStream(io.RawIOBase):
    """A write-only file whose bytes go through one zlib stream (TensorFlow's ZLIB: zlib header and trailer)."""

    def __init__(self, file, level: int, window_bits: int, mem_level: int):
        self._file, self._compressor = file, zlib.compressobj(level, zlib.DEFLATED, window_bits, mem_level)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._file.write(self._compressor.compress(data))
        return len(data)

    def flush(self) -> None:
        if self._compressor is not None:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
            self._file.flush()

    def close(self) -> None:
        if self._compressor is not None:
            self._file.write(self._compressor.flush(zlib.Z_FINISH))
            self._file.close()
            self._compressor = None  # IOBase.close flushes: nothing is left to flush
        super().close()


class _ZlibReadStream(io.RawIOBase):
    """A read-only file that inflates a zlib stream piece by piece."""

    def __init__(self, path: str, chunk: int = 1 << 16):
        self._file, self._inflater, self._chunk, self._pending = open(path, "rb"), zlib.decompressobj(), chunk, b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._pending) < n) and not self._inflater.eof:
            compressed = self._file.read(self._chunk)
            if not compressed:
                break
            self._pending += self._inflater.decompress(compressed)
        n = len(self._pending) if n < 0 else n
        data, self._pending = self._pending[:n], self._pending[n:]
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


def _record_bytes(record) -> bytes:
    """A record as bytes: bytes, text (UTF-8 encoded) or a scalar string tensor."""
    if isinstance(record, Tensor):
        record = record.numpy()
    if isinstance(record, np.ndarray):
        if record.ndim:
            raise ValueError(f"TFRecordWriter.write expects one record (a scalar string), got shape {record.shape}")
        record = record.item()
    if isinstance(record, str):
        return record.encode("utf-8")
    if isinstance(record, (bytes, bytearray, memoryview)):
        return bytes(record)
    raise TypeError(f"TFRecordWriter.write expects bytes or str, got {type(record).__name__}")


class TFRecordWriter:
    """Writes records (bytes, e.g. ``example.SerializeToString()``) to a TFRecord file at ``path``; ``options`` is
    a ``TFRecordOptions`` or a compression type ('' / None, 'GZIP', 'ZLIB'). Closing it (or leaving its ``with``
    block) ends the file."""

    def __init__(self, path, options=None):
        options = options if isinstance(options, TFRecordOptions) else TFRecordOptions(
            TFRecordOptions.get_compression_type_string(options))
        record_writer = require_tensorboard("record_writer")  # before the file is made
        path = os.fspath(path.numpy().item() if isinstance(path, Tensor) else path)
        level = 6 if options.compression_level in (None, -1) else int(options.compression_level)
        file = open(path, "wb")
        if options.compression_type == "GZIP":
            file = gzip.GzipFile(filename="", mode="wb", fileobj=file, compresslevel=level, mtime=0)
            file.close = _closing_both(file, file.fileobj)
        elif options.compression_type == "ZLIB":
            file = _ZlibWriteStream(file, level, options.window_bits or zlib.MAX_WBITS,
                                    options.mem_level or zlib.DEF_MEM_LEVEL)
        self._writer, self._path = record_writer.RecordWriter(file), path

    def write(self, record) -> None:
        """Append one record."""
        if self._writer.closed:
            raise ValueError(f"TFRecordWriter for {self._path!r} is closed")
        self._writer.write(_record_bytes(record))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        if not self._writer.closed:
            self._writer.close()

    def __enter__(self) -> "TFRecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _closing_both(gzip_file: gzip.GzipFile, raw):
    """GzipFile.close leaves a passed-in file open; the writer owns both, so close the raw file too."""
    close = gzip_file.close

    def close_both() -> None:
        close()
        raw.close()
    return close_both


def _open_reader(path: str, compression: str):
    """tensorboard's checked record reader on ``path``, its file replaced by the decompressing stream."""
    if not os.path.exists(path):
        raise NotFoundError(None, None, f"{path}; No such file or directory")
    reader = require_tensorboard("pywrap_tensorflow").PyRecordReader_New(path)
    if compression:
        reader.file_handle.close()
        reader.file_handle = gzip.open(path, "rb") if compression == "GZIP" else _ZlibReadStream(path)
    return reader


def read_records(path: str, compression_type: str | None = None) -> Iterator[bytes]:
    """The records of one TFRecord file, in order; a corrupt or truncated record raises ``DataLossError``."""
    reader = _open_reader(path, _compression(compression_type, "compression_type"))
    stub_errors = require_tensorboard("errors")
    try:
        while True:
            try:
                reader.GetNext()
            except stub_errors.OutOfRangeError:
                return
            except stub_errors.DataLossError as error:
                raise DataLossError(None, None, f"corrupted record in {path}: {error.message}") from None
            except (OSError, EOFError, zlib.error) as error:
                raise DataLossError(None, None, f"corrupted {compression_type} stream in {path}: {error}") from None
            yield reader.record()
    finally:
        reader.file_handle.close()


class TFRecordDataset(Dataset):
    """The records of the TFRecord files ``filenames`` (a name, a list of names, a string tensor or a Dataset of
    names), file after file, each a scalar string (bytes). ``compression_type`` is '' / None, 'GZIP' or 'ZLIB'; ``buffer_size`` and
    ``num_parallel_reads`` are accepted as TensorFlow's (files are read one after another, in order)."""

    def __init__(self, filenames, compression_type: str | None = None, buffer_size: int | None = None,
                 num_parallel_reads: int | None = None, name: str | None = None):
        names = filenames if isinstance(filenames, Dataset) else None  # a dataset of names is read as it goes
        paths = None if names is not None else _paths(filenames)
        compression = _compression(compression_type, "compression_type")
        if buffer_size is not None and int(buffer_size) < 0:
            raise ValueError(f"`buffer_size` must be >= 0, got {buffer_size}")

        def records() -> Iterator[bytes]:
            for path in paths if names is None else (p for name in names for p in _paths(name)):
                for record in read_records(path, compression):
                    yield np.array(record, dtype=object)  # not NumPy bytes_, which drops trailing NUL bytes

        source = Dataset.from_generator(records, output_signature=TensorSpec((), np.object_))
        super().__init__(source._make_blocks, source._cardinality, spec=TensorSpec((), STRING))


__all__ = ["TFRecordDataset", "TFRecordOptions", "TFRecordWriter", "read_records"]
