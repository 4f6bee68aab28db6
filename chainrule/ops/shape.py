"""Ops that move values without changing them: reshape, transpose, broadcast, concat, stack, split, pad, indexing.

>>> import chainrule as cr
>>> cr.concat([cr.constant([1.0]), cr.constant([2.0, 3.0])], axis=0).numpy()
array([1., 2., 3.], dtype=float32)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.ops.reduce import _normalize_axis
from chainrule.engine.tensor import Tensor, TensorLike, _to_array, as_tensor
from chainrule.utils.errors import IndexOutOfRangeError


class Reshape(Function):
    # y = x viewed as `shape`   ->   dx = g viewed as x's shape
    complex_grad = True  # moves values only

    def forward(self, x, shape):
        return backend.array_namespace(x).reshape(x, shape)

    def backward(self, g):
        return Reshape.apply(g, shape=self.arrays[0].shape)


class Transpose(Function):
    # y = x with axes permuted   ->   dx = g with the inverse permutation
    complex_grad = True  # moves values only

    def forward(self, x, axes):
        self.axes = axes
        return backend.array_namespace(x).permute_dims(x, axes)

    def backward(self, g):
        return Transpose.apply(g, axes=tuple(int(a) for a in np.argsort(self.axes)))


class BroadcastTo(Function):
    # y = x repeated to `shape`   ->   dx = g summed back to x's shape
    complex_grad = True  # moves values only

    def forward(self, x, shape):
        return backend.array_namespace(x).broadcast_to(x, shape)

    def backward(self, g):
        from chainrule.ops.reduce import SumTo

        return SumTo.apply(g, shape=self.arrays[0].shape)


class Concat(Function):
    # y = [x1 | x2 | ...] along axis   ->   dxi = the slice of g where xi went
    complex_grad = True  # moves values only

    def forward(self, *xs, axis):
        self.axis = axis
        return backend.array_namespace(*xs).concat(xs, axis=axis)

    def backward(self, g):
        bounds = np.cumsum([0] + [x.shape[self.axis] for x in self.arrays])
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (slice(lo, hi), ...)] for lo, hi in zip(bounds[:-1], bounds[1:]))


class Pad(Function):
    # y = x with a border of constants   ->   dx = the middle of g
    complex_grad = True  # moves values only

    def forward(self, x, paddings, constant_values):
        self.paddings = paddings
        return backend.extras_for(x).pad(x, paddings, constant_values)

    def backward(self, g):
        return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(self.paddings, self.arrays[0].shape))]


def _is_basic(index) -> bool:
    """True when indexing with ``index`` picks each element at most once (ints, slices, None, Ellipsis)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Function):
    # y = x[index]   ->   dx = zeros with g added at index (repeated indices add up)
    complex_grad = True  # moves values only

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, g):
        return ScatterAdd.apply(g, index=self.index, shape=self.arrays[0].shape)


class ScatterAdd(Function):
    # y = zeros(shape) with x added at index   ->   dx = g[index]
    complex_grad = True  # moves values only

    def forward(self, x, index, shape):
        self.index = index
        out = backend.xp.zeros(shape, dtype=x.dtype)
        if _is_basic(index) and type(x) is not np.ndarray:  # the standard sets through no None (new axes)
            kept = tuple(i for i in index if i is not None) if isinstance(index, tuple) else index
            out[kept] = backend.array_namespace(x).reshape(x, out[kept].shape)
        elif _is_basic(index):
            out[index] = x
        else:
            backend.xp.add.at(out, index, x)
        return out

    def backward(self, g):
        return GetItem.apply(g, index=self.index)


def _plain_index(index):
    """Turn Tensors inside an index into arrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _device_index(index, data):
    """An index for an array off NumPy: its NumPy index arrays copied to that array's device, and a trailing
    ``...`` where integers and slices name fewer axes than the array has (the array API does not fill them in as
    NumPy does)."""
    owner = backend.extras_for(data)
    parts = tuple((owner.from_host(i) if isinstance(i, np.ndarray) else i)
                  for i in (index if isinstance(index, tuple) else (index,)))
    named = sum(1 for i in parts if i is not None and i is not Ellipsis)
    arrays = any(backend.is_array(i) for i in parts)  # (a mask stands alone; index arrays take no ...)
    if not any(i is Ellipsis for i in parts) and named < data.ndim and not arrays:
        parts += (Ellipsis,)
    return parts


def _gathered(x: Tensor, parts: tuple) -> Tensor | None:
    """``x[parts]`` off NumPy as one of ops/indexing.py's gathers where ``parts`` index with integer arrays or a
    boolean mask beyond the standard's indexing: one integer array on an axis (the others whole), integer arrays on
    the leading axes, or a leading boolean mask (its True positions); None for any other index."""
    arrays = [i for i, p in enumerate(parts) if backend.is_array(p)]
    others = [p for i, p in enumerate(parts) if i not in arrays]
    if not arrays or any(p is not Ellipsis and p != slice(None) for p in others) or \
            any(p is Ellipsis for p in parts[:arrays[-1]]):
        return None
    from chainrule.ops.indexing import IndexGather  # (indexing.py builds on this module)

    xp = backend.array_namespace(x.data)
    kinds = {backend.dtype_kind(parts[i].dtype) for i in arrays}
    if kinds == {"b"} and arrays == [0]:
        return IndexGather.apply(x, xp.stack(xp.nonzero(parts[0]), axis=-1), how="nd")
    if not kinds <= set("iu"):
        return None
    if len(arrays) == 1:
        return IndexGather.apply(x, parts[arrays[0]], how="take", axis=arrays[0])
    if arrays != list(range(len(arrays))):
        return None
    coordinates = xp.broadcast_arrays(*(xp.astype(parts[i], xp.int64) for i in arrays))
    return IndexGather.apply(x, xp.stack(coordinates, axis=-1), how="nd")


@op
def getitem(x: TensorLike, index) -> Tensor:
    """``x[index]`` with NumPy's rules (slices, integers, integer and boolean arrays); differentiable in x."""
    x = as_tensor(x)
    index = _plain_index(index)
    if type(x.data) is not np.ndarray:
        index = _device_index(index, x.data)
        gathered = _gathered(x, index)
        if gathered is not None:
            return gathered
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} is invalid for a tensor of shape {x.shape}: {e}") from None


@op
def reshape(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """View ``x`` with a new shape (one entry may be -1)."""
    x = as_tensor(x)
    shape = tuple(int(n) for n in (shape if isinstance(shape, (tuple, list)) else [shape]))
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} values) "
                         f"into shape {shape}") from None


@op
def transpose(x: TensorLike, perm: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when ``perm`` is None), as ``tf.transpose``."""
    x = as_tensor(x)
    perm = tuple(range(x.ndim))[::-1] if perm is None else tuple(int(p) % max(x.ndim, 1) for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: perm {perm} is not a permutation of the axes of a tensor of shape {x.shape}")
    return Transpose.apply(x, axes=perm)


@op
def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along axes of size 1 (and new leading axes) to reach ``shape``."""
    x = as_tensor(x)
    shape = tuple(int(n) for n in shape)
    try:
        reachable = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        reachable = False
    if not reachable:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


@op
def concat(values: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``tf.concat``)."""
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise ValueError("concat: need at least one tensor")
    ndim = tensors[0].ndim
    axis = _normalize_axis(axis, ndim, "concat")[0]
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(f"concat: shapes {[tuple(t.shape) for t in tensors]} differ outside axis {axis}")
    return Concat.apply(*tensors, axis=axis)


@op
def stack(values: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis (``tf.stack``)."""
    tensors = [as_tensor(v) for v in values]
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[tuple(t.shape) for t in tensors]}")
    axis = _normalize_axis(axis, tensors[0].ndim + 1, "stack")[0]
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)


@op
def split(x: TensorLike, num_or_size_splits: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Cut ``x`` along ``axis`` into equal parts (an int) or parts of the given sizes (``tf.split``)."""
    x = as_tensor(x)
    axis = _normalize_axis(axis, x.ndim, "split")[0]
    n = x.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        if n % num_or_size_splits:
            raise ValueError(f"split: axis {axis} of size {n} does not divide into {num_or_size_splits} parts")
        sizes = [n // num_or_size_splits] * int(num_or_size_splits)
    else:
        sizes = list(num_or_size_splits)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of axis {axis}")
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(int(lo), int(hi)),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


@op
def pad(x: TensorLike, paddings: Sequence[Sequence[int]], constant_values: float = 0) -> Tensor:
    """Add a constant border: ``paddings[i] = (before, after)`` for axis i (``tf.pad``, mode CONSTANT)."""
    x = as_tensor(x)
    paddings = tuple((int(lo), int(hi)) for lo, hi in np.asarray(paddings).reshape(-1, 2))
    if len(paddings) != x.ndim:
        raise ValueError(f"pad: got {len(paddings)} (before, after) pairs for a tensor of rank {x.ndim}")
    return Pad.apply(x, paddings=paddings, constant_values=constant_values)


@op
def gather(params: TensorLike, indices: TensorLike, axis: int = 0) -> Tensor:
    """Take slices of ``params`` at integer ``indices`` along ``axis`` (``tf.gather``)."""
    params = as_tensor(params)
    idx = _to_array(indices)
    if backend.dtype_kind(idx.dtype) not in "iu":
        raise TypeError(f"gather: indices must be integers, got dtype {idx.dtype}")
    axis = _normalize_axis(axis, params.ndim, "gather")[0]
    xp = backend.array_namespace(idx)
    if idx.size and (int(xp.min(idx)) < -params.shape[axis] or int(xp.max(idx)) >= params.shape[axis]):
        host = backend.to_host(idx)
        bad = host[(host < -params.shape[axis]) | (host >= params.shape[axis])].ravel()[0]
        raise IndexOutOfRangeError(None, None, f"gather: indices out of range for axis {axis} of size "
                                   f"{params.shape[axis]} (indices{np.argwhere(host == bad)[0].tolist()} = {bad})")
    if type(params.data) is not np.ndarray:  # the standard indexes with one integer array at most: a take of rows
        from chainrule.ops.indexing import IndexGather

        return IndexGather.apply(params, backend.extras_for(params.data).from_host(idx) if type(idx) is np.ndarray
                                 else idx, how="take", axis=axis)
    return GetItem.apply(params, index=(slice(None),) * axis + (idx,))


def expand_dims(x: TensorLike, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis``."""
    x = as_tensor(x)
    axis = _normalize_axis(axis, x.ndim + 1, "expand_dims")[0]
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove axes of size 1 (all of them when ``axis`` is None)."""
    x = as_tensor(x)
    axes = {i for i, n in enumerate(x.shape) if n == 1} if axis is None else \
        {a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))
