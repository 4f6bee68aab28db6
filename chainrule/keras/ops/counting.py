"""``keras.ops``' NumPy functions that count, search and compare values: ``bincount``, ``histogram``, ``digitize``,
``searchsorted``, ``unique``, ``isin``, ``unravel_index``, ``argpartition``, and the statistics ``corrcoef`` and
``correlate``. Indices and counts carry no gradient (they run on the arrays); ``bincount``'s weights, ``corrcoef``
and ``correlate`` are differentiable.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.bincount(np.array([0, 1, 1, 3])).numpy()
array([1, 2, 0, 1], dtype=int32)
>>> ops.searchsorted(np.array([1.0, 2.0, 3.0], "float32"), np.array([2.5, 0.0], "float32")).numpy()
array([2, 0], dtype=int32)
>>> ops.correlate(np.array([1.0, 2.0, 3.0], "float32"), np.array([0.0, 1.0], "float32")).numpy()
array([2., 3.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.core import cast, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import indexing as _indexing
from chainrule.ops import shape as _shape
from chainrule.ops.no_gradient import no_gradient


def _host(x) -> np.ndarray:
    return np.asarray(backend.to_host(x.data if isinstance(x, Tensor) else x))


def _device(values: np.ndarray) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(values))


def _non_negative_ints(x: Tensor, fn: str) -> np.ndarray:
    values = _host(x)
    if values.dtype.kind not in "iub":
        raise TypeError(f"{fn}: `x` must hold non-negative integers. Received: x.dtype={x.dtype}")
    if values.size and values.min() < 0:
        raise ValueError(f"{fn}: `x` must hold non-negative integers. Received a minimum of {values.min()}")
    return values.astype(np.int64)


def bincount(x: TensorLike, weights=None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """How often each value 0, 1, ... occurs in ``x`` (1-D, or each row of a 2-D ``x``), at least ``minlength``
    bins; int32 counts, or the sums of ``weights`` (differentiable with respect to them)."""
    if sparse:
        raise ValueError("bincount: `sparse=True` is not supported: chainrule tensors are dense")
    x = to_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: `x` must be 1-D or 2-D. Received: x.shape={tuple(x.shape)}")
    values = _non_negative_ints(x, "bincount")
    length = max(int(values.max(initial=-1)) + 1, int(minlength))
    rows = values.reshape(-1, values.shape[-1]) if x.ndim == 2 else values[None]
    if weights is None:
        counts = np.stack([np.bincount(r, minlength=length) for r in rows]).astype(np.int32)
        return _device(counts if x.ndim == 2 else counts[0])
    weights = to_tensor(weights, "weights")
    if tuple(weights.shape) != tuple(x.shape):
        raise ValueError(f"bincount: `weights` must have the shape of `x` {tuple(x.shape)}. Received: "
                         f"{tuple(weights.shape)}")
    if weights.dtype.kind not in "f":
        weights = cast(weights, np.result_type(values.dtype if x.dtype.kind != "b" else np.int32, weights.dtype))
    ids = rows + (np.arange(rows.shape[0]) * length)[:, None]          # one segment per (row, value)
    sums = _indexing.segment_sum(_shape.reshape(weights, (-1,)), _device(ids.reshape(-1)), rows.shape[0] * length)
    return _shape.reshape(sums, (rows.shape[0], length)) if x.ndim == 2 else sums


def _digitize(x, bins):
    return backend.array_namespace(x).asarray(np.digitize(_host(x), _host(bins)).astype(np.int32))


def digitize(x: TensorLike, bins: TensorLike) -> Tensor:
    """The index of the bin each value falls in (``bins`` monotonic, 1-D), int32; no gradient."""
    bins = to_tensor(bins, "bins")
    if bins.ndim != 1:
        raise ValueError(f"digitize: `bins` must be 1-D. Received: bins.shape={tuple(bins.shape)}")
    return no_gradient(_digitize, to_tensor(x), bins)


def histogram(x: TensorLike, bins: int = 10, range=None) -> tuple[Tensor, Tensor]:  # noqa: A002  (Keras's name)
    """The counts of a 1-D ``x`` in ``bins`` equal bins over ``range`` (the data's by default), and the
    ``bins + 1`` edges, both in x's dtype (as Keras's output spec); no gradient."""
    x = to_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}")
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"Argument `bins` should be a positive integer. Received: bins={bins!r}")
    if range is not None and (len(range) != 2 or range[0] > range[1]):
        raise ValueError(f"Argument `range` must be a pair (min, max) with min <= max. Received: range={range!r}")
    counts, edges = np.histogram(_host(x), bins=int(bins), range=range)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(backend.floatx())
    return _device(counts.astype(x.dtype)), _device(edges.astype(dtype))


def _searchsorted(sorted_sequence, values, side):
    found = backend.array_namespace(sorted_sequence).searchsorted(sorted_sequence, values, side=side)
    return found.astype(np.int32 if sorted_sequence.shape[0] <= np.iinfo(np.int32).max else np.int64)


def searchsorted(sorted_sequence: TensorLike, values: TensorLike, side: str = "left") -> Tensor:
    """Where each value would be inserted into the 1-D ``sorted_sequence`` to keep it sorted ('left': before equal
    values, 'right': after), int32; no gradient."""
    sequence = to_tensor(sorted_sequence, "sorted_sequence")
    if sequence.ndim != 1:
        raise ValueError(f"`searchsorted` only supports 1-D sorted sequences. You can use "
                         f"`keras.ops.vectorized_map` to extend it to N-D sequences. Received: "
                         f"sorted_sequence.shape={tuple(sequence.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"`side` must be either 'left' or 'right'. Received: side={side!r}")
    return no_gradient(_searchsorted, sequence, to_tensor(values, "values"), side=side)


def unique(x: TensorLike, sorted: bool = True, return_index: bool = False,  # noqa: A002  (Keras's names)
           return_inverse: bool = False, return_counts: bool = False, axis=None, size=None, fill_value=None):
    """The sorted distinct values of ``x`` (of the flattened ``x``, or its distinct slices along ``axis``), with the
    first indices, the inverse indices and the counts as asked; ``size`` pads (with ``fill_value``, default the
    smallest value) or cuts the result to a fixed length. No gradient."""
    x = to_tensor(x)
    values = _host(x)
    outputs = np.unique(values, return_index=return_index, return_inverse=return_inverse,
                        return_counts=return_counts, axis=axis)
    outputs = list(outputs) if isinstance(outputs, tuple) else [outputs]
    if size is not None:
        dim = 0 if axis is None else knp._axes_of(axis, x.ndim, "unique")[0]
        found = outputs[0].shape[dim]
        if found < size:
            pad = [(0, 0)] * outputs[0].ndim
            pad[dim] = (0, size - found)
            fill = outputs[0].min() if fill_value is None and found else (fill_value or 0)
            outputs[0] = np.pad(outputs[0], pad, constant_values=fill)
        else:
            outputs[0] = np.take(outputs[0], np.arange(size), axis=dim)
        extras = [i for i, asked in zip((1, 2, 3), (return_index, return_inverse, return_counts)) if asked]
        position = 1
        for i in extras:
            if i != 2:  # the inverse indices keep one entry per element of x
                part = outputs[position]
                outputs[position] = np.pad(part, (0, max(size - part.shape[0], 0)))[:size]
            position += 1
    tensors = [_device(o) for o in outputs]
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def _isin(x1, x2, assume_unique, invert):
    return backend.array_namespace(x1).asarray(np.isin(_host(x1), _host(x2), assume_unique=assume_unique,
                                                       invert=invert))


def isin(x1: TensorLike, x2: TensorLike, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each value of ``x1`` occurs in ``x2`` (the opposite with ``invert``); booleans, no gradient."""
    return no_gradient(_isin, to_tensor(x1, "x1"), to_tensor(x2, "x2"), assume_unique=bool(assume_unique),
                       invert=bool(invert))


def _unravel(indices, shape):
    xp = backend.array_namespace(indices)
    return xp.stack([xp.asarray(c, dtype=indices.dtype) for c in np.unravel_index(_host(indices), shape)])


def unravel_index(indices: TensorLike, shape) -> tuple[Tensor, ...]:
    """The coordinates in an array of ``shape`` of each flat index, one tensor per axis in the indices' dtype."""
    indices = to_tensor(indices, "indices")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: `indices` must be integers. Received: indices.dtype={indices.dtype}")
    shape = tuple(int(n) for n in shape)
    size = int(np.prod(shape))
    flat = _host(indices)
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise ValueError(f"unravel_index: an index is out of bounds for an array of shape {shape}")
    coords = no_gradient(_unravel, indices, shape=shape)
    return tuple(coords[d] for d in range(len(shape)))


def _argpartition(x, kth, axis):
    return backend.array_namespace(x).asarray(np.argpartition(_host(x), kth, axis=axis).astype(np.int32))


def argpartition(x: TensorLike, kth, axis: int = -1) -> Tensor:
    """Indices that put the ``kth`` smallest value of each slice along ``axis`` in place, smaller ones before it and
    larger ones after (in no particular order), int32; no gradient."""
    x = to_tensor(x)
    ax = knp._axes_of(axis, x.ndim, "argpartition")[0]
    kth = tuple(int(k) for k in np.atleast_1d(kth))
    if any(not -x.shape[ax] <= k < x.shape[ax] for k in kth):
        raise ValueError(f"argpartition: `kth`={kth} is out of bounds for an axis of size {x.shape[ax]}")
    return no_gradient(_argpartition, x, kth=kth, axis=ax)


def corrcoef(x: TensorLike) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x`` (variables; columns are observations), clipped to
    [-1, 1] as NumPy; int64 and float64 give float64, other integers floatx."""
    x = to_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"corrcoef: `x` must be 1-D or 2-D. Received: x.shape={tuple(x.shape)}")
    if x.dtype.kind != "f":
        x = cast(x, "float64" if x.dtype.name == "int64" else backend.floatx())
    rows = _shape.reshape(x, (1, -1)) if x.ndim == 1 else x
    centred = rows - knp.mean(rows, axis=1, keepdims=True)
    covariance = knp.matmul(centred, knp.transpose(centred))
    scale = knp.sqrt(knp.diagonal(covariance))
    out = knp.clip(covariance / (scale[:, None] * scale[None, :]), -1.0, 1.0)
    return out[0, 0] if x.ndim == 1 else out


def correlate(x1: TensorLike, x2: TensorLike, mode: str = "valid") -> Tensor:
    """The cross-correlation ``z[k] = Σ_n x1[n + k] x2[n]`` of two 1-D tensors, 'valid', 'same' or 'full' (as
    ``numpy.correlate``); int64 gives float64, other integers float32."""
    x1, x2 = to_tensor(x1, "x1"), to_tensor(x2, "x2")
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"correlate: both inputs must be 1-D. Received shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full'. Received: mode={mode!r}")
    common = np.result_type(x1.dtype, x2.dtype)
    dtype = common if common.kind == "f" else np.dtype("float64" if common.name == "int64" else "float32")
    x1, x2 = cast(x1, dtype), cast(x2, dtype)
    if x2.shape[0] > x1.shape[0]:  # NumPy swaps the operands and reverses the result
        return knp.flip(correlate(x2, x1, mode), 0)
    n, m = x1.shape[0], x2.shape[0]
    if m == 0:
        raise ValueError("correlate: `x2` cannot be empty")
    before = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    after = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    padded = knp.pad(x1, ((before, after),)) if before or after else x1
    steps = padded.shape[0] - m + 1
    windows = knp.take(padded, knp._index_constant(np.arange(steps)[:, None] + np.arange(m)[None, :]), axis=0)
    return knp.matmul(windows, x2)


__all__ = ["argpartition", "bincount", "corrcoef", "correlate", "digitize", "histogram", "isin", "searchsorted",
           "unique", "unravel_index"]
wrap_namespace(globals(), __all__, "keras.ops.")
