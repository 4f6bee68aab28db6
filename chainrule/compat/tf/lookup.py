"""``tf.lookup``: fixed key-to-value tables, as TensorFlow's ``StaticHashTable`` and ``StaticVocabularyTable``, filled
by a ``KeyValueTensorInitializer`` or a ``TextFileInitializer``. A table maps a tensor of keys (text or integers, any
shape) to a tensor of values of the same shape; keys it does not hold get the default value (``StaticHashTable``) or
one of ``num_oov_buckets`` extra ids picked by TensorFlow's string hash (``StaticVocabularyTable``).

>>> import chainrule as tf
>>> table = tf.lookup.StaticHashTable(
...     tf.lookup.KeyValueTensorInitializer(["emerson", "lake", "palmer"], [0, 1, 2]), default_value=-1)
>>> table.lookup(tf.constant(["emerson", "lake", "tarkus"])).numpy()
array([ 0,  1, -1], dtype=int32)
>>> int(table.size())
3
"""
from __future__ import annotations

import numpy as np

from chainrule.compat.tf import dtypes
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.preprocessing.hash_functions import hash_bucket


def _array(values, dtype, what: str) -> np.ndarray:
    """``values`` as a NumPy array of ``dtype`` (a TensorFlow or NumPy dtype; None: inferred as tf.constant does)."""
    array = np.asarray(values.numpy() if isinstance(values, Tensor) else values)
    if array.dtype.kind in "OSU":
        array = np.asarray(values) if isinstance(values, Tensor) else array  # a text tensor's str array underneath
        array = np.char.decode(array, "utf-8") if array.dtype.kind == "S" else array.astype(str)
    elif dtype is None and array.dtype == np.int64 and not isinstance(values, (Tensor, np.ndarray)):
        array = array.astype(np.int32)  # Python ints: int32, as tf.constant
    elif dtype is None and array.dtype == np.float64 and not isinstance(values, (Tensor, np.ndarray)):
        array = array.astype(np.float32)
    if dtype is None:
        return array
    dtype = dtypes.as_dtype(dtype)
    if (dtype == dtypes.string) != (array.dtype.kind == "U"):
        raise TypeError(f"{what}: expected {dtype!r} values, got {dtypes.as_dtype(array.dtype)!r}")
    return array if dtype == dtypes.string else array.astype(np.dtype(dtype))


def _dtype_of(array: np.ndarray):
    return dtypes.as_dtype(array.dtype)


class _Initializer:
    """What a table reads from its initializer: the keys and values, as two 1-D arrays, and their dtypes."""

    _keys: np.ndarray
    _values: np.ndarray

    @property
    def key_dtype(self):
        return _dtype_of(self._keys)

    @property
    def value_dtype(self):
        return _dtype_of(self._values)

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self._keys, self._values


class KeyValueTensorInitializer(_Initializer):
    """The keys and values of a table, given as two 1-D lists or tensors of the same length."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name: str | None = None):
        self._keys = _array(keys, key_dtype, "KeyValueTensorInitializer keys")
        self._values = _array(values, value_dtype, "KeyValueTensorInitializer values")
        if self._keys.ndim != 1 or self._values.shape != self._keys.shape:
            raise ValueError(f"KeyValueTensorInitializer: keys and values must be 1-D of the same length, got "
                             f"shapes {self._keys.shape} and {self._values.shape}")
        self._name = name or "key_value_init"


class TextFileIndex:
    """Which part of a line a :class:`TextFileInitializer` takes: the whole line, or its line number."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class TextFileInitializer(_Initializer):
    """Keys and values read from a text file, one entry a line: ``key_index``/``value_index`` pick a column (split
    by ``delimiter``), the whole line (``TextFileIndex.WHOLE_LINE``) or the line number (``LINE_NUMBER``)."""

    def __init__(self, filename, key_dtype, key_index: int, value_dtype, value_index: int,
                 vocab_size: int | None = None, delimiter: str = "\t", name: str | None = None,
                 value_index_offset: int = 0):
        for what, index in (("key_index", key_index), ("value_index", value_index)):
            if index < TextFileIndex.WHOLE_LINE:
                raise ValueError(f"TextFileInitializer: invalid {what} {index}; use a column (>= 0), "
                                 f"TextFileIndex.WHOLE_LINE (-2) or TextFileIndex.LINE_NUMBER (-1)")
        if key_index == TextFileIndex.LINE_NUMBER and dtypes.as_dtype(key_dtype).kind not in "iu":
            raise ValueError(f"TextFileInitializer: key_dtype must be an integer dtype with "
                             f"key_index=LINE_NUMBER, got {dtypes.as_dtype(key_dtype)!r}")
        with open(filename if isinstance(filename, str) else np.asarray(filename).item(), encoding="utf-8") as f:
            lines = f.read().splitlines()
        if vocab_size is not None:
            if len(lines) < vocab_size:
                raise ValueError(f"TextFileInitializer: vocab_size={vocab_size} but {filename!r} has only "
                                 f"{len(lines)} lines")
            lines = lines[:vocab_size]
        self._keys = self._column(lines, key_index, key_dtype, delimiter, filename, "key")
        self._values = self._column(lines, value_index, value_dtype, delimiter, filename, "value")
        if value_index == TextFileIndex.LINE_NUMBER:
            self._values = self._values + value_index_offset
        self._name = name or "text_file_init"

    @staticmethod
    def _column(lines: list, index: int, dtype, delimiter: str, filename, what: str) -> np.ndarray:
        if index == TextFileIndex.LINE_NUMBER:
            return _array(np.arange(len(lines)), dtype, f"TextFileInitializer {what}s")
        if index == TextFileIndex.WHOLE_LINE:
            fields = lines
        else:
            fields = []
            for number, line in enumerate(lines):
                columns = line.split(delimiter)
                if index >= len(columns):
                    raise ValueError(f"TextFileInitializer: line {number} of {filename!r} has {len(columns)} "
                                     f"columns, fewer than {what}_index={index} needs")
                fields.append(columns[index])
        dtype = dtypes.as_dtype(dtype)
        if dtype == dtypes.string:
            return np.asarray(fields, dtype=str)
        return np.asarray([int(x) if dtype.kind in "iu" else float(x) for x in fields], dtype=np.dtype(dtype))


class _Table:
    """What the static tables share: the key dtype check, the dict, size, export and ``table[keys]``."""

    def __init__(self, initializer, name: str | None):
        if not isinstance(initializer, _Initializer):
            raise TypeError(f"{type(self).__name__}: initializer must be a tf.lookup.KeyValueTensorInitializer or "
                            f"TextFileInitializer, got {type(initializer).__name__}")
        self._initializer = initializer
        self._keys, self._values = initializer._pairs()
        self._index = {key: i for i, key in enumerate(self._keys.tolist())}
        self._name = name

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def key_dtype(self):
        return self._initializer.key_dtype

    def _key_array(self, keys) -> np.ndarray:
        """The keys as an array of the table's key dtype; a tensor of another dtype is refused, as TensorFlow."""
        if isinstance(keys, Tensor) and dtypes.as_dtype(keys.dtype) != self.key_dtype:
            raise TypeError(f"Signature mismatch. Keys must be dtype {self.key_dtype!r}, got "
                            f"{dtypes.as_dtype(keys.dtype)!r}.")
        return _array(keys, self.key_dtype, f"{type(self).__name__}.lookup keys")

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row in the table, -1 for keys it does not hold."""
        flat = keys.ravel().tolist()
        return np.fromiter((self._index.get(k, -1) for k in flat), dtype=np.int64, count=len(flat)).reshape(keys.shape)

    def size(self) -> Tensor:
        return Tensor._wrap(np.asarray(len(self._keys), dtype=np.int64))

    def export(self) -> tuple[Tensor, Tensor]:
        """The table's keys and values, as two 1-D tensors."""
        return Tensor._wrap(self._keys.copy()), Tensor._wrap(self._values.copy())

    def __getitem__(self, keys) -> Tensor:
        return self.lookup(keys)

    def __len__(self) -> int:
        return len(self._keys)


class StaticHashTable(_Table):
    """A fixed table: ``lookup(keys)`` gives each key's value, ``default_value`` for keys it does not hold."""

    def __init__(self, initializer, default_value, name: str | None = None, experimental_is_anonymous: bool = False):
        super().__init__(initializer, name)
        default = _array(default_value.numpy() if isinstance(default_value, Tensor) else default_value,
                         self.value_dtype, "StaticHashTable default_value")
        if default.ndim != 0:
            raise ValueError(f"StaticHashTable: default_value must be a scalar, got shape {default.shape}")
        self._default = default

    @property
    def value_dtype(self):
        return self._initializer.value_dtype

    @property
    def default_value(self) -> Tensor:
        return Tensor._wrap(self._default.copy())

    def lookup(self, keys, name: str | None = None) -> Tensor:
        """The value of each key (same shape as ``keys``)."""
        positions = self._positions(self._key_array(keys))
        if not len(self._values):
            return Tensor._wrap(np.full(positions.shape, self._default, dtype=self._default.dtype))
        found = self._values[np.maximum(positions, 0)]
        return Tensor._wrap(np.where(positions >= 0, found, self._default).astype(self._values.dtype))


class StaticVocabularyTable(_Table):
    """A fixed vocabulary: a held key gets its (int64) id, any other one of ``num_oov_buckets`` ids after the
    vocabulary, picked by TensorFlow's ``to_hash_bucket_fast`` of the key (integers hashed as their decimal text)."""

    def __init__(self, initializer, num_oov_buckets: int, lookup_key_dtype=None, name: str | None = None,
                 experimental_is_anonymous: bool = False):
        if num_oov_buckets <= 0:
            raise ValueError(f"`num_oov_buckets` must be > 0; use StaticHashTable. Received: {num_oov_buckets}")
        super().__init__(initializer, name)
        if initializer.value_dtype != dtypes.int64:
            raise TypeError(f"Invalid `value_dtype`, expected {dtypes.int64!r} but got "
                            f"{initializer.value_dtype!r}.")
        self.num_oov_buckets = int(num_oov_buckets)

    @property
    def value_dtype(self):
        return dtypes.int64

    def lookup(self, keys, name: str | None = None) -> Tensor:
        """The id of each key (same shape as ``keys``), int64."""
        keys = self._key_array(keys)
        positions = self._positions(keys)
        ids = np.where(positions >= 0, self._values[np.maximum(positions, 0)] if len(self._values) else 0, 0)
        missing = np.flatnonzero(positions.ravel() < 0)
        flat_keys, flat_ids = keys.ravel(), ids.ravel().astype(np.int64)
        for i in missing:
            flat_ids[i] = len(self._keys) + hash_bucket(str(flat_keys[i]), self.num_oov_buckets)
        return Tensor._wrap(flat_ids.reshape(keys.shape))

    def size(self) -> Tensor:
        """The vocabulary's size plus the OOV buckets, as TensorFlow counts it."""
        return Tensor._wrap(np.asarray(len(self._keys) + self.num_oov_buckets, dtype=np.int64))


__all__ = ["KeyValueTensorInitializer", "StaticHashTable", "StaticVocabularyTable", "TextFileIndex",
           "TextFileInitializer"]
