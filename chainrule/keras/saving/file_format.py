"""The model file container: a JSON header and named raw arrays, checksummed (safetensors' layout plus a digest).

The format (version 1) is a small JSON header and raw little-endian arrays, as safetensors lays them out::

    14 bytes   magic b"\\x89chainrule\\r\\n\\x1a\\n" (PNG's trick: a high-bit byte and line endings that a text-mode
               copy would damage, then ^Z)
     2 bytes   format version, uint16
     8 bytes   header length H, uint64 (a multiple of 8, so the data starts 8-byte aligned)
     8 bytes   data length D, uint64
     H bytes   header: JSON in ASCII, padded with spaces
     D bytes   data: each array's bytes in C order at the ``data_offsets`` [begin, end) of its header entry
    32 bytes   SHA-256 of everything before it

Every number is little-endian. The header is any JSON object (what a model file puts there is described in
:mod:`chainrule.keras.saving.model_files`) plus ``tensors``: ``{"name", "dtype", "shape", "data_offsets"}`` per
array.

Reading checks the magic, the version, the lengths and the SHA-256 before it parses anything, then every header
field; whatever is wrong raises :class:`ModelFileError` naming the file. A missing file raises FileNotFoundError.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "example.bin")
>>> write_file(path, {"kind": "example"}, [("w", np.arange(3, dtype=np.float32))])
>>> header, arrays = read_file(path)
>>> header, arrays["w"]
({'kind': 'example'}, array([0., 1., 2.], dtype=float32))
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.keras.saving import atomic

MAGIC = b"\x89chainrule\r\n\x1a\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<14sHQQ")  # magic, version, header length, data length: 32 bytes
_DIGEST = 32
_ALIGN = 8
_MAX_HEADER = 64 << 20
_MAX_ARRAY_BYTES = np.iinfo(np.intp).max
_DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float16", "float32",
           "float64")
_FOREIGN = (  # what a file that is not ours most likely is, by its first bytes
    (b"PK\x03\x04", "a zip archive (a Keras 3 .keras file or a NumPy .npz?)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 / .weights.h5?)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x80", "a Python pickle (chainrule never unpickles: it could run code)"),
    (b"{", "a JSON document (a model config? build the model with from_config)"),
    (b"[", "a JSON document"),
)


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded: truncated, damaged, not a chainrule file, or not matching
    the model. ``path`` is the file, ``reason`` what is wrong with it."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(path, reason)
        self.path, self.reason = os.fspath(path), reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# --- the container: a header and named arrays ----------------------------------------------------------------------
def write_file(path: str | os.PathLike, header: dict, tensors: Sequence[tuple[str, np.ndarray]],
               overwrite: bool = True) -> None:
    """Write ``header`` (JSON-able) and the named arrays as one file, atomically (see
    :func:`chainrule.keras.saving.atomic.atomic_write`)."""
    entries, blobs, offset = [], [], 0
    for name, array in tensors:
        array = np.asarray(array)
        if array.dtype.name not in _DTYPES:
            raise TypeError(f"cannot store array {name!r} of dtype {array.dtype} (supported: {', '.join(_DTYPES)})")
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        entries.append({"name": name, "dtype": array.dtype.name, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]})
        padding = b"\0" * (-len(data) % _ALIGN)
        blobs += [data, padding]
        offset += len(data) + len(padding)
    if len({entry["name"] for entry in entries}) != len(entries):
        raise ValueError("array names must be unique")
    try:
        text = json.dumps({**header, "tensors": entries}, default=_jsonable, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError(f"cannot save to {os.fspath(path)}: the header is not JSON-serializable: {error}") from error
    head = text.encode("ascii")
    head += b" " * (-len(head) % _ALIGN)
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(head), offset)
    digest = hashlib.sha256()
    for part in (prefix, head, *blobs):
        digest.update(part)
    atomic.atomic_write(path, [prefix, head, *blobs, digest.digest()], overwrite=overwrite)


def read_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The header (without ``tensors``) and the arrays, by name, of a file :func:`write_file` wrote."""
    with open(path, "rb") as file:
        return decode(file.read(), path)


def decode(data: bytes, path: str | os.PathLike = "<bytes>",
           with_arrays: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """:func:`read_file` on bytes in memory; ``path`` names them in errors. ``with_arrays=False`` checks the
    arrays' entries but returns no arrays."""
    def fail(reason: str) -> ModelFileError:
        return ModelFileError(path, reason)

    if not data:
        raise fail("the file is empty (0 bytes); a crash while it was first written?")
    if len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise fail(f"truncated: {len(data)} bytes, cut inside the format's magic bytes")
    if not data.startswith(MAGIC):
        raise fail(f"not a chainrule model file: it is {_identify(data)}")
    if len(data) < _PREFIX.size + _DIGEST:
        raise fail(f"truncated: {len(data)} bytes, shorter than the smallest model file ({_PREFIX.size + _DIGEST})")
    _, version, head_len, data_len = _PREFIX.unpack_from(data)
    if version != FORMAT_VERSION:
        newer = "a newer chainrule; upgrade to read it" if version > FORMAT_VERSION else "an unknown writer"
        raise fail(f"format version {version} is written by {newer} (this chainrule reads version "
                   f"{FORMAT_VERSION}), or the file is damaged")
    expected = _PREFIX.size + head_len + data_len + _DIGEST
    if len(data) < expected:
        raise fail(f"truncated or damaged: {len(data)} bytes where its lengths say {expected}")
    if len(data) > expected:
        raise fail(f"damaged: {len(data)} bytes where its lengths say {expected} (bytes inserted, or two files "
                   f"joined?)")
    body = memoryview(data)[:-_DIGEST]
    if hashlib.sha256(body).digest() != data[-_DIGEST:]:
        raise fail("damaged: its SHA-256 checksum does not match its content (changed or corrupted after saving)")
    if head_len > _MAX_HEADER:
        raise fail(f"the header is {head_len} bytes, more than the {_MAX_HEADER} a model file may have")
    try:
        header = json.loads(bytes(body[_PREFIX.size:_PREFIX.size + head_len]).decode("ascii"))
    except (ValueError, RecursionError) as error:
        raise fail(f"the header is not valid JSON: {error}") from error
    if not isinstance(header, dict):
        raise fail(f"the header is a JSON {type(header).__name__}, not an object")
    start = _PREFIX.size + head_len
    arrays = _read_arrays(header.pop("tensors", None), body[start:start + data_len], fail, with_arrays)
    return header, arrays


def _read_arrays(entries: Any, data: memoryview, fail, with_arrays: bool = True) -> dict[str, np.ndarray]:
    if not isinstance(entries, list):
        raise fail("the header has no 'tensors' list")
    arrays: dict[str, np.ndarray] = {}
    names: set[str] = set()
    previous_end = 0
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise fail(f"tensor entry {i} is not an object")
        name, dtype, shape, offsets = (entry.get(key) for key in ("name", "dtype", "shape", "data_offsets"))
        if not isinstance(name, str) or name in names:
            raise fail(f"tensor entry {i} has a missing or repeated name: {name!r}")
        names.add(name)
        if dtype not in _DTYPES:
            raise fail(f"tensor {name!r} has unknown dtype {dtype!r}")
        if not (isinstance(shape, list) and len(shape) <= 32 and all(_is_count(n) for n in shape)):
            raise fail(f"tensor {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(n) for n in offsets)):
            raise fail(f"tensor {name!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        itemsize = np.dtype(dtype).itemsize
        if math.prod(max(n, 1) for n in shape) * itemsize > _MAX_ARRAY_BYTES:  # NumPy's own limit, zero sizes aside
            raise fail(f"tensor {name!r} has shape {shape}: no array can have it (its sizes multiply to more than "
                       f"{_MAX_ARRAY_BYTES:,} bytes of {dtype})")
        if not previous_end <= begin <= end <= len(data) or end - begin != math.prod(shape) * itemsize:
            raise fail(f"tensor {name!r} of shape {shape} and dtype {dtype} does not fit its data_offsets "
                       f"{offsets} in {len(data)} bytes of data")
        previous_end = end
        if with_arrays:
            array = np.frombuffer(data, np.dtype(dtype).newbyteorder("<"), count=(end - begin) // itemsize,
                                  offset=begin)
            arrays[name] = array.reshape(shape).astype(np.dtype(dtype), copy=True)
    return arrays


def _is_count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def _identify(data: bytes) -> str:
    for magic, what in _FOREIGN:
        if data.startswith(magic):
            return what
    if data.lstrip()[:1] in (b"{", b"["):
        return "a JSON document"
    return f"unknown content starting with {data[:16]!r}"


def _jsonable(value: Any) -> Any:
    """JSON for what configs hold besides JSON types: NumPy scalars and arrays, tuples (as lists), dtypes."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.dtype):
        return value.name
    raise TypeError(f"{type(value).__name__} {value!r}")
