"""``tf.io``: files as strings (``read_file``, ``write_file``) and bytes reinterpreted as numbers (``decode_raw``).

chainrule's string tensors hold text (``str``); ``read_file`` gives the file's bytes as a 0-d ``bytes`` tensor, and
``decode_raw`` takes either (text is UTF-8 encoded first).

>>> import chainrule as tf
>>> tf.io.decode_raw(tf.constant("Duck"), tf.uint8).numpy()
array([ 68, 117,  99, 107], dtype=uint8)
"""
from __future__ import annotations

import os

import numpy as np

from chainrule import backend
from chainrule.compat.tf import gfile  # noqa: F401  (tf.io.gfile)
from chainrule.data.csv_files import decode_csv  # noqa: F401  (tf.io.decode_csv)
from chainrule.engine.tensor import Tensor


def _bytes(value) -> tuple[list[bytes], tuple]:
    """The strings of ``value`` as bytes (text UTF-8 encoded), and its shape."""
    array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    return [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in array.ravel().tolist()], array.shape


def decode_raw(input_bytes, out_type, little_endian: bool = True, fixed_length: int | None = None,
               name=None) -> Tensor:
    """The bytes of each string read as an array of ``out_type`` (one more axis than the input); every string must
    hold a whole number of items, and all the same number (or ``fixed_length`` bytes, zero-padded)."""
    dtype = np.dtype(backend.as_dtype(out_type)).newbyteorder("<" if little_endian else ">")
    strings, shape = _bytes(input_bytes)
    if fixed_length is not None:
        strings = [s[:fixed_length].ljust(fixed_length, b"\0") for s in strings]
    lengths = {len(s) for s in strings}
    if len(lengths) > 1:
        raise ValueError(f"tf.io.decode_raw: DecodeRaw requires input strings to all be the same size, got sizes "
                         f"{sorted(lengths)}")
    size = lengths.pop() if lengths else 0
    if size % dtype.itemsize:
        raise ValueError(f"tf.io.decode_raw: input size {size} is not a multiple of {dtype.itemsize}, the size of "
                         f"{dtype.name}")
    rows = [np.frombuffer(s, dtype=dtype) for s in strings]
    data = np.stack(rows) if rows else np.zeros((0, 0), dtype)
    return Tensor._wrap(data.astype(dtype.newbyteorder("=")).reshape(*shape, size // dtype.itemsize))


def read_file(filename, name=None) -> Tensor:
    """The file's bytes, as a 0-d tensor of ``bytes``."""
    path = np.asarray(filename).item() if isinstance(filename, Tensor) else filename
    with open(os.fspath(path), "rb") as file:
        return Tensor._wrap(np.array(file.read(), dtype=object))


def write_file(filename, contents, name=None) -> None:
    """Write ``contents`` (text, UTF-8 encoded, or bytes) to ``filename``, replacing it."""
    path = np.asarray(filename).item() if isinstance(filename, Tensor) else filename
    (data,), _ = _bytes(contents)
    with open(os.fspath(path), "wb") as file:
        file.write(data)


from chainrule.compat.tf.image_codecs import (decode_bmp, decode_gif, decode_image, decode_jpeg,  # noqa: E402
                                           decode_png, encode_jpeg, encode_png, is_jpeg)

from chainrule.compat.tf.parsing import (FixedLenFeature, FixedLenSequenceFeature, VarLenFeature,  # noqa: E402
                                         parse_example, parse_single_example, parse_single_sequence_example)
from chainrule.compat.tf.tensor_serialization import parse_tensor, serialize_tensor  # noqa: E402
from chainrule.data.tfrecord import TFRecordOptions, TFRecordWriter  # noqa: E402

__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "TFRecordOptions", "TFRecordWriter", "VarLenFeature",
           "parse_example", "parse_single_example", "parse_single_sequence_example", "parse_tensor", "serialize_tensor",
           "decode_bmp", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "decode_raw", "encode_jpeg",
           "encode_png", "gfile", "is_jpeg", "read_file", "write_file"]
