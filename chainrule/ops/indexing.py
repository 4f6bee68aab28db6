"""Gathers and scatters whose integer indices are a tensor input (so a traced step replays them with each replay's
indices): ``take``, ``take_along_axis``, ``scatter``, ``scatter_update``, ``slice_update``, ``segment_sum``.

A gather and the scatter-add with the same indices are each other's transpose: one is the other's backward.

>>> import chainrule as cr
>>> x = cr.constant([[1.0, 2.0], [3.0, 4.0]])
>>> cr.ops.take_along_axis(x, cr.constant([[1], [0]]), axis=1).numpy()
array([[2.],
       [3.]], dtype=float32)
>>> cr.ops.scatter(cr.constant([[0], [0], [2]]), cr.constant([1.0, 2.0, 5.0]), (3,)).numpy()
array([3., 0., 5.], dtype=float32)
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.math import Where, cast
from chainrule.ops.no_gradient import no_gradient
from chainrule.ops.reduce import _normalize_axis
from chainrule.ops.shape import GetItem, Reshape


def _index(indices, shape: tuple[int, ...], how: str, axis: int) -> tuple:
    """The NumPy index that ``indices`` stand for in a tensor of ``shape``.

    'take': positions along ``axis``; 'along': ``numpy.take_along_axis``'s (the other axes run over their ranges,
    broadcast against ``indices``); 'nd': the last axis of ``indices`` holds coordinates into the leading axes.
    """
    if how == "take":
        return (slice(None),) * axis + (indices,)
    if how == "along":
        return tuple(indices if d == axis else backend.xp.arange(n).reshape((-1,) + (1,) * (len(shape) - d - 1))
                     for d, n in enumerate(shape))
    return tuple(indices[..., k] for k in range(indices.shape[-1]))


class IndexGather(Function):
    # y = x[index(indices)]   ->   dx = zeros(x.shape) with g added at index(indices) (repeated indices add up)
    def forward(self, x, indices, how, axis=0):
        self.how, self.axis = how, axis
        if type(x) is not np.ndarray:
            return gather_rows(x, indices, how, axis)
        return x[_index(indices, x.shape, how, axis)]

    def backward(self, g):
        x, indices = self.arrays
        return IndexScatterAdd.apply(g, indices, shape=x.shape, how=self.how, axis=self.axis), None


class IndexScatterAdd(Function):
    # y = zeros(shape) with x added at index(indices)   ->   dx = g[index(indices)]
    def forward(self, x, indices, shape, how, axis=0):
        self.how, self.axis = how, axis
        if type(x) is not np.ndarray:
            return gather_rows_transposed(x, indices, shape, how, axis)
        out = backend.xp.zeros(shape, dtype=x.dtype)
        backend.xp.add.at(out, _index(indices, shape, how, axis), x)
        return out

    def backward(self, g):
        return IndexGather.apply(g, self.arrays[1], how=self.how, axis=self.axis), None


# --- the same off NumPy: whole rows of a 2-D table through the standard's take and the backend's scatter_add -------
class _Rows(NamedTuple):
    """How a gather reads a tensor of some shape as a table of rows: ``permute_dims(x, perm)`` reshaped to
    ``(count, columns)``; the rows taken come out shaped ``picked``, and ``permute_dims(picked, back)`` is the
    result."""
    perm: tuple[int, ...]
    count: int
    columns: int
    picked: tuple[int, ...]
    back: tuple[int, ...]


def _rows(indices, shape: tuple[int, ...], how: str, axis: int, xp):
    """(:class:`_Rows`, the row of the table each index reads) for :func:`_index`'s three kinds of index: 'take'
    reads rows of x with ``axis`` first; 'along' and 'nd' read the rows of x flattened over its leading axes by their
    flat positions (one element each for 'along', the trailing axes for 'nd')."""
    ndim = len(shape)
    wide = xp.astype(indices, xp.int64)  # flat positions can pass int32's range
    if how == "take":
        rest = shape[:axis] + shape[axis + 1:]
        m = len(indices.shape)
        back = tuple(range(m, m + axis)) + tuple(range(m)) + tuple(range(m + axis, m + ndim - 1))
        return _Rows((axis,) + tuple(d for d in range(ndim) if d != axis), shape[axis], math.prod(rest),
                     tuple(indices.shape) + rest, back), _wrapped(wide, shape[axis], xp)
    if how == "along":
        flat = 0
        for d, n in enumerate(shape):
            coordinate = _wrapped(wide, n, xp) if d == axis else \
                xp.reshape(xp.arange(n, dtype=xp.int64), (-1,) + (1,) * (ndim - d - 1))
            flat = flat * n + coordinate
        identity = tuple(range(ndim))
        return _Rows(identity, math.prod(shape), 1, tuple(flat.shape), identity), flat
    depth = indices.shape[-1]
    flat = xp.zeros(indices.shape[:-1], dtype=xp.int64)
    for k in range(depth):
        flat = flat * shape[k] + _wrapped(wide[..., k], shape[k], xp)
    identity = tuple(range(len(indices.shape) - 1 + ndim - depth))
    return _Rows(tuple(range(ndim)), math.prod(shape[:depth]), math.prod(shape[depth:]),
                 tuple(indices.shape[:-1]) + shape[depth:], identity), flat


def _wrapped(indices, size: int, xp):
    """Negative indices counted from the end (the standard leaves them unspecified)."""
    return xp.where(indices < 0, indices + size, indices)


def gather_rows(x, indices, how: str, axis: int = 0):
    """``x[_index(indices, x.shape, how, axis)]`` for any backend's arrays: one ``take`` of whole rows."""
    xp = backend.array_namespace(x)
    layout, rows = _rows(indices, x.shape, how, axis, xp)
    table = xp.reshape(xp.permute_dims(x, layout.perm), (layout.count, layout.columns))
    picked = xp.take(table, xp.reshape(rows, (-1,)), axis=0)
    return xp.permute_dims(xp.reshape(picked, layout.picked), layout.back)


def gather_rows_transposed(values, indices, shape: tuple[int, ...], how: str, axis: int = 0):
    """Zeros of ``shape`` with ``values`` added at ``_index(indices, shape, how, axis)`` (repeats add up) for any
    backend's arrays: :func:`gather_rows` transposed, through the backend's ``scatter_add``."""
    owner = backend.extras_for(values)
    xp = owner.namespace
    layout, rows = _rows(indices, shape, how, axis, xp)
    back = tuple(int(d) for d in np.argsort(layout.back))
    picked = xp.reshape(xp.permute_dims(values, back), (math.prod(rows.shape), layout.columns))
    table = xp.zeros((layout.count, layout.columns), dtype=values.dtype)
    if picked.shape[0]:  # (nothing to add from no indices)
        table = owner.scatter_add(table, xp.reshape(rows, (-1,)), picked)
    moved = xp.reshape(table, tuple(shape[d] for d in layout.perm))
    return xp.permute_dims(moved, tuple(int(d) for d in np.argsort(layout.perm)))


class ScatterUpdate(Function):
    # y = x with y[index_i] = u_i (of repeated indices, the last write wins)
    # ->  dx = g with 0 at every index,  du_i = g[index_i] for a winning write, 0 for an overwritten one
    def forward(self, x, updates, indices):
        if type(x) is not np.ndarray:
            return self._forward_namespace(x, updates, indices)
        self.winners = _last_writes(indices, x.shape)
        index = _index(indices[self.winners], x.shape, "nd", 0)
        out = x.copy()
        out[index] = updates[self.winners]
        self.kept = backend.xp.ones(x.shape, dtype=x.dtype)
        self.kept[index] = 0
        return out

    def _forward_namespace(self, x, updates, indices):
        """The forward on any backend's arrays: the winning writes found by a stable sort of their flat targets (the
        last of each run of equal targets), added into zeros through the backend's scatter_add, and put in place
        with a where."""
        owner = backend.extras_for(x)
        xp = owner.namespace
        layout, rows = _rows(indices, x.shape, "nd", 0, xp)
        flat = xp.reshape(rows, (-1,))
        order = xp.argsort(flat, stable=True)
        ordered = xp.take(flat, order)
        last = xp.concat([ordered[1:] != ordered[:-1], xp.ones((1,), dtype=xp.bool)]) if flat.shape[0] else \
            xp.zeros((0,), dtype=xp.bool)
        self.winners = xp.reshape(xp.take(last, xp.argsort(order)), rows.shape)
        wins = owner.as_numeric(xp.reshape(self.winners, (-1, 1)), x.dtype)
        table = xp.reshape(x, (layout.count, layout.columns))
        written = xp.zeros((layout.count, 1), dtype=x.dtype)
        placed = xp.zeros_like(table)
        if flat.shape[0]:
            written = owner.scatter_add(written, flat, wins)
            placed = owner.scatter_add(placed, flat, xp.reshape(updates, (flat.shape[0], layout.columns)) * wins)
        self.kept = xp.reshape(xp.broadcast_to(1 - written, table.shape), x.shape)
        return xp.reshape(xp.where(written > 0, placed, table), x.shape)

    def backward(self, g):
        need_x, need_updates, _ = self.needs_input_grad
        d_updates = None
        if need_updates:
            picked = IndexGather.apply(g, self.arrays[2], how="nd")
            owner = backend.extras_for(self.winners)
            winners = owner.namespace.reshape(self.winners, self.winners.shape + (1,) * (picked.ndim -
                                                                                          self.winners.ndim))
            d_updates = picked * owner.as_numeric(winners, picked.dtype)
        return (g * self.kept if need_x else None), d_updates, None


def _last_writes(indices, shape: tuple[int, ...]):
    """Which coordinates of ``indices`` (its last axis) are written last, among repeats of the same target."""
    depth = indices.shape[-1]
    flat = indices.reshape(-1, depth) % backend.xp.asarray(shape[:depth])
    targets = backend.xp.ravel_multi_index(tuple(flat.T), shape[:depth]) if depth else backend.xp.zeros(len(flat), int)
    last = backend.xp.zeros(len(targets), dtype=bool)
    _, first_from_end = backend.xp.unique(targets[::-1], return_index=True)
    last[len(targets) - 1 - first_from_end] = True
    return last.reshape(indices.shape[:-1])


class SliceUpdate(Function):
    # y = x with the block at `start` replaced by u   ->   dx = g with the block zeroed,  du = g[block]
    def forward(self, x, updates, start):
        self.start = start
        self.block = tuple(slice(s, s + n) for s, n in zip(start, updates.shape))
        out = backend.copy(x)
        out[self.block] = updates
        return out

    def backward(self, g):
        need_x, need_updates = self.needs_input_grad
        zeros = backend.xp.zeros(self.arrays[1].shape, dtype=self.arrays[0].dtype)
        return (SliceUpdate.apply(g, zeros, start=self.start) if need_x else None,
                GetItem.apply(g, index=self.block) if need_updates else None)


# --- argument checks --------------------------------------------------------------------------------------------------
def _integer_indices(indices: TensorLike, name: str, role: str = "indices") -> Tensor:
    indices = as_tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: `{role}` must be integers, got dtype {indices.dtype}")
    return indices


def _check_range(indices: Tensor, size: int, name: str, where: str) -> None:
    data = indices.data
    if data.size:
        xp = backend.array_namespace(data)
        low, high = int(xp.min(data)), int(xp.max(data))
        if low < -size or high >= size:
            raise IndexError(f"{name}: `indices` out of range for {where} of size {size}: values from {low} to {high}")


def _nd_indices(indices: TensorLike, shape: tuple[int, ...], name: str) -> Tensor:
    """Coordinates along the last axis, at most one per axis of ``shape``, each in range."""
    indices = _integer_indices(indices, name)
    if indices.ndim == 0 or indices.shape[-1] > len(shape):
        raise ValueError(f"{name}: the last axis of `indices` (shape {indices.shape}) must hold at most one "
                         f"coordinate per axis of the target shape {shape}")
    data = indices.data
    xp = backend.array_namespace(data)
    for k in range(indices.shape[-1]):
        if data.size and (int(xp.min(data[..., k])) < -shape[k] or int(xp.max(data[..., k])) >= shape[k]):
            raise IndexError(f"{name}: `indices` coordinate {k} out of range for axis {k} of size {shape[k]}")
    return indices


def _values_like(values: TensorLike, target_shape: tuple[int, ...], name: str, role: str, dtype=None) -> Tensor:
    values = as_tensor(values) if dtype is None or isinstance(values, Tensor) else as_tensor(values, dtype=dtype)
    if dtype is not None and values.dtype != dtype:
        values = cast(values, dtype)
    if values.shape != target_shape:
        raise ValueError(f"{name}: `{role}` must have shape {target_shape} (the indices' leading shape, then the "
                         f"remaining axes), got {values.shape}")
    return values


# --- public ops -------------------------------------------------------------------------------------------------------
@op
def take(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` when None), as
    ``numpy.take``: the result's shape is ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``. Negative indices
    count from the end."""
    x, indices = as_tensor(x), _integer_indices(indices, "take")
    if axis is None:
        x, axis = Reshape.apply(x, shape=(-1,)), 0
    else:
        axis = _normalize_axis(axis, x.ndim, "take")[0]
    _check_range(indices, x.shape[axis], "take", f"axis {axis}")
    return IndexGather.apply(x, indices, how="take", axis=axis)


@op
def take_along_axis(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """``numpy.take_along_axis``: pick along ``axis`` at ``indices``, which has x's rank and broadcasts against x on
    the other axes (``axis=None``: ``x`` flattened, ``indices`` 1-D). Sorting's and top-k's values use it."""
    x, indices = as_tensor(x), _integer_indices(indices, "take_along_axis")
    if axis is None:
        x, axis = Reshape.apply(x, shape=(-1,)), 0
    else:
        axis = _normalize_axis(axis, x.ndim, "take_along_axis")[0]
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: `indices` must have the rank of `x` ({x.ndim}), got shape "
                         f"{indices.shape} for x of shape {x.shape}")
    others = [(i, n) for d, (i, n) in enumerate(zip(indices.shape, x.shape)) if d != axis]
    if any(i != n and 1 not in (i, n) for i, n in others):
        raise ValueError(f"take_along_axis: `indices` of shape {indices.shape} does not broadcast against x of shape "
                         f"{x.shape} outside axis {axis}")
    _check_range(indices, x.shape[axis], "take_along_axis", f"axis {axis}")
    return IndexGather.apply(x, indices, how="along", axis=axis)


@op
def scatter(indices: TensorLike, values: TensorLike, shape: Sequence[int]) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``indices`` (repeated coordinates add up), as ``tf.scatter_nd``
    and ``keras.ops.scatter``: ``indices[..., k]`` is the coordinate along axis k."""
    shape = tuple(int(n) for n in shape)
    indices = _nd_indices(indices, shape, "scatter")
    values = as_tensor(values)
    target = indices.shape[:-1] + shape[indices.shape[-1]:]
    values = _values_like(values, target, "scatter", "values")
    return IndexScatterAdd.apply(values, indices, shape=shape, how="nd")


@op
def scatter_update(inputs: TensorLike, indices: TensorLike, updates: TensorLike) -> Tensor:
    """``inputs`` with the entries (or slices) at ``indices`` replaced by ``updates`` (``tf.tensor_scatter_nd_update``);
    differentiable in both ``inputs`` and ``updates``."""
    inputs = as_tensor(inputs)
    indices = _nd_indices(indices, inputs.shape, "scatter_update")
    target = indices.shape[:-1] + inputs.shape[indices.shape[-1]:]
    updates = _values_like(updates, target, "scatter_update", "updates", inputs.dtype)
    return ScatterUpdate.apply(inputs, updates, indices)


@op
def slice_update(inputs: TensorLike, start_indices: Sequence[int], updates: TensorLike) -> Tensor:
    """``inputs`` with the block of ``updates``' shape starting at ``start_indices`` replaced by ``updates``."""
    inputs = as_tensor(inputs)
    updates = as_tensor(updates) if isinstance(updates, Tensor) else as_tensor(updates, dtype=inputs.dtype)
    if updates.dtype != inputs.dtype:
        updates = cast(updates, inputs.dtype)
    start = tuple(int(s) for s in start_indices)
    if len(start) != inputs.ndim or updates.ndim != inputs.ndim:
        raise ValueError(f"slice_update: `start_indices` ({len(start)} values) and `updates` (shape {updates.shape}) "
                         f"must have one entry per axis of `inputs` (shape {inputs.shape})")
    if any(s < 0 or s + n > size for s, n, size in zip(start, updates.shape, inputs.shape)):
        raise ValueError(f"slice_update: a block of shape {updates.shape} at {start} does not fit in `inputs` of "
                         f"shape {inputs.shape}")
    return SliceUpdate.apply(inputs, updates, start=start)


def _segment_ids_kept(ids, num_segments: int):
    return (ids >= 0) & (ids < num_segments)


def _segment_ids_clipped(ids, num_segments: int):
    return backend.xp.where(_segment_ids_kept(ids, num_segments), ids, 0)


@op
def segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None) -> Tensor:
    """Sums of the rows of ``data`` that share a segment id: row i of the result adds the rows whose id is i
    (``tf.math.unsorted_segment_sum``); ids outside ``[0, num_segments)`` are dropped, as in Keras. ``num_segments``
    defaults to the largest id + 1 (read from the data, so a traced step with it runs eagerly)."""
    data, ids = as_tensor(data), _integer_indices(segment_ids, "segment_sum", "segment_ids")
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_sum: `segment_ids` must be 1-D with one id per row of `data`, got shape "
                         f"{ids.shape} for data of shape {data.shape}")
    if num_segments is None:
        num_segments = int(ids.numpy().max()) + 1 if ids.size else 0
    num_segments = int(num_segments)
    kept = no_gradient(_segment_ids_kept, ids, num_segments=num_segments)
    rows = Where.apply(Reshape.apply(kept, shape=kept.shape + (1,) * (data.ndim - 1)), data, 0)
    ids = no_gradient(_segment_ids_clipped, ids, num_segments=num_segments)
    return IndexScatterAdd.apply(rows, ids, shape=(num_segments,) + data.shape[1:], how="take", axis=0)
