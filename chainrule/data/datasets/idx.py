"""The IDX file format of MNIST and Fashion-MNIST: a 4-byte magic number, big-endian dimension sizes, raw data.

Magic number: two zero bytes, a type code (0x08 = uint8, ...), and the number of dimensions.

>>> import numpy as np
>>> read_idx(write_idx(np.arange(6, dtype=np.uint8).reshape(2, 3)))
array([[0, 1, 2],
       [3, 4, 5]], dtype=uint8)
"""
from __future__ import annotations

import numpy as np

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(name).newbyteorder("="): code for code, name in _TYPES.items()}


class IDXFormatError(ValueError):
    """Bytes that are not a well-formed IDX file (bad magic number, unknown type, wrong length)."""


def read_idx(data: bytes) -> np.ndarray:
    """The array stored in IDX bytes; uint8 data is returned without a copy (read-only, as Keras's loaders do)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IDXFormatError(f"not an IDX file: the magic number must start with two zero bytes, got {data[:4]!r}")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise IDXFormatError(f"unknown IDX type code 0x{code:02X} (known: {', '.join(f'0x{c:02X}' for c in _TYPES)})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"truncated IDX header: {ndim} dimensions need {header} bytes, the file has {len(data)}")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[code])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise IDXFormatError(f"IDX data of shape {shape} and type {dtype.name} needs {expected} bytes, "
                             f"the file has {len(data)} (truncated or corrupt)")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def write_idx(array: np.ndarray) -> bytes:
    """IDX bytes for an array of a type the format knows (uint8, int8, int16, int32, float32, float64)."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IDXFormatError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">"), copy=False).tobytes()
