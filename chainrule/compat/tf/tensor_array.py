"""``tf.TensorArray``: a list of tensors of one dtype, written and read by index, then stacked, gathered or
concatenated into one tensor, as TensorFlow 2's eager TensorArray (``_EagerTensorArray``).

It holds the tensors themselves, so gradients flow through it as through the ops that make one tensor of them
(``stack``, ``gather``, ``concat``: chainrule's stack and concat ops; ``unstack``, ``scatter`` and ``split`` take
slices by ops too), and a ``tf.function`` that uses one traces and replays those ops like any others. ``write``
changes the array and returns it (``ta = ta.write(i, x)``, TensorFlow's idiom, works). Eagerly, a read clears its
element unless ``clear_after_read=False`` (a second read of it is an error, as TensorFlow's); inside a
``tf.function`` (TensorFlow's graph TensorArray) reads do not clear. An element never written reads as zeros of
the element shape.

>>> import chainrule as tf
>>> ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, clear_after_read=False)
>>> ta = ta.write(0, 10).write(1, 20).write(2, 30)
>>> float(ta.read(1)), ta.stack().numpy(), int(ta.size())
(20.0, array([10., 20., 30.], dtype=float32), 3)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.ops.creation import zeros as _zeros_tensor
from chainrule.compat.tf import errors
from chainrule.compat.tf.array_ops import unstack as _unstack
from chainrule.compat.tf.dtypes import as_dtype
from chainrule.compat.tf.function import inside_function
from chainrule.engine import function as _engine_function
from chainrule.engine.tensor import Tensor, as_tensor, constant
from chainrule.utils.tensor_shape import TensorShape


def _index(index: Any, what: str) -> int:
    """A Python int from an index given as an int, a NumPy integer or a scalar integer tensor."""
    value = index.numpy() if isinstance(index, Tensor) else index
    if isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "iu":
        raise TypeError(f"TensorArray.{what}: the index must be a scalar integer, got {index!r}")
    return int(value)


def _indices(indices: Any, what: str) -> list[int]:
    values = indices.numpy() if isinstance(indices, Tensor) else np.asarray(indices)
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise TypeError(f"TensorArray.{what}: `indices` must be a 1-D vector of integers, got {indices!r}")
    return [int(i) for i in values]


class TensorArray:
    """``tf.TensorArray(dtype, size=None, dynamic_size=None, clear_after_read=None, ..., infer_shape=True,
    element_shape=None)``: see the module's docstring. ``size`` is required (as TensorFlow's eager TensorArray);
    ``dynamic_size=True`` lets writes go past it. ``tensor_array_name``, ``flow``, ``colocate_with_first_write_call``
    and ``name`` are accepted and change nothing; a ``handle`` is refused, as eagerly in TensorFlow."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape: bool = True, element_shape=None,
                 colocate_with_first_write_call: bool = True, name=None):
        if handle is not None:
            raise ValueError("TensorArray handles are not supported when eager execution is enabled.")
        if size is None:
            raise ValueError("Size must be declared for TensorArrays when eager execution is enabled.")
        self._dtype = as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = bool(infer_shape)
        self._element_shape = TensorShape(element_shape)
        self._previously_read: set[int] = set()
        size = _index(size, "__init__")
        if size < 0:
            raise ValueError(f"TensorArray size must be non-negative, got {size}")
        self._tensors: list[Tensor | None] = [None] * size

    # --- what it is -------------------------------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        """The elements' shape: as given, then narrowed by the writes (``infer_shape``)."""
        return self._element_shape

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    @property
    def handle(self) -> None:
        """For compatibility: an eager TensorArray has no handle."""
        return None

    @property
    def flow(self) -> Tensor:
        """For compatibility: the flow tensor has no meaning eagerly (TensorFlow gives a 0 too)."""
        return constant(0, dtype=np.int32)

    def identity(self) -> "TensorArray":
        return self

    def size(self, name=None) -> Tensor:
        """The number of elements, as an int32 scalar tensor."""
        return constant(len(self._tensors), dtype=np.int32)

    # --- elements -------------------------------------------------------------------------------------------------
    def _checked_index(self, index: int, what: str) -> int:
        if index < 0:
            raise errors.OutOfRangeError(None, None, f"{what.capitalize()} negative indices (index {index}) is not "
                                                     f"allowed.")
        return index

    def _zeros(self, index: int) -> Tensor:
        """An element never written: zeros of the element shape (TensorFlow's ``_maybe_zero``)."""
        value = self._tensors[index]
        if value is None:
            if not self._element_shape.is_fully_defined():
                raise ValueError(f"TensorArray has no value at index {index} and its element shape "
                                 f"{self._element_shape} is not fully defined, so it cannot be read as zeros: write "
                                 f"it first, or give element_shape=")
            value = _zeros_tensor(tuple(self._element_shape.as_list()), dtype=self._numpy_dtype())
            self._tensors[index] = value
        return value

    def _numpy_dtype(self) -> np.dtype:
        return np.dtype(self._dtype)

    def _clears(self) -> bool:
        """Whether a read clears its element: eagerly, as asked; never in a tf.function (the graph TensorArray)."""
        in_graph = inside_function() or _engine_function.recorded is not None
        return self._clear_after_read and not in_graph

    def read(self, index, name=None) -> Tensor:
        """The element at ``index`` (zeros of the element shape if it was never written)."""
        index = self._checked_index(_index(index, "read"), "reading from")
        if index >= len(self._tensors):
            raise errors.OutOfRangeError(None, None, f"Tried to read from index {index} but array size is: "
                                                     f"{len(self._tensors)}")
        value = self._tensors[index]
        if value is None and index in self._previously_read:
            raise errors.InvalidArgumentError(None, None, f"Could not read index {index} twice because it was cleared "
                                                          f"after a previous read (perhaps try setting "
                                                          f"clear_after_read = false?)")
        value = self._zeros(index)
        if self._clears():
            self._tensors[index] = None
            self._previously_read.add(index)
        return value

    def _write(self, index: int, value) -> None:
        index = self._checked_index(index, "writing to")
        size = len(self._tensors)
        if index >= size:
            if not self._dynamic_size:
                raise errors.OutOfRangeError(None, None, f"Tried to write to index {index} but array is not "
                                                         f"resizeable and size is: {size}")
            self._tensors.extend([None] * (index - size + 1))
        value = self._converted(value)
        if not self._element_shape.is_compatible_with(TensorShape(value.shape)):
            raise ValueError(f"Incompatible shape for value ({TensorShape(value.shape)}), expected "
                             f"({self._element_shape})")
        if self._infer_shape:
            self._element_shape = self._element_shape.merge_with(TensorShape(value.shape))
        self._tensors[index] = value

    def _converted(self, value) -> Tensor:
        """``value`` as a tensor of this array's dtype: Python numbers and lists take it, tensors and NumPy arrays
        must have it (TensorFlow's InvalidArgumentError otherwise)."""
        if not isinstance(value, Tensor):
            keeps_dtype = isinstance(value, (np.ndarray, np.generic))
            value = as_tensor(value) if keeps_dtype else as_tensor(value, dtype=self._numpy_dtype())
        if self._dtype != value.dtype:
            raise errors.InvalidArgumentError(None, None, f"TensorArray dtype is {self._dtype_name()} but Op is trying "
                                                          f"to write dtype {value.dtype.name}")
        return value

    def _dtype_name(self) -> str:
        return getattr(self._dtype, "name", str(self._dtype))

    def write(self, index, value, name=None) -> "TensorArray":
        """Put ``value`` at ``index``; returns this TensorArray (use the result, as with TensorFlow's)."""
        self._write(_index(index, "write"), value)
        return self

    def stack(self, name=None) -> Tensor:
        """All elements stacked along a new first axis (unwritten ones as zeros)."""
        for i in range(len(self._tensors)):
            self._zeros(i)
        if not self._tensors:
            shape = [0] + (self._element_shape.as_list() if self._element_shape.is_fully_defined() else [])
            return _zeros_tensor(tuple(shape), dtype=self._numpy_dtype())
        return ops.stack(list(self._tensors))

    def gather(self, indices, name=None) -> Tensor:
        """The elements at ``indices``, stacked."""
        return ops.stack([self._zeros(i) for i in _indices(indices, "gather")])

    def concat(self, name=None) -> Tensor:
        """All elements joined along their first axis (each must be at least a vector)."""
        values = [self._zeros(i) for i in range(len(self._tensors))]
        for i, value in enumerate(values):
            if value.ndim == 0:
                raise errors.InvalidArgumentError(None, None, f"Concat saw a scalar shape at index {i} but requires at "
                                                              f"least vectors.")
        if not values:
            return _zeros_tensor((0,) + tuple(self._element_shape.as_list()[1:] if self._element_shape.rank else ()),
                             dtype=self._numpy_dtype())
        return ops.concat(values, 0)

    def unstack(self, value, name=None) -> "TensorArray":
        """Its elements become the slices of ``value`` along the first axis."""
        tensors = _unstack(self._converted(value))
        if len(tensors) > len(self._tensors) and not self._dynamic_size:
            raise ValueError(f"Cannot unstack {len(tensors)} tensors into a TensorArray of static size "
                             f"{len(self._tensors)}")
        self._tensors = list(tensors)
        self._previously_read.clear()
        return self

    def scatter(self, indices, value, name=None) -> "TensorArray":
        """Write the slices of ``value`` along its first axis at ``indices``."""
        indices = _indices(indices, "scatter")
        slices = _unstack(self._converted(value))
        if len(slices) != len(indices):
            raise ValueError(f"TensorArray.scatter: {len(indices)} indices for {len(slices)} slices of the value")
        for index, piece in zip(indices, slices):
            self._write(index, piece)
        return self

    def split(self, value, lengths, name=None) -> "TensorArray":
        """Its elements become consecutive pieces of ``value``'s first axis, of ``lengths``."""
        value = self._converted(value)
        lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
        if lengths.ndim != 1:
            raise errors.InvalidArgumentError(None, None, f"Expected lengths to be a vector, received shape: "
                                                          f"{list(lengths.shape)}")
        if value.ndim == 0:
            raise errors.InvalidArgumentError(None, None, f"Expected value to be at least a vector, but received "
                                                          f"shape: {list(value.shape)}")
        if int(lengths.sum()) != value.shape[0]:
            raise errors.InvalidArgumentError(None, None, f"Expected sum of lengths to be equal to values.shape[0], "
                                                          f"but sum of lengths is {int(lengths.sum())} and value's "
                                                          f"shape is: {list(value.shape)} ")
        if not self._dynamic_size and len(lengths) != len(self._tensors):
            raise errors.InvalidArgumentError(None, None, f"TensorArray's size is not equal to the size of lengths "
                                                          f"({len(self._tensors)} vs. {len(lengths)}), and the "
                                                          f"TensorArray is not marked as dynamically resizeable")
        self._tensors = list(ops.split(value, [int(n) for n in lengths], axis=0))
        self._previously_read.clear()
        return self

    def close(self, name=None) -> None:
        """Drop every element."""
        self._tensors.clear()

    def __repr__(self) -> str:
        return (f"<tf.TensorArray dtype={self._dtype_name()} size={len(self._tensors)} "
                f"element_shape={self._element_shape}>")


__all__ = ["TensorArray"]
