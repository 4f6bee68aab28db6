"""``tf.math``'s segment reductions and ``tf.math.bincount``, with TensorFlow's rules: the sorted ``segment_*`` ops
make ``max(ids) + 1`` segments and give 0 for an empty one; the ``unsorted_segment_*`` ops take ``num_segments``,
ids of any rank (a prefix of the data's shape), drop negative ids, and give the reduction's identity for an empty
segment (the dtype's lowest value for max, highest for min, 0 for mean and sqrt_n, 1 for prod). Sums, means and
products are differentiable; a max or min passes its gradient to the entries equal to it, shared among ties (as
TensorFlow).

>>> import numpy as np
>>> import chainrule as tf
>>> data = np.array([1.0, 2.0, 3.0, 4.0], "float32")
>>> tf.math.segment_sum(data, [0, 0, 1, 1]).numpy()
array([3., 7.], dtype=float32)
>>> tf.math.unsorted_segment_max(data, [1, 0, 1, -1], num_segments=3).numpy()
array([ 2.0000000e+00,  3.0000000e+00, -3.4028235e+38], dtype=float32)
>>> tf.math.bincount(np.array([1, 1, 3])).numpy()
array([0, 2, 0, 1], dtype=int32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend, ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops import counting as _counting
from chainrule.keras.ops.core import stop_gradient
from chainrule.keras.ops.math import segment_prod as _segment_prod
from chainrule.ops.no_gradient import no_gradient


def _flat_ids(data: TensorLike, segment_ids: TensorLike, fn: str) -> tuple[Tensor, Tensor]:
    """The data with the ids' axes merged into one, and the ids flattened to match (ids are a prefix of data)."""
    data, ids = as_tensor(data), as_tensor(segment_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"tf.math.{fn}: segment_ids must be integers, got dtype {ids.dtype}")
    if tuple(data.shape[:ids.ndim]) != tuple(ids.shape) or ids.ndim == 0:
        raise ValueError(f"tf.math.{fn}: segment_ids.shape {tuple(ids.shape)} must be a prefix of data.shape "
                         f"{tuple(data.shape)}")
    if ids.ndim > 1:
        data = ops.reshape(data, (-1,) + tuple(data.shape[ids.ndim:]))
        ids = ops.reshape(ids, (-1,))
    return data, ids


def _sorted_count(ids: Tensor, fn: str) -> int:
    values = np.asarray(backend.to_host(ids.data))
    if values.size and (np.any(np.diff(values) < 0) or values.min() < 0):
        raise ValueError(f"tf.math.{fn}: segment_ids must be sorted and non-negative, got {values.tolist()}")
    return int(values.max()) + 1 if values.size else 0


def _count(ids: Tensor, num_segments: int, dtype) -> Tensor:
    """How many rows each segment has, shaped to broadcast over a segment's values."""
    ones = Tensor._wrap(backend.xp.ones(ids.shape, dtype=dtype))
    return ops.segment_sum(ones, ids, num_segments)


def _per_row(values: Tensor, data: Tensor) -> Tensor:
    return ops.reshape(values, tuple(values.shape) + (1,) * (data.ndim - 1))


def _extreme_values(data, ids, num_segments, largest, empty):
    xp = backend.array_namespace(data)
    fill = -np.inf if largest else np.inf
    if data.dtype.kind in "iu":
        fill = np.iinfo(data.dtype).min if largest else np.iinfo(data.dtype).max
    out = np.full((num_segments,) + tuple(data.shape[1:]), fill, dtype=data.dtype)
    host_ids, host = np.asarray(backend.to_host(ids)), np.asarray(backend.to_host(data))
    kept = (host_ids >= 0) & (host_ids < num_segments)
    (np.maximum if largest else np.minimum).at(out, host_ids[kept], host[kept])
    if empty is not None:
        counts = np.bincount(host_ids[kept], minlength=num_segments)[:num_segments]
        out[counts == 0] = empty
    elif data.dtype.kind == "f":  # TensorFlow's unsorted max/min fill with the dtype's lowest/highest finite value
        info = np.finfo(data.dtype)
        out[np.isinf(out) & (out == fill)] = info.min if largest else info.max
    return xp.asarray(out)


def _ties(data, ids, extremes):
    """Each row's share of its segment's gradient: 1 / (number of ties) where it equals the extreme, else 0."""
    xp = backend.array_namespace(data)
    host_ids, host = np.asarray(backend.to_host(ids)), np.asarray(backend.to_host(data))
    kept = (host_ids >= 0) & (host_ids < extremes.shape[0])
    at = np.asarray(backend.to_host(extremes))[np.where(kept, host_ids, 0)]
    hit = (host == at) & kept.reshape((-1,) + (1,) * (host.ndim - 1))
    ties = np.zeros(extremes.shape, dtype=np.float64)
    np.add.at(ties, host_ids[kept], hit[kept])
    share = np.where(hit, 1.0 / np.maximum(ties[np.where(kept, host_ids, 0)], 1.0), 0.0)
    return xp.asarray(share.astype(host.dtype))


def _extreme(data: Tensor, ids: Tensor, num_segments: int, largest: bool, empty) -> Tensor:
    values = no_gradient(_extreme_values, data, ids, num_segments=num_segments, largest=largest, empty=empty)
    if data.dtype.kind != "f" or not data.requires_grad:
        return values
    # the exact values, plus a term that is 0 but sends the gradient to the tied extremes
    routed = ops.segment_sum(data * no_gradient(_ties, data, ids, values), ids, num_segments)
    return values + (routed - stop_gradient(routed))


def _num(num_segments) -> int:
    value = num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments
    if np.ndim(value) != 0 or int(value) < 0:
        raise ValueError(f"num_segments must be a non-negative integer scalar, got {num_segments!r}")
    return int(value)


def unsorted_segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Sums of the rows of each segment (negative ids dropped)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_sum")
    return ops.segment_sum(data, ids, _num(num_segments))


def unsorted_segment_mean(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Means of the rows of each segment (0 for an empty one)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_mean")
    n = _num(num_segments)
    return ops.segment_sum(data, ids, n) / _per_row(ops.maximum(_count(ids, n, data.dtype), 1.0), data)


def unsorted_segment_sqrt_n(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Sums of the rows of each segment divided by the square root of their number (0 for an empty one)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_sqrt_n")
    n = _num(num_segments)
    return ops.segment_sum(data, ids, n) / _per_row(ops.sqrt(ops.maximum(_count(ids, n, data.dtype), 1.0)), data)


def unsorted_segment_prod(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Products of the rows of each segment (1 for an empty one)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_prod")
    return _segment_prod(data, ids, _num(num_segments))


def unsorted_segment_max(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Maxima of the rows of each segment (the dtype's lowest value for an empty one)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_max")
    return _extreme(data, ids, _num(num_segments), True, None)


def unsorted_segment_min(data: TensorLike, segment_ids: TensorLike, num_segments, name=None) -> Tensor:
    """Minima of the rows of each segment (the dtype's highest value for an empty one)."""
    data, ids = _flat_ids(data, segment_ids, "unsorted_segment_min")
    return _extreme(data, ids, _num(num_segments), False, None)


def _sorted(fn: str, data: TensorLike, segment_ids: TensorLike) -> tuple[Tensor, Tensor, int]:
    data, ids = as_tensor(data), as_tensor(segment_ids)
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"tf.math.{fn}: segment_ids must be a vector with one id per row of data; got shapes "
                         f"{tuple(ids.shape)} and {tuple(data.shape)}")
    return data, ids, _sorted_count(ids, fn)


def segment_sum(data: TensorLike, segment_ids: TensorLike, name=None) -> Tensor:
    """Sums of the rows of each segment; ``segment_ids`` sorted, ``max + 1`` segments."""
    data, ids, n = _sorted("segment_sum", data, segment_ids)
    return ops.segment_sum(data, ids, n)


def segment_mean(data: TensorLike, segment_ids: TensorLike, name=None) -> Tensor:
    """Means of the rows of each segment (0 for an empty one); ``segment_ids`` sorted."""
    data, ids, n = _sorted("segment_mean", data, segment_ids)
    return ops.segment_sum(data, ids, n) / _per_row(ops.maximum(_count(ids, n, data.dtype), 1.0), data)


def segment_prod(data: TensorLike, segment_ids: TensorLike, name=None) -> Tensor:
    """Products of the rows of each segment (1 for an empty one); ``segment_ids`` sorted."""
    data, ids, n = _sorted("segment_prod", data, segment_ids)
    return _segment_prod(data, ids, n)


def segment_max(data: TensorLike, segment_ids: TensorLike, name=None) -> Tensor:
    """Maxima of the rows of each segment (0 for an empty one); ``segment_ids`` sorted."""
    data, ids, n = _sorted("segment_max", data, segment_ids)
    return _extreme(data, ids, n, True, 0)


def segment_min(data: TensorLike, segment_ids: TensorLike, name=None) -> Tensor:
    """Minima of the rows of each segment (0 for an empty one); ``segment_ids`` sorted."""
    data, ids, n = _sorted("segment_min", data, segment_ids)
    return _extreme(data, ids, n, False, 0)


def bincount(arr: TensorLike, weights=None, minlength=None, maxlength=None, dtype="int32", name=None, axis=None,
             binary_output: bool = False) -> Tensor:
    """How often each value 0, 1, ... occurs in ``arr`` (all of it, or each row with ``axis=-1``): at least
    ``minlength`` and at most ``maxlength`` bins (larger values dropped), summing ``weights`` when given, 1 per
    bin with ``binary_output``."""
    arr = as_tensor(arr)
    if axis not in (None, 0, -1):
        raise ValueError(f"tf.math.bincount: axis must be None, 0 or -1, got {axis!r}")
    if axis == -1 and arr.ndim != 2:
        raise ValueError(f"tf.math.bincount: axis=-1 needs a 2-D input, got shape {tuple(arr.shape)}")
    rows = axis == -1
    if not rows:
        arr = ops.reshape(arr, (-1,))
        weights = None if weights is None else ops.reshape(as_tensor(weights), (-1,))
    if maxlength is not None:
        keep = np.asarray(backend.to_host(arr.data)) < int(maxlength)
        if not keep.all():
            if rows:
                raise NotImplementedError("tf.math.bincount: maxlength with axis=-1 is not supported")
            arr = Tensor._wrap(arr.data[keep])
            weights = None if weights is None else as_tensor(weights)[np.flatnonzero(keep)]
    counts = _counting.bincount(arr, weights=weights, minlength=int(minlength or 0))
    if maxlength is not None and counts.shape[-1] > int(maxlength):
        counts = counts[..., :int(maxlength)]
    if binary_output:
        return ops.cast(counts > 0, dtype)
    return counts if weights is not None else ops.cast(counts, dtype)


__all__ = ["bincount", "segment_max", "segment_mean", "segment_min", "segment_prod", "segment_sum",
           "unsorted_segment_max", "unsorted_segment_mean", "unsorted_segment_min", "unsorted_segment_prod",
           "unsorted_segment_sqrt_n", "unsorted_segment_sum"]
