"""``tf.io.parse_single_example`` / ``tf.io.parse_example``: serialized ``tf.train.Example`` protos to a dict of
tensors, one entry per feature of the spec: ``FixedLenFeature`` (a dense tensor of ``shape``, ``default_value``
where the feature is missing), ``VarLenFeature`` (a ``tf.sparse.SparseTensor``) and ``FixedLenSequenceFeature``
(any number of ``shape`` items, padded to the longest in a batch). They take and return tensors, so they run inside
``Dataset.map``.

>>> import chainrule as tf
>>> example = tf.train.Example(features=tf.train.Features(feature={
...     "x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 2.0]))}))
>>> parsed = tf.io.parse_single_example(example.SerializeToString(),
...                                     {"x": tf.io.FixedLenFeature([2], tf.float32),
...                                      "y": tf.io.FixedLenFeature([], tf.int64, default_value=7)})
>>> parsed["x"].numpy(), parsed["y"].numpy()
(array([1., 2.], dtype=float32), np.int64(7))
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainrule.compat.tf.dtypes import STRING, as_dtype
from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.compat.tf import example_proto
from chainrule.compat.tf.sparse import SparseTensor
from chainrule.engine.tensor import Tensor

# the feature list each dtype is read from, and its name in TensorFlow's messages
_KINDS = {"float32": ("float_list", "float"), "int64": ("int64_list", "int64"), "string": ("bytes_list", "string")}


class FixedLenFeature(NamedTuple):
    """A feature of a fixed ``shape`` (``[]`` for one value); ``default_value`` fills it where it is missing."""

    shape: Any
    dtype: Any
    default_value: Any = None


class VarLenFeature(NamedTuple):
    """A feature of any length, parsed to a ``SparseTensor``."""

    dtype: Any


class FixedLenSequenceFeature(NamedTuple):
    """Any number of items of ``shape`` (in an Example, ``allow_missing=True`` is required); a batch is padded with
    ``default_value`` (0 or b'') to its longest."""

    shape: Any
    dtype: Any
    allow_missing: bool = False
    default_value: Any = None


def _kind(key: str, spec) -> tuple[str, str, np.dtype]:
    """The list field, TensorFlow's type name and NumPy dtype of a feature spec (ValueError for another dtype)."""
    dtype = as_dtype(spec.dtype)
    name = "string" if dtype == STRING else np.dtype(dtype).name
    if name not in _KINDS:
        raise ValueError(f"Feature '{key}': unsupported dtype {name} in {type(spec).__name__}; a feature must be "
                         f"tf.float32, tf.int64 or tf.string")
    field, type_name = _KINDS[name]
    return field, type_name, np.dtype(object) if name == "string" else np.dtype(name)


def _shape(key: str, spec) -> tuple[int, ...]:
    shape = tuple(np.asarray(spec.shape.as_list() if hasattr(spec.shape, "as_list") else spec.shape,
                             dtype=object).ravel().tolist()) if spec.shape is not None else None
    if shape is None or any(d is None or int(d) < 0 for d in shape):
        raise ValueError(f"Feature '{key}': {type(spec).__name__} needs a fully defined shape, got {spec.shape}")
    return tuple(int(d) for d in shape)


def _serialized_list(serialized, argument: str) -> tuple[list[bytes], tuple]:
    array = np.asarray(serialized.numpy() if isinstance(serialized, Tensor) else serialized, dtype=object)
    return [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in array.ravel().tolist()], array.shape


def _values(example, key: str, field: str, type_name: str, dtype: np.dtype, index: int) -> np.ndarray | None:
    """The values of feature ``key`` of one Example (None if it is missing), checked to be of ``field``'s kind."""
    feature_map = example.features.feature
    if key not in feature_map:
        return None
    kind = feature_map[key].WhichOneof("kind")
    if kind is None:
        return np.zeros(0, dtype)
    if kind != field:
        raise InvalidArgumentError(None, None, f"Name: <unknown>, Key: {key}, Index: {index}.  Data types don't "
                                               f"match. Data type: {kind.split('_')[0]} but expected type: {type_name}")
    values = list(getattr(feature_map[key], field).value)
    return np.array(values, dtype=object) if dtype == object else np.asarray(values, dtype)


def _default(key: str, spec, dtype: np.dtype, shape: tuple) -> np.ndarray | None:
    if spec.default_value is None:
        return None
    default = np.asarray(spec.default_value.numpy() if isinstance(spec.default_value, Tensor) else spec.default_value,
                         dtype=dtype)
    try:
        return np.broadcast_to(default, shape).copy() if default.ndim == 0 else default.reshape(shape)
    except ValueError:
        raise ValueError(f"Feature '{key}': default_value of shape {default.shape} does not fit shape "
                         f"{list(shape)}") from None


def _fixed(examples: list, key: str, spec: FixedLenFeature) -> np.ndarray:
    field, type_name, dtype = _kind(key, spec)
    shape = _shape(key, spec)
    default = _default(key, spec, dtype, shape)
    rows = []
    for index, example in enumerate(examples):
        values = _values(example, key, field, type_name, dtype, index)
        if values is None:
            if default is None:
                raise InvalidArgumentError(None, None, f"Name: <unknown>, Feature: {key} (data type: {type_name}) "
                                                       f"is required but could not be found.")
            rows.append(default)
            continue
        if values.size != int(np.prod(shape)):
            raise InvalidArgumentError(None, None, f"Name: <unknown>, Key: {key}, Index: {index}.  Number of "
                                                   f"{type_name} values != expected.  Values size: {values.size} "
                                                   f"but output shape: {list(shape)}")
        rows.append(values.reshape(shape))
    return np.stack(rows) if rows else np.zeros((0, *shape), dtype)


def _sequence(examples: list, key: str, spec: FixedLenSequenceFeature) -> np.ndarray:
    field, type_name, dtype = _kind(key, spec)
    shape = _shape(key, spec)
    if not spec.allow_missing:
        raise ValueError(f"Feature '{key}': FixedLenSequenceFeature in an Example requires allow_missing=True")
    item = int(np.prod(shape))
    rows = []
    for index, example in enumerate(examples):
        values = _values(example, key, field, type_name, dtype, index)
        values = np.zeros(0, dtype) if values is None else values
        if item == 0 or values.size % item:
            raise InvalidArgumentError(None, None, f"Name: <unknown>, Key: {key}, Index: {index}.  Number of "
                                                   f"{type_name} values is not a multiple of stride length. Saw "
                                                   f"{values.size} values but output shape is: {list(shape)}")
        rows.append(values.reshape(-1, *shape))
    longest = max((len(row) for row in rows), default=0)
    fill = _default(key, spec, dtype, shape)
    fill = (np.full(shape, b"", dtype) if dtype == object else np.zeros(shape, dtype)) if fill is None else fill
    out = np.empty((len(rows), longest, *shape), dtype)
    out[...] = fill
    for b, row in enumerate(rows):
        out[b, :len(row)] = row
    return out


def _var_len(examples: list, key: str, spec: VarLenFeature) -> SparseTensor:
    field, type_name, dtype = _kind(key, spec)
    rows = [_values(example, key, field, type_name, dtype, index) for index, example in enumerate(examples)]
    rows = [np.zeros(0, dtype) if row is None else row for row in rows]
    indices = np.array([(b, j) for b, row in enumerate(rows) for j in range(len(row))], np.int64).reshape(-1, 2)
    values = np.concatenate(rows) if rows else np.zeros(0, dtype)
    return SparseTensor(indices, Tensor._wrap(values.astype(dtype)),
                        [len(rows), max((len(row) for row in rows), default=0)])


_PARSERS = {FixedLenFeature: _fixed, VarLenFeature: _var_len, FixedLenSequenceFeature: _sequence}


def _check_features(features) -> None:
    if not isinstance(features, dict) or not features:
        raise ValueError(f"`features` must be a non-empty dict of feature specs, got {features!r}")
    for key, spec in features.items():
        if type(spec) not in _PARSERS:
            raise ValueError(f"Feature '{key}': expected FixedLenFeature, VarLenFeature or FixedLenSequenceFeature, "
                             f"got {spec!r}")


def _decoded(strings: list[bytes]) -> list:
    examples = []
    for index, data in enumerate(strings):
        try:
            examples.append(example_proto.Example.FromString(data))
        except Exception:  # protobuf's DecodeError: report it as TensorFlow does
            raise InvalidArgumentError(None, None, f"Could not parse example input, value: {data[:40]!r} (index "
                                                   f"{index})") from None
    return examples


def _as_output(value):
    return value if isinstance(value, SparseTensor) else Tensor._wrap(value)


def parse_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """A batch of serialized Examples (a vector of strings) to a dict of batched tensors, one per feature."""
    _check_features(features)
    strings, shape = _serialized_list(serialized, "serialized")
    if len(shape) != 1:
        raise ValueError(f"parse_example: `serialized` must be a vector of strings, got shape {shape}")
    examples = _decoded(strings)
    return {key: _as_output(_PARSERS[type(spec)](examples, key, spec)) for key, spec in features.items()}


def parse_single_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """One serialized Example (a scalar string) to a dict of tensors, one per feature."""
    _check_features(features)
    strings, shape = _serialized_list(serialized, "serialized")
    if shape != ():
        raise ValueError(f"parse_single_example: `serialized` must be a scalar string, got shape {shape}")
    parsed = parse_example(np.array(strings, dtype=object), features)
    out = {}
    for key, value in parsed.items():
        if isinstance(value, SparseTensor):
            out[key] = SparseTensor(value.indices.numpy()[:, 1:], value.values, value.dense_shape.numpy()[1:])
        else:
            out[key] = Tensor._wrap(value.data[0, ...])  # an array (a bare bytes scalar would lose trailing NULs)
    return out


def _frames(sequence, key: str, spec) -> list | None:
    """The frames of feature list ``key`` as one-feature Examples (None if the list is missing)."""
    lists = sequence.feature_lists.feature_list
    if key not in lists:
        return None
    return [example_proto.Example(features=example_proto.Features(feature={key: frame}))
            for frame in lists[key].feature]


def parse_single_sequence_example(serialized, context_features: dict | None = None,
                                  sequence_features: dict | None = None, example_name=None, name=None
                                  ) -> tuple[dict, dict]:
    """One serialized ``tf.train.SequenceExample`` to ``(context, sequences)``: the context parsed as an Example's
    features, each sequence feature with one row per frame (FixedLenSequenceFeature: (frames, *shape);
    VarLenFeature: a SparseTensor (frames, longest))."""
    strings, shape = _serialized_list(serialized, "serialized")
    if shape != ():
        raise ValueError(f"parse_single_sequence_example: `serialized` must be a scalar string, got shape {shape}")
    try:
        sequence = example_proto.SequenceExample.FromString(strings[0])
    except Exception:  # protobuf's DecodeError
        raise InvalidArgumentError(None, None, f"Could not parse example input, value: {strings[0][:40]!r}") from None
    context = {}
    if context_features:
        _check_features(context_features)
        whole = example_proto.Example(features=sequence.context)
        context = parse_single_example(np.array(whole.SerializeToString(), dtype=object), context_features)
    sequences = {}
    for key, spec in (sequence_features or {}).items():
        if type(spec) not in (FixedLenSequenceFeature, VarLenFeature):
            raise ValueError(f"Feature '{key}': a sequence feature must be FixedLenSequenceFeature or VarLenFeature, "
                             f"got {spec!r}")
        frames = _frames(sequence, key, spec)
        if frames is None and isinstance(spec, FixedLenSequenceFeature) and not spec.allow_missing:
            raise InvalidArgumentError(None, None, f"Name: <unknown>, Feature list '{key}' is required but could not "
                                                   f"be found.  Did you mean to include it in "
                                                   f"feature_list_dense_missing_assumed_empty or "
                                                   f"feature_list_dense_defaults?")
        frames = frames or []
        if isinstance(spec, VarLenFeature):
            sequences[key] = _var_len(frames, key, spec)
        else:
            fixed = FixedLenFeature(spec.shape, spec.dtype)
            _, _, dtype = _kind(key, spec)
            sequences[key] = Tensor._wrap(_fixed(frames, key, fixed) if frames else
                                          np.zeros((0, *_shape(key, spec)), dtype))
    return context, sequences


__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "VarLenFeature", "parse_example", "parse_single_example",
           "parse_single_sequence_example"]
