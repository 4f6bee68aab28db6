"""Type specifications: ``tf.TensorSpec`` (the shape and dtype of a tensor, None for a size not known) and
``DatasetSpec`` (a dataset inside a dataset's element, as ``window`` makes), with the shape rules tf.data applies to
them when it batches, unbatches and concatenates.

``tf.function``'s ``input_signature`` uses the same ``TensorSpec`` (chainrule/compat/tf/function.py imports it).

>>> spec = TensorSpec([None, 3], "float32")
>>> spec, spec.is_compatible_with(np.zeros((5, 3), "float32"))
(TensorSpec(shape=(None, 3), dtype=tf.float32, name=None), True)
>>> batched(TensorSpec((2,), "int64"), None)
TensorSpec(shape=(None, 2), dtype=tf.int64, name=None)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend

from chainrule.backend.string_dtype import tensor_dtype
from chainrule.engine.tensor import Tensor
from chainrule.utils.tensor_shape import TensorShape

Shape = tuple | None  # a tuple of sizes (None: any size), or None for any rank


class TensorSpec:
    """The shape (None for any size) and dtype of a tensor, as ``tf.TensorSpec``.

    >>> TensorSpec(shape=(), dtype=np.int64)
    TensorSpec(shape=(), dtype=tf.int64, name=None)
    """

    def __init__(self, shape, dtype=np.float32, name: str | None = None):
        # a TensorShape (a tuple with as_list() and rank), as tf.TensorSpec's shape; None: any rank
        self.shape = None if shape is None else TensorShape([None if n is None else int(n) for n in shape])
        self.dtype = tensor_dtype(backend.numpy_dtype(dtype))  # text: tf.string, as a text tensor's dtype
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name: str | None = None) -> "TensorSpec":
        data = tensor.data if isinstance(tensor, Tensor) else tensor
        return cls(tuple(data.shape) if hasattr(data, "shape") else np.shape(data), dtype_of(tensor), name)

    def is_compatible_with(self, other) -> bool:
        """Whether ``other`` (a spec, tensor or array) has this dtype and a shape that fits this one."""
        if not isinstance(other, TensorSpec):
            other = TensorSpec.from_tensor(other)
        return self.dtype == other.dtype and shapes_fit(self.shape, other.shape)

    def __eq__(self, other) -> bool:
        return isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name) == \
            (other.shape, other.dtype, other.name)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.name))

    def __repr__(self) -> str:
        shape = "<unknown>" if self.shape is None else self.shape
        return f"TensorSpec(shape={shape}, dtype={dtype_name(self.dtype)}, name={self.name!r})"


class SparseTensorSpec:
    """The dense shape and dtype of a sparse tensor, as ``tf.SparseTensorSpec``; ``value_type`` is the class of the
    values it describes (tf.sparse.SparseTensor, which lives above tf.data).

    >>> SparseTensorSpec((3, 4), np.int32)
    SparseTensorSpec(TensorShape([3, 4]), tf.int32)
    """

    def __init__(self, shape=None, dtype=np.float32, value_type: type | None = None):
        self.shape = None if shape is None else TensorShape([None if n is None else int(n) for n in shape])
        self.dtype = tensor_dtype(backend.numpy_dtype(dtype))
        self.value_type = value_type

    def __eq__(self, other) -> bool:
        return isinstance(other, SparseTensorSpec) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        shape = "<unknown>" if self.shape is None else repr(self.shape)
        return f"SparseTensorSpec({shape}, {dtype_name(self.dtype)})"


class DatasetSpec:
    """The type of a dataset that is itself a component of an element (``window`` yields datasets).

    >>> DatasetSpec(TensorSpec((), np.int64))
    DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))
    """

    def __init__(self, element_spec: Any):
        self.element_spec = element_spec

    def __eq__(self, other) -> bool:
        return isinstance(other, DatasetSpec) and self.element_spec == other.element_spec

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"DatasetSpec({self.element_spec!r}, TensorShape([]))"


def dtype_of(value) -> np.dtype:
    """The dtype of a Tensor, array or Python value."""
    if isinstance(value, Tensor):
        return backend.numpy_dtype(value.data.dtype)
    return backend.numpy_dtype(value.dtype) if backend.is_array(value) else np.asarray(value).dtype


def dtype_name(dtype: np.dtype) -> str:
    """TensorFlow's name for a dtype: ``tf.float32``; text of any kind is ``tf.string``."""
    return "tf.string" if dtype.kind in "USO" else f"tf.{dtype.name}"


def shapes_fit(spec: Shape, shape: Shape) -> bool:
    """Whether ``shape`` fits ``spec`` (None: any rank in the spec, any size on an axis).

    >>> shapes_fit((None, 3), (5, 3)), shapes_fit((None, 3), (5, 4)), shapes_fit(None, (1, 2, 3))
    (True, False, True)
    """
    if spec is None:
        return True
    if shape is None or len(spec) != len(shape):
        return False
    return all(a is None or a == b for a, b in zip(spec, shape))


def relaxed(a: Shape, b: Shape) -> Shape:
    """The most specific shape both fit: sizes that differ become None, ranks that differ give an unknown rank.

    >>> relaxed((2, 3), (4, 3)), relaxed((2,), (2, 3))
    ((None, 3), None)
    """
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def batched(spec: TensorSpec, size: int | None) -> TensorSpec:
    """The spec of ``size`` such tensors stacked on a new first axis (None: the size varies)."""
    return TensorSpec(None if spec.shape is None else (size,) + spec.shape, spec.dtype)


def unbatched(spec: TensorSpec) -> TensorSpec:
    """The spec of one row of such a tensor; a scalar has no rows."""
    if spec.shape == ():
        raise ValueError(f"Cannot unbatch an input with scalar components: {spec}")
    return TensorSpec(None if spec.shape is None else spec.shape[1:], spec.dtype)
