"""Model files: the architecture, the weights and the optimizer state in one file; no pickle; written atomically.

>>> model.save("mnist.keras")                                # doctest: +SKIP
>>> model = chainrule.keras.models.load_model("mnist.keras")  # doctest: +SKIP
>>> model.fit(x, y)  # goes on where the saved training stopped: same weights, same optimizer state  # doctest: +SKIP

The format (version 1) is a small JSON header and raw little-endian arrays, as safetensors lays them out::

    14 bytes   magic b"\\x89chainrule\\r\\n\\x1a\\n" (PNG's trick: a high-bit byte and line endings that a text-mode
               copy would damage, then ^Z)
     2 bytes   format version, uint16
     8 bytes   header length H, uint64 (a multiple of 8, so the data starts 8-byte aligned)
     8 bytes   data length D, uint64
     H bytes   header: JSON in ASCII, padded with spaces
     D bytes   data: each array's bytes in C order at the ``data_offsets`` [begin, end) of its header entry
    32 bytes   SHA-256 of everything before it

Every number is little-endian. The header holds ``kind`` ("model" or "weights"), ``chainrule_version``, ``model``
(``{"class_name", "config"}`` from ``model.get_config()``), ``compile`` (the optimizer's class and config, the loss
and the metrics, or null), ``layers`` (each layer's name, class and the names of its weight arrays),
``metadata`` (free JSON given to :func:`save_model`) and ``tensors``: ``{"name", "dtype", "shape",
"data_offsets"}`` per array. Weight arrays are named ``weights/<i>/<variable name>``, optimizer state
``optimizer/<key>`` (from ``optimizer.get_state()``).

Reading checks the magic, the version, the lengths and the SHA-256 before it parses anything, then every header
field; whatever is wrong raises :class:`ModelFileError` naming the file. A missing file raises FileNotFoundError.

Naming: any path works. By convention a whole model is ``NAME.keras`` (Keras 3's suffix; the content is
chainrule's format, not Keras's zip) and weights alone are ``NAME.weights.bin`` (Keras writes ``.weights.h5``).
Reading a whole-model file with :func:`load_weights` works too.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import struct
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.keras.configurable import is_serialized

MAGIC = b"\x89chainrule\r\n\x1a\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<14sHQQ")  # magic, version, header length, data length: 32 bytes
_DIGEST = 32
_ALIGN = 8
_MAX_HEADER = 64 << 20
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


# --- the container: a header and named arrays -----------------------------------------------------------------------
def write_file(path: str | os.PathLike, header: dict, tensors: Sequence[tuple[str, np.ndarray]],
               overwrite: bool = True) -> None:
    """Write ``header`` (JSON-able) and the named arrays as one file, atomically (see :func:`atomic_write`)."""
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
    atomic_write(path, [prefix, head, *blobs, digest.digest()], overwrite=overwrite)


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


def atomic_write(path: str | os.PathLike, chunks: Iterable[bytes], overwrite: bool = True) -> None:
    """Write ``chunks`` to ``path`` so that it holds either the old content or all of the new, never a part.

    The bytes go to a temporary file in the same folder, are flushed to the disk (fsync), then the temporary file
    replaces ``path`` in one step (``os.replace``). A crash or an error on the way leaves ``path`` as it was.
    Missing parent folders are created.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- models: architecture, weights, compile config and optimizer state ---------------------------------------------
def save_model(model, path: str | os.PathLike, overwrite: bool = True, metadata: dict | None = None,
               include_optimizer: bool = True, save_format: str | None = None) -> None:
    """Write ``model`` whole: architecture, weights and, when it is compiled, the compile config and the optimizer's
    state, so that :func:`load_model` gives back a model whose ``fit`` goes on where this one stopped.
    ``metadata``: any JSON-able dict kept alongside (the command line stores the dataset's class names there).
    ``include_optimizer=False`` leaves out the compile config and the optimizer (tf.keras's option);
    ``save_format`` is accepted for tf.keras programs and ignored: there is one format."""
    header = {"kind": "model", "chainrule_version": _version(),
              "model": {"class_name": type(model).__name__, "config": model.get_config()},
              "compile": None, "layers": None, "metadata": dict(metadata or {})}
    layers, tensors = _weights_entries(model)
    header["layers"] = layers
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and include_optimizer:
        header["compile"] = _compile_config(model)
        tensors += [(f"optimizer/{key}", value) for key, value in optimizer.get_state().items()]
    write_file(path, header, tensors, overwrite=overwrite)


def load_model(path: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """The model :func:`save_model` wrote to ``path``, compiled and with its optimizer state when it was saved so
    (``compile=False``: the architecture and weights only). ``custom_objects`` maps the names of your own layers,
    losses and metrics to them. Raises :class:`ModelFileError` for a file that is damaged, foreign or
    inconsistent. ``safe_mode`` is Keras's; loading never runs code from the file, so it changes nothing."""
    header, arrays = read_file(path)
    kind = header.get("kind")
    if kind == "weights":
        raise ModelFileError(path, "holds weights only (written by save_weights): build the model in code, then "
                                   "call model.load_weights() on it")
    if kind != "model":
        raise ModelFileError(path, f"unknown kind of file {kind!r} (expected 'model')")
    model = model_from_config(header.get("model"), path, custom_objects)
    _assign_weights(model, header, arrays, path)
    if compile and header.get("compile") is not None:
        _restore_training(model, header["compile"], arrays, path, custom_objects)
    return model


def save_weights(model, path: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the weights of ``model`` alone (by convention ``NAME.weights.bin``)."""
    layers, tensors = _weights_entries(model)
    header = {"kind": "weights", "chainrule_version": _version(), "model_class": type(model).__name__,
              "layers": layers}
    write_file(path, header, tensors, overwrite=overwrite)


def load_weights(model, path: str | os.PathLike, skip_mismatch: bool = False) -> None:
    """Load weights written by :func:`save_weights` (or :func:`save_model`) into ``model``, which must have as many
    layers with weights, in the same order, of the same classes and shapes. Nothing is changed when they do not
    match, unless ``skip_mismatch=True`` (Keras's option): then the layers that differ keep their weights, with a
    warning."""
    header, arrays = read_file(path)
    if header.get("kind") not in ("model", "weights"):
        raise ModelFileError(path, f"unknown kind of file {header.get('kind')!r} (expected 'weights' or 'model')")
    _assign_weights(model, header, arrays, path, skip_mismatch)


def read_header(path: str | os.PathLike) -> dict:
    """The header of a model or weights file (checked like a load): kind, versions, configs, ``metadata``."""
    with open(path, "rb") as file:
        return decode(file.read(), path, with_arrays=False)[0]


def model_from_config(config: Any, path: str | os.PathLike = "<config>", custom_objects: dict | None = None):
    """The model described by ``{"class_name": ..., "config": ...}`` (as ``model.to_json()`` writes it), built.
    Anything wrong with the description raises :class:`ModelFileError` naming ``path``."""
    from chainrule.keras.models import Model, model_from_config as rebuild

    if not (isinstance(config, dict) and isinstance(config.get("class_name"), str)
            and isinstance(config.get("config"), dict)):
        raise ModelFileError(path, "the model description must be {\"class_name\": ..., \"config\": {...}}")
    try:
        model = rebuild(config, custom_objects)
    except Exception as error:  # the config comes from a file: any failure to rebuild it is the file's fault
        raise ModelFileError(path, f"cannot rebuild the {config['class_name']} model from its config: "
                                   f"{type(error).__name__}: {error}") from error
    if not isinstance(model, Model):
        raise ModelFileError(path, f"the config describes a {type(model).__name__}, not a model")
    return model


def _weights_entries(model) -> tuple[list[dict], list[tuple[str, np.ndarray]]]:
    """The ``layers`` header entries and the named weight arrays of ``model``."""
    entries, tensors = [], []
    for _, layer, variables in _layers_with_weights(model):
        names = [f"weights/{len(tensors) + i}/{v.name}" for i, v in enumerate(variables)]
        tensors += [(name, np.asarray(v.numpy())) for name, v in zip(names, variables)]
        entries.append({"name": layer.name, "class_name": type(layer).__name__, "weights": names})
    return entries, tensors


def _layers_with_weights(model) -> list[tuple[int, Any, list]]:
    """(index in ``model.layers``, layer, its weights) for each layer that has weights, each weight once (a model
    without ``layers``: itself, index 0)."""
    layers = getattr(model, "layers", None)
    if not layers:
        return [(0, model, list(model.weights))] if model.weights else []
    seen: set[int] = set()
    found = []
    for index, layer in enumerate(layers):
        variables = [v for v in layer.weights if id(v) not in seen]
        seen.update(map(id, variables))
        if variables:
            found.append((index, layer, variables))
    return found


def _assign_weights(model, header: dict, arrays: dict[str, np.ndarray], path, skip_mismatch: bool = False) -> None:
    """Check every saved weight against ``model`` first, then assign them all (a mismatch changes nothing)."""
    saved = header.get("layers")
    if not isinstance(saved, list) or not all(_is_layer_entry(entry, arrays) for entry in saved):
        raise ModelFileError(path, "the 'layers' entry of the header is missing or malformed")
    built = _layers_with_weights(model)
    if len(saved) != len(built):
        raise ModelFileError(path, f"the file has weights for {len(saved)} layers "
                                   f"({_names(e['class_name'] for e in saved)}), the model has {len(built)} layers "
                                   f"with weights ({_names(type(layer).__name__ for _, layer, _ in built)})")
    plan = []
    for entry, (index, layer, variables) in zip(saved, built):
        values = [arrays[name] for name in entry["weights"]]
        problem = _mismatch(entry["class_name"], values, layer, variables)
        if problem and skip_mismatch:
            warnings.warn(f"{os.fspath(path)}: skipped layer {index} ({layer.name!r}): {problem}", stacklevel=3)
        elif problem:
            raise ModelFileError(path, f"layer {index} ({layer.name!r}, {type(layer).__name__}): {problem}")
        else:
            plan += list(zip(variables, values))
    for var, value in plan:
        var.assign(value.astype(var.dtype, copy=False))


def _mismatch(saved_class: str, values: list[np.ndarray], layer, variables: list) -> str | None:
    """Why the saved weights ``values`` of a ``saved_class`` layer cannot go into ``layer``, or None."""
    if saved_class != type(layer).__name__:
        return f"the file has a {saved_class} in its place"
    shapes = [tuple(value.shape) for value in values]
    expected = [tuple(v.shape) for v in variables]
    if shapes != expected:
        return f"its weights have shapes {expected}, the file's have {shapes}"
    for value, var in zip(values, variables):
        if value.dtype.kind != np.dtype(var.dtype).kind:
            return f"weight {var.name!r} is {np.dtype(var.dtype).name}, the file holds {value.dtype.name}"
    return None


def _is_layer_entry(entry: Any, arrays: dict) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and isinstance(entry.get("weights"), list)
            and all(isinstance(name, str) and name in arrays for name in entry["weights"]))


def _restore_training(model, config: Any, arrays: dict[str, np.ndarray], path,
                      custom_objects: dict | None = None) -> None:
    """Compile ``model`` as it was and give its optimizer the saved state."""
    if not isinstance(config, dict):
        raise ModelFileError(path, "the 'compile' entry of the header is not an object")
    try:
        if hasattr(model, "compile_from_config"):
            model.compile_from_config(config)
        else:
            from chainrule.keras import losses
            from chainrule.keras import metrics
            from chainrule.keras import optimizers

            rest = {key: value for key, value in config.items() if key != "optimizer"}
            for key, module in (("loss", losses), ("metrics", metrics), ("weighted_metrics", metrics)):
                if key in rest:
                    rest[key] = _revived(rest[key], module, custom_objects)
            model.compile(optimizer=optimizers.deserialize(config.get("optimizer"), custom_objects),
                          **_with_custom_objects(rest, custom_objects or {}))
    except Exception as error:  # the config comes from a file: any failure to use it is the file's fault
        raise ModelFileError(path, f"cannot compile the model as it was saved: {type(error).__name__}: {error}") \
            from error
    state = {key.removeprefix("optimizer/"): value for key, value in arrays.items() if key.startswith("optimizer/")}
    try:
        model.optimizer.build(model.trainable_variables)  # create the slots now, so set_state checks their shapes
        model.optimizer.set_state(state)
    except (ValueError, TypeError) as error:
        raise ModelFileError(path, f"the optimizer state does not fit the model: {error}") from error


def _compile_config(model) -> dict:
    """The arguments ``model.compile`` got, as JSON: names stay names, objects become ``{"class_name", "config"}``.
    ``model.get_compile_config()`` (Keras 3's method) when the model has it."""
    if hasattr(model, "get_compile_config"):
        return model.get_compile_config()
    metrics = getattr(model, "_compiled_metrics", None)
    return {"optimizer": _serialized(model.optimizer), "loss": _serialized(model.loss),
            "metrics": _serialized(getattr(metrics, "spec", None)),
            "weighted_metrics": _serialized(getattr(metrics, "weighted_spec", None))}


def _serialized(identifier: Any) -> Any:
    if identifier is None or isinstance(identifier, (str, int, float, bool)):
        return identifier
    if isinstance(identifier, (list, tuple)):
        return [_serialized(item) for item in identifier]
    if isinstance(identifier, dict):
        return {key: _serialized(value) for key, value in identifier.items()}
    if hasattr(identifier, "get_config"):
        return {"class_name": type(identifier).__name__, "config": identifier.get_config()}
    if callable(identifier) and hasattr(identifier, "__name__"):
        return identifier.__name__
    raise TypeError(f"cannot save the compile argument {identifier!r}: it is not a name, a config or a function")


def _revived(spec: Any, module, custom_objects: dict | None) -> Any:
    """A compile argument with every ``{"class_name", "config"}`` turned back into the loss or metric object
    (through ``module.deserialize``); names, lists and per-output mappings keep their shape."""
    if is_serialized(spec):
        return module.deserialize(spec, custom_objects)
    if isinstance(spec, list):
        return [_revived(item, module, custom_objects) for item in spec]
    if isinstance(spec, dict):
        return {key: _revived(item, module, custom_objects) for key, item in spec.items()}
    return spec


def _with_custom_objects(value: Any, custom_objects: dict) -> Any:
    """``value`` with each name, or ``{"class_name", "config"}``, of an entry of ``custom_objects`` replaced by it."""
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if isinstance(value, list):
        return [_with_custom_objects(item, custom_objects) for item in value]
    if isinstance(value, dict):
        cls = custom_objects.get(value.get("class_name"))
        if cls is not None and isinstance(value.get("config"), dict) and hasattr(cls, "from_config"):
            return cls.from_config(value["config"])
        return {key: _with_custom_objects(item, custom_objects) for key, item in value.items()}
    return value


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "unknown"
