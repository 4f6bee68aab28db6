"""CSV in tf.data: ``tf.io.decode_csv`` (records of text into columns), ``tf.data.experimental.CsvDataset`` (the rows
of CSV files, one tuple of scalars each) and ``tf.data.experimental.make_csv_dataset`` (batches of named columns,
their types read from the first rows, with an optional label column).

A column's type is that of its entry in ``record_defaults``: Python ``int`` int32, ``float`` float32, ``str`` (or
bytes) tf.string, an array or tensor its own dtype; an empty list or a 0-size tensor makes the column required (an
empty field is an error instead of the default). Fields are parsed as Python's ``csv`` module does, with quotes
(``use_quote_delim``) and ``na_value`` read as missing.

>>> import chainrule as tf
>>> age, name = tf.io.decode_csv(["3,ann", ',"b,c"'], record_defaults=[0, "?"])
>>> age.numpy().tolist(), name.numpy().tolist()
([3, 0], [b'ann', b'b,c'])
"""
from __future__ import annotations

import collections
import csv
from collections.abc import Iterator, Sequence

import numpy as np

from chainrule import backend
from chainrule.backend.string_dtype import StringDType
from chainrule.data.dataset import Dataset
from chainrule.data.file_patterns import matching_files
from chainrule.data.spec import TensorSpec
from chainrule.data.text_line import _paths, _raw_lines
from chainrule.engine.tensor import Tensor

_INT32 = np.iinfo(np.int32)


_COLUMN_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, str))


def _is_dtype(value) -> bool:
    """Whether a record default is a dtype (tf.int32, tf.string, np.float32, 'float32' is not: that is text)."""
    return isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)) or \
        isinstance(value, StringDType)


class _Column:
    """One column's dtype, default value (None: required) and parser."""

    def __init__(self, default, index: int):
        self.index = index
        if _is_dtype(default):  # a dtype instead of a default: a required column of that type, as TensorFlow reads it
            self.dtype = np.dtype(str) if backend.numpy_dtype(default).kind in "USO" else \
                backend.numpy_dtype(default)
            if self.dtype.kind == "b" or self.dtype not in _COLUMN_DTYPES:
                raise TypeError(f"record_defaults[{index}]: a column is float32, float64, int32, int64 or string, "
                                f"got {default!r}")
            self.default = None
            return
        value = np.asarray(default.numpy() if isinstance(default, Tensor) else default)
        if isinstance(default, bool) or value.dtype.kind == "b":
            raise TypeError(f"record_defaults[{index}]: a column is float32, float64, int32, int64 or string, not "
                            f"bool")
        if isinstance(default, (bytes, str)) or value.dtype.kind in "USO":
            self.dtype = np.dtype(str)
        elif isinstance(default, int):
            self.dtype = np.dtype(np.int32)
        elif isinstance(default, float):
            self.dtype = np.dtype(np.float32)
        elif value.dtype.kind in "iuf" and isinstance(default, (np.ndarray, np.generic, Tensor)):
            self.dtype = value.dtype
        elif value.dtype.kind in "iuf":  # Python numbers in a list: float32 and int32, as TensorFlow converts them
            self.dtype = np.dtype(np.float32 if value.dtype.kind == "f" else np.int32)
        else:
            raise TypeError(f"record_defaults[{index}]: expected a number, a string or an empty list, got "
                            f"{default!r}")
        if value.size > 1:
            raise ValueError(f"record_defaults[{index}]: a column's default is one value (or none: required), got "
                             f"{value.size}")
        item = value.reshape(-1)[0].item() if value.size else None
        self.default = item.decode("utf-8") if isinstance(item, bytes) else item

    def parse(self, field: str, na_value: str, record: str):
        if field == "" or field == na_value:
            if self.default is None:
                raise ValueError(f"Field {self.index} is required but missing in record: {record!r}")
            return self.default
        if self.dtype.kind == "U":
            return field
        try:
            return int(field) if self.dtype.kind in "iu" else float(field)
        except ValueError:
            raise ValueError(f"Field {self.index} in record is not a valid {self.dtype.name}: {field!r}") from None


def _columns(record_defaults: Sequence) -> list[_Column]:
    if not isinstance(record_defaults, (list, tuple)) or not record_defaults:
        raise ValueError(f"`record_defaults` must be a non-empty list of one default per column, got "
                         f"{record_defaults!r}")
    return [_Column(default, i) for i, default in enumerate(record_defaults)]


def _split(record: str, field_delim: str, use_quote_delim: bool) -> list[str]:
    quoting = csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE
    return next(csv.reader([record], delimiter=field_delim, quoting=quoting), [""])


def _fields(record: str, columns: list[_Column], field_delim: str, use_quote_delim: bool, na_value: str,
            select_cols) -> list:
    """The parsed values of one record's columns (``select_cols``: the indices of the columns kept)."""
    fields = _split(record, field_delim, use_quote_delim)
    if select_cols is not None:
        if max(select_cols) >= len(fields):
            raise ValueError(f"Expect at least {max(select_cols) + 1} fields but have {len(fields)} in record: "
                             f"{record!r}")
        fields = [fields[i] for i in select_cols]
    if len(fields) != len(columns):
        raise ValueError(f"Expect {len(columns)} fields but have {len(fields)} in record: {record!r}")
    return [column.parse(field, na_value, record) for column, field in zip(columns, fields)]


def _check_select_cols(select_cols, count: int):
    if select_cols is None:
        return None
    cols = [int(i) for i in select_cols]
    if cols != sorted(set(cols)) or cols[0] < 0:
        raise ValueError(f"`select_cols` must be non-negative and strictly increasing, got {list(select_cols)}")
    if len(cols) != count:
        raise ValueError(f"`record_defaults` has {count} columns but `select_cols` selects {len(cols)}")
    return cols


def decode_csv(records, record_defaults: Sequence, field_delim: str = ",", use_quote_delim: bool = True,
               name=None, na_value: str = "", select_cols=None) -> list[Tensor]:
    """``tf.io.decode_csv``: each record (a string tensor of any shape) split into fields; a list with one tensor per
    column, of the records' shape and the column's type."""
    columns = _columns(record_defaults)
    select_cols = _check_select_cols(select_cols, len(columns))
    array = np.asarray(records)
    texts = [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in array.reshape(-1).tolist()]
    rows = [_fields(text, columns, field_delim, use_quote_delim, na_value, select_cols) for text in texts]
    return [Tensor._wrap(backend.xp.asarray(np.array([row[i] for row in rows], dtype=column.dtype)
                                            .reshape(array.shape)))
            for i, column in enumerate(columns)]


def _records(paths: list[str], header: bool, compression: str) -> Iterator[str]:
    """The lines of the files in order, each file's first line left out when ``header``; empty lines skipped."""
    for path in paths:
        lines = _raw_lines(path, compression)
        if header:
            next(lines, None)
        for line in lines:
            text = line.decode("utf-8").rstrip("\r\n")
            if text:
                yield text


def _compression(compression_type) -> str:
    compression = "" if compression_type is None else str(compression_type)
    if compression not in ("", "GZIP", "ZLIB"):
        raise ValueError(f"Unsupported compression_type: {compression_type!r} (expected '', 'GZIP' or 'ZLIB')")
    return compression


class CsvDataset(Dataset):
    """``tf.data.experimental.CsvDataset``: the rows of CSV ``filenames`` (read in order, each one's header line
    skipped with ``header=True``), each a tuple of scalars typed by ``record_defaults``. ``select_cols`` or
    ``exclude_cols`` (column indices) keep some columns; ``buffer_size`` is accepted."""

    def __init__(self, filenames, record_defaults: Sequence, compression_type=None, buffer_size=None,
                 header: bool = False, field_delim: str = ",", use_quote_delim: bool = True, na_value: str = "",
                 select_cols=None, exclude_cols=None, name=None):
        if select_cols is not None and exclude_cols is not None:
            raise ValueError("Either select_cols or exclude_cols should be empty")
        paths, compression = _paths(filenames), _compression(compression_type)
        columns = _columns(record_defaults)
        if exclude_cols is not None:
            excluded = {int(i) for i in exclude_cols}
            select_cols = [i for i in range(len(columns) + len(excluded)) if i not in excluded]
        select_cols = _check_select_cols(select_cols, len(columns))

        def rows() -> Iterator[tuple]:
            for record in _records(paths, header, compression):
                yield tuple(_fields(record, columns, field_delim, use_quote_delim, na_value, select_cols))

        signature = tuple(TensorSpec((), column.dtype) for column in columns)
        source = Dataset.from_generator(rows, output_signature=signature)
        super().__init__(source._make_blocks, source._cardinality, spec=source._spec)


def _infer_default(values: list[str]):
    """The default (so the type) of a column whose first fields are ``values``: int32 (int64 when a value does not
    fit), float32, or string, as make_csv_dataset infers them."""
    present = [v for v in values if v != ""]
    try:
        numbers = [int(v) for v in present]
        return 0 if all(_INT32.min <= n <= _INT32.max for n in numbers) else np.int64(0)
    except ValueError:
        pass
    try:
        [float(v) for v in present]
        return 0.0
    except ValueError:
        return ""


def make_csv_dataset(file_pattern, batch_size: int, column_names=None, column_defaults=None, label_name=None,
                     select_columns=None, field_delim: str = ",", use_quote_delim: bool = True, na_value: str = "",
                     header: bool = True, num_epochs=None, shuffle: bool = True, shuffle_buffer_size: int = 10000,
                     shuffle_seed=None, prefetch_buffer_size=None, num_parallel_reads=None, sloppy: bool = False,
                     num_rows_for_inference: int = 100, compression_type=None, ignore_errors: bool = False,
                     encoding: str = "utf-8") -> Dataset:
    """``tf.data.experimental.make_csv_dataset``: batches of the rows of the files matching ``file_pattern`` as an
    ordered dict ``{column name: column batch}`` (with ``label_name``: ``(features, label batch)``). Names come from
    the header line unless given, types from ``column_defaults`` or the first ``num_rows_for_inference`` rows.
    ``num_epochs=None`` repeats without end; ``shuffle`` shuffles rows in a buffer of ``shuffle_buffer_size``;
    ``ignore_errors`` leaves out the rows that do not parse."""
    paths, compression = matching_files(file_pattern), _compression(compression_type)
    if encoding.lower().replace("-", "") != "utf8":
        raise ValueError(f"make_csv_dataset reads UTF-8 files, got encoding={encoding!r}")
    first = list(_records(paths[:1], False, compression))
    if column_names is None:
        if not header or not first:
            raise ValueError("Cannot infer column names without a header line: pass `column_names`")
        column_names = _split(first[0], field_delim, use_quote_delim)
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise ValueError(f"Cannot have duplicate column names: {column_names}")
    if select_columns is not None:
        indices = [c if isinstance(c, int) else column_names.index(c) if c in column_names else -1
                   for c in select_columns]
        if -1 in indices:
            raise ValueError(f"`select_columns` {list(select_columns)} names columns that are not among "
                             f"{column_names}")
        indices = sorted(indices)
    else:
        indices = list(range(len(column_names)))
    names = [column_names[i] for i in indices]
    if label_name is not None and label_name not in names:
        raise ValueError(f"`label_name` provided must be one of the columns: {names}. Received: {label_name!r}")
    if column_defaults is None:
        sample = [_split(line, field_delim, use_quote_delim) for line in first[int(header):][:num_rows_for_inference]]
        column_defaults = [_infer_default([row[i] if i < len(row) else "" for row in sample]) for i in indices]
    elif len(column_defaults) != len(names):
        raise ValueError(f"`column_defaults` has {len(column_defaults)} entries for {len(names)} columns")
    columns = _columns(list(column_defaults))
    select_cols = indices if select_columns is not None else None

    def rows() -> Iterator[tuple]:
        for record in _records(paths, header, compression):
            try:
                yield tuple(_fields(record, columns, field_delim, use_quote_delim, na_value, select_cols))
            except ValueError:
                if not ignore_errors:
                    raise

    signature = tuple(TensorSpec((), column.dtype) for column in columns)
    dataset = Dataset.from_generator(rows, output_signature=signature)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    dataset = dataset.repeat(num_epochs) if num_epochs != 1 else dataset

    def named(*values):
        features = collections.OrderedDict(zip(names, values))
        return features if label_name is None else (features, features.pop(label_name))

    return dataset.batch(batch_size).map(named)


__all__ = ["CsvDataset", "decode_csv", "make_csv_dataset"]
