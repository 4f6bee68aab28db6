"""``tf.strings``: the string operations of TensorFlow that text pipelines use, on chainrule's string tensors (NumPy
``str`` arrays in a Tensor): ``lower``, ``upper``, ``regex_replace``, ``strip``, ``length``, ``join``, ``split`` (a
RaggedTensor of rows), ``as_string``, ``to_hash_bucket_fast`` (FarmHash Fingerprint64) and ``to_hash_bucket_strong``
(SipHash-2-4), the buckets TensorFlow gives.

>>> import chainrule as tf
>>> tf.strings.regex_replace(tf.strings.lower(["Hi<br />THERE"]), "<br />", " ").numpy()
array([b'hi there'], dtype=object)
>>> tf.strings.split(["hello  world", "a"]).to_list()
[[b'hello', b'world'], [b'a']]
>>> tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3).numpy()
array([0, 2, 2])
>>> tf.strings.to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]).numpy()
array([2, 0])
"""
from __future__ import annotations

import builtins
import functools
import inspect

import numpy as np

from chainrule.compat.tf.ragged import RaggedTensor
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.preprocessing import strings as _strings
from chainrule.keras.layers.preprocessing.hash_functions import hash_bucket


def _keeps_rows(fn):
    """``fn`` (an op on each string) that, given a RaggedTensor, runs on its flat values and keeps its rows, as
    TensorFlow dispatches its elementwise string ops (``to_number(split(s, ","))`` stays ragged)."""
    first = next(iter(inspect.signature(fn).parameters))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        value = args[0] if args else kwargs.get(first)
        if not isinstance(value, RaggedTensor):
            return fn(*args, **kwargs)
        if args:
            args = (value.flat_values,) + args[1:]
        else:
            kwargs = {**kwargs, first: value.flat_values}
        return value.with_flat_values(fn(*args, **kwargs))

    return wrapper


def _text(input, who: str) -> np.ndarray:  # noqa: A002  (TensorFlow's argument name)
    return _strings.as_string_array(input, f"tf.strings.{who}")


def _map(array: np.ndarray, function, dtype) -> Tensor:
    flat = [function(x) for x in array.ravel().tolist()]
    return Tensor._wrap(np.array(flat, dtype=dtype).reshape(array.shape))


@_keeps_rows
def lower(input, encoding: str = "", name=None) -> Tensor:  # noqa: A002
    """Lower-case: ASCII letters, or all of Unicode with ``encoding='utf-8'``."""
    return Tensor._wrap(_strings.lower(_text(input, "lower"), encoding))


@_keeps_rows
def upper(input, encoding: str = "", name=None) -> Tensor:  # noqa: A002
    """Upper-case: ASCII letters, or all of Unicode with ``encoding='utf-8'``."""
    return Tensor._wrap(_strings.upper(_text(input, "upper"), encoding))


@_keeps_rows
def regex_replace(input, pattern: str, rewrite: str, replace_global: bool = True, name=None) -> Tensor:  # noqa: A002
    """Replace the matches of ``pattern`` with ``rewrite`` (Python's ``re`` syntax, close to RE2's)."""
    return Tensor._wrap(_strings.regex_replace(_text(input, "regex_replace"), pattern, rewrite, replace_global))


@_keeps_rows
def strip(input, name=None) -> Tensor:  # noqa: A002
    """Leading and trailing whitespace removed."""
    return Tensor._wrap(np.char.strip(_text(input, "strip")))


@_keeps_rows
def length(input, unit: str = "BYTE", name=None) -> Tensor:  # noqa: A002
    """The length of each string in UTF-8 bytes (``unit='BYTE'``) or in characters (``'UTF8_CHAR'``)."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"tf.strings.length: unit must be 'BYTE' or 'UTF8_CHAR'. Received: unit={unit!r}")
    count = (lambda s: len(s.encode("utf-8"))) if unit == "BYTE" else len
    return _map(_text(input, "length"), count, np.int32)


def join(inputs, separator: str = "", name=None) -> Tensor:
    """The strings of ``inputs`` (a list of string tensors of one shape) joined element by element."""
    arrays = np.broadcast_arrays(*[_text(x, "join") for x in inputs])
    joined = [separator.join(parts) for parts in zip(*[a.ravel().tolist() for a in arrays])]
    return Tensor._wrap(np.array(joined, dtype=str).reshape(arrays[0].shape))


def reduce_join(inputs, axis=None, keepdims: bool = False, separator: str = "", name=None) -> Tensor:
    """The strings along ``axis`` (every axis when None) joined with ``separator``.

    >>> import chainrule as tf
    >>> tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1).numpy().tolist()
    [b'ab', b'cd']
    >>> tf.strings.reduce_join(tf.strings.unicode_split(["ab", "c"], "UTF-8"), axis=-1).numpy().tolist()
    [b'ab', b'c']
    """
    if isinstance(inputs, RaggedTensor):
        return _reduce_join_rows(inputs, axis, keepdims, separator)
    array = _text(inputs, "reduce_join")
    axes = tuple(range(array.ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())
    axes = tuple(sorted(a % array.ndim for a in axes)) if array.ndim else ()
    kept = [a for a in range(array.ndim) if a not in axes]
    rows = np.transpose(array, kept + list(axes)).reshape([array.shape[a] for a in kept] + [-1])
    joined = np.array([separator.join(row) for row in rows.reshape(int(np.prod(rows.shape[:-1])), rows.shape[-1]).tolist()], dtype=str)
    joined = joined.reshape([array.shape[a] for a in kept])
    if keepdims:
        joined = np.expand_dims(joined, axes)
    return Tensor._wrap(joined)


def _reduce_join_rows(ragged: RaggedTensor, axis, keepdims: bool, separator: str) -> Tensor:
    """reduce_join of a 2-D RaggedTensor along its ragged axis (each row's strings), or over everything."""
    if ragged.ndim != 2:
        raise ValueError(f"tf.strings.reduce_join: a RaggedTensor of rank 2 is supported, got rank {ragged.ndim}")
    values, splits = _text(ragged.flat_values, "reduce_join").tolist(), np.asarray(ragged.row_splits).tolist()
    rows = [values[start:end] for start, end in zip(splits[:-1], splits[1:])]
    if axis is None:
        return Tensor._wrap(np.array(separator.join(x for row in rows for x in row), dtype=str))
    if int(np.asarray(axis).item()) % 2 != 1:
        raise ValueError(f"tf.strings.reduce_join: a RaggedTensor is joined along its ragged axis (1 or -1) or every "
                         f"axis (None); received axis={axis}")
    joined = np.array([separator.join(row) for row in rows], dtype=str)
    return Tensor._wrap(joined[:, None] if keepdims else joined)


@_keeps_rows
def as_string(input, name=None) -> Tensor:  # noqa: A002
    """Numbers (or booleans) as their text."""
    array = np.asarray(input.numpy() if isinstance(input, Tensor) else input)
    if array.dtype.kind == "b":
        return _map(array, lambda b: "true" if b else "false", str)
    return Tensor._wrap(array.astype(str))


def split(input, sep: str | None = None, maxsplit: int = -1, name=None):  # noqa: A002
    """The pieces of each string: on runs of whitespace (``sep=None``, ends stripped) or on ``sep`` (empty pieces
    kept), at most ``maxsplit`` splits; a scalar gives a 1-D tensor, a 1-D tensor a RaggedTensor of rows."""
    if sep == "":
        raise ValueError("tf.strings.split: `sep` must not be empty (None splits on whitespace)")
    return _per_string(input, "split", lambda x: x.split(sep, maxsplit), str)


def _per_string(input, who: str, piece, dtype):  # noqa: A002
    """``piece(text)`` (a list) of a scalar string as a 1-D tensor, of a 1-D tensor as a RaggedTensor of rows."""
    from chainrule.compat.tf.ragged import RaggedTensor

    text = _text(input, who)
    if text.ndim > 1:
        raise ValueError(f"tf.strings.{who}: chainrule takes a scalar or a 1-D tensor of strings; received shape "
                         f"{text.shape} (reshape it to 1-D first)")
    rows = [piece(x) for x in text.ravel().tolist()]
    if text.ndim == 0:
        return Tensor._wrap(np.array(rows[0], dtype=dtype))
    return RaggedTensor.from_row_lengths(np.array([p for row in rows for p in row], dtype=dtype),
                                         [len(row) for row in rows])


def _utf8(encoding: str, who: str) -> None:
    if encoding.replace("-", "").upper() != "UTF8":
        raise ValueError(f"tf.strings.{who}: chainrule's strings are Unicode text; input_encoding must be 'UTF-8', "
                         f"got {encoding!r}")


def bytes_split(input, name=None):  # noqa: A002
    """The UTF-8 bytes of each string, one byte string each (a RaggedTensor of rows for a 1-D input)."""
    return _per_string(input, "bytes_split", lambda x: [bytes([b]) for b in x.encode("utf-8")], np.bytes_)


def unicode_split(input, input_encoding: str, errors: str = "replace", replacement_char: int = 65533,
                  name=None):  # noqa: A002
    """The characters of each string."""
    _utf8(input_encoding, "unicode_split")
    return _per_string(input, "unicode_split", list, str)


def unicode_decode(input, input_encoding: str, errors: str = "replace", replacement_char: int = 65533,
                   replace_control_characters: bool = False, name=None):  # noqa: A002
    """The Unicode code points of each string, int32."""
    _utf8(input_encoding, "unicode_decode")
    return _per_string(input, "unicode_decode", lambda x: [ord(c) for c in x], np.int32)


def unicode_encode(input, output_encoding: str, errors: str = "replace", replacement_char: int = 65533,
                   name=None) -> Tensor:  # noqa: A002
    """The string of a vector of code points (or a string per row of a RaggedTensor or 2-D tensor of them)."""
    from chainrule.compat.tf.ragged import RaggedTensor

    _utf8(output_encoding, "unicode_encode")
    if isinstance(input, RaggedTensor):
        rows = input.to_list()
        return Tensor._wrap(np.array(["".join(map(chr, row)) for row in rows], dtype=str))
    points = np.asarray(input.numpy() if isinstance(input, Tensor) else input)
    if points.ndim == 1:
        return Tensor._wrap(np.array("".join(map(chr, points.tolist())), dtype=str))
    return Tensor._wrap(np.array(["".join(map(chr, row)) for row in points.tolist()], dtype=str))


@_keeps_rows
def to_number(string_tensor, out_type="float32", name=None) -> Tensor:
    """Each string parsed as a number of ``out_type`` (float32 by default); a string that is not one is an error
    naming it, as TensorFlow's StringToNumber."""
    from chainrule import backend

    dtype = np.dtype(backend.as_dtype(out_type))
    parse = float if dtype.kind == "f" else int

    def number(text: str):
        try:
            return parse(text.strip())
        except ValueError:
            raise ValueError(f"StringToNumberOp could not correctly convert string: {text}") from None

    return _map(_text(string_tensor, "to_number"), number, dtype)


@_keeps_rows
def substr(input, pos: int, len: int, unit: str = "BYTE", name=None) -> Tensor:  # noqa: A002
    """``len`` characters of each string from ``pos`` (negative from the end); bytes and characters are the same
    for ASCII, characters otherwise (``unit='UTF8_CHAR'``)."""
    def cut(text: str) -> str:
        data = text.encode("utf-8") if unit == "BYTE" else text
        start = pos if pos >= 0 else max(0, builtins.len(data) + pos)  # `len` is TensorFlow's argument here
        piece = data[start:start + len]
        return piece.decode("utf-8", errors="replace") if unit == "BYTE" else piece

    return _map(_text(input, "substr"), cut, str)


@_keeps_rows
def to_hash_bucket_fast(input, num_buckets: int, name=None) -> Tensor:  # noqa: A002
    """FarmHash ``Fingerprint64`` of each string modulo ``num_buckets``, int64."""
    return _map(_text(input, "to_hash_bucket_fast"), lambda s: hash_bucket(s, num_buckets), np.int64)


@_keeps_rows
def to_hash_bucket_strong(input, num_buckets: int, key, name=None) -> Tensor:  # noqa: A002
    """SipHash-2-4 of each string under ``key`` (two integers) modulo ``num_buckets``, int64."""
    if len(key) != 2:
        raise ValueError(f"tf.strings.to_hash_bucket_strong: key must be a list of 2 integers. Received: key={key}")
    return _map(_text(input, "to_hash_bucket_strong"), lambda s: hash_bucket(s, num_buckets, list(key)), np.int64)


__all__ = ["as_string", "bytes_split", "join", "length", "lower", "reduce_join", "regex_replace", "split", "strip",
           "substr", "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number", "unicode_decode", "unicode_encode",
           "unicode_split", "upper"]
