"""TensorFlow's searching, counting and block-rearranging functions at the top level: ``tf.searchsorted`` (along
the innermost axis of any batch), ``tf.unique`` and ``tf.unique_with_counts`` (values in order of first
appearance), ``tf.unravel_index``, ``tf.histogram_fixed_width`` and ``tf.histogram_fixed_width_bins`` (values
outside the range counted in the end bins), ``tf.math.bincount``'s neighbours, and ``tf.nn.space_to_depth`` /
``depth_to_space``. Indices and counts carry no gradient; the block rearrangements do.

>>> import numpy as np
>>> import chainrule as tf
>>> y, idx = tf.unique(np.array([4, 1, 4, 2]))
>>> y.numpy(), idx.numpy()
(array([4, 1, 2]), array([0, 1, 0, 2], dtype=int32))
>>> tf.histogram_fixed_width(np.array([-1.0, 0.2, 0.5, 3.0]), [0.0, 1.0], nbins=2).numpy()
array([2, 2], dtype=int32)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule import backend, ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops import nn_spatial as _spatial
from chainrule.keras.ops.image_patches import extract_patches_3d
from chainrule.ops.no_gradient import no_gradient


class Unique(NamedTuple):
    """What ``tf.unique`` returns: the distinct values ``y`` and, per input value, its index ``idx`` in ``y``."""

    y: Tensor
    idx: Tensor


class UniqueWithCounts(NamedTuple):
    """What ``tf.unique_with_counts`` returns: ``y``, ``idx`` and how often each value occurs (``count``)."""

    y: Tensor
    idx: Tensor
    count: Tensor


def _host(x: Tensor) -> np.ndarray:
    return np.asarray(backend.to_host(x.data))


def _device(values: np.ndarray) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(values))


def _first_appearance(x: TensorLike, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"tf.{fn}: x must be a vector, got shape {tuple(x.shape)}")
    values = _host(x)
    _, first, inverse, counts = np.unique(values, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")      # the distinct values in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return values[first[order]], rank[inverse.reshape(-1)], counts[order]


def unique(x: TensorLike, out_idx="int32", name=None) -> Unique:
    """The distinct values of a vector in order of first appearance, and each value's index among them."""
    y, idx, _ = _first_appearance(x, "unique")
    return Unique(_device(y), _device(idx.astype(backend.as_dtype(out_idx))))


def unique_with_counts(x: TensorLike, out_idx="int32", name=None) -> UniqueWithCounts:
    """As :func:`unique`, with how often each distinct value occurs."""
    y, idx, counts = _first_appearance(x, "unique_with_counts")
    dtype = backend.as_dtype(out_idx)
    return UniqueWithCounts(_device(y), _device(idx.astype(dtype)), _device(counts.astype(dtype)))


def _searchsorted_rows(sequence, values, side):
    rows_s = sequence.reshape(-1, sequence.shape[-1])
    rows_v = values.reshape(-1, values.shape[-1])
    found = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(rows_s, rows_v)])
    return backend.array_namespace(sequence).asarray(found.reshape(values.shape))


def searchsorted(sorted_sequence: TensorLike, values: TensorLike, side: str = "left", out_type="int32",
                 name=None) -> Tensor:
    """Where each value would go in the sorted innermost axis of ``sorted_sequence`` (the leading axes of both are
    batch axes and must match); no gradient."""
    sequence, values = as_tensor(sorted_sequence), as_tensor(values)
    if side not in ("left", "right"):
        raise ValueError(f"tf.searchsorted: side must be 'left' or 'right', got {side!r}")
    if sequence.ndim == 0 or values.ndim == 0 or tuple(sequence.shape[:-1]) != tuple(values.shape[:-1]):
        raise ValueError(f"tf.searchsorted: sorted_sequence and values must have the same leading (batch) axes, got "
                         f"shapes {tuple(sequence.shape)} and {tuple(values.shape)}")
    return ops.cast(no_gradient(_searchsorted_rows, sequence, values, side=side), out_type)


def unravel_index(indices: TensorLike, dims, name=None) -> Tensor:
    """The coordinates of flat ``indices`` in an array of shape ``dims``, stacked: (len(dims), *indices.shape)."""
    indices = as_tensor(indices)
    dims = tuple(int(d) for d in (dims.numpy() if isinstance(dims, Tensor) else dims))
    flat = _host(indices)
    if flat.size and (flat.min() < 0 or flat.max() >= int(np.prod(dims))):
        raise ValueError(f"tf.unravel_index: an index is out of bounds for dims {dims}")
    return _device(np.stack(np.unravel_index(flat, dims)).astype(flat.dtype))


def _bins(values: np.ndarray, value_range, nbins: int, fn: str) -> np.ndarray:
    low, high = (float(v) for v in np.asarray(value_range.numpy() if isinstance(value_range, Tensor) else
                                              value_range, dtype=np.float64))
    if not high > low:
        raise ValueError(f"tf.{fn}: value_range must be [low, high] with low < high, got {[low, high]}")
    if int(nbins) < 1:
        raise ValueError(f"tf.{fn}: nbins must be positive, got {nbins}")
    position = np.floor((values.astype(np.float64) - low) / (high - low) * int(nbins))
    return np.clip(position, 0, int(nbins) - 1).astype(np.int64)


def histogram_fixed_width_bins(values: TensorLike, value_range, nbins: int = 100, dtype="int32",
                               name=None) -> Tensor:
    """The bin of each value among ``nbins`` equal bins over ``value_range`` (outside values in the end bins)."""
    values = as_tensor(values)
    return _device(_bins(_host(values), value_range, nbins, "histogram_fixed_width_bins")
                   .astype(backend.as_dtype(dtype)))


def histogram_fixed_width(values: TensorLike, value_range, nbins: int = 100, dtype="int32", name=None) -> Tensor:
    """How many values fall in each of ``nbins`` equal bins over ``value_range`` (outside values in the end
    bins)."""
    values = as_tensor(values)
    bins = _bins(_host(values), value_range, nbins, "histogram_fixed_width").reshape(-1)
    return _device(np.bincount(bins, minlength=int(nbins)).astype(backend.as_dtype(dtype)))


def extract_volume_patches(input: TensorLike, ksizes, strides, padding: str, name=None) -> Tensor:  # noqa: A002
    """The patches of volumes (N, D, H, W, C) of ``ksizes`` [1, d, h, w, 1] every ``strides`` [1, d, h, w, 1],
    each flattened in (depth, row, column, channel) order, 'VALID' or 'SAME'."""
    sizes, steps = [int(v) for v in ksizes], [int(v) for v in strides]
    if len(sizes) != 5 or sizes[0] != 1 or sizes[4] != 1 or len(steps) != 5 or steps[0] != 1 or steps[4] != 1:
        raise ValueError(f"tf.extract_volume_patches: ksizes and strides must be [1, d, h, w, 1], got {ksizes} and "
                         f"{strides}")
    if str(padding).upper() not in ("VALID", "SAME"):
        raise ValueError(f"tf.extract_volume_patches: padding must be 'VALID' or 'SAME', got {padding!r}")
    x = as_tensor(input)
    if x.ndim != 5:
        raise ValueError(f"tf.extract_volume_patches: input must be 5-D (N, D, H, W, C), got shape {tuple(x.shape)}")
    return extract_patches_3d(x, tuple(sizes[1:4]), tuple(steps[1:4]), padding=str(padding).lower())


def _layout(data_format: str, fn: str) -> str:
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"tf.nn.{fn}: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return "channels_last" if data_format == "NHWC" else "channels_first"


def space_to_depth(input: TensorLike, block_size: int, data_format: str = "NHWC", name=None) -> Tensor:  # noqa: A002
    """Each ``block_size`` x ``block_size`` block of pixels moved into the channels."""
    return _spatial.space_to_depth(input, block_size, _layout(data_format, "space_to_depth"))


def depth_to_space(input: TensorLike, block_size: int, data_format: str = "NHWC", name=None) -> Tensor:  # noqa: A002
    """Channels moved into ``block_size`` x ``block_size`` blocks of pixels (the inverse of space_to_depth)."""
    return _spatial.depth_to_space(input, block_size, _layout(data_format, "depth_to_space"))


__all__ = ["Unique", "UniqueWithCounts", "depth_to_space", "extract_volume_patches", "histogram_fixed_width",
           "histogram_fixed_width_bins", "searchsorted", "space_to_depth", "unique", "unique_with_counts",
           "unravel_index"]
