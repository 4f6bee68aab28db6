"""``tf.sparse``: ``SparseTensor`` (the coordinates and values of the non-zero entries of a dense shape) and the
functions that turn it into dense tensors, add, multiply and reduce it.

Values keep their gradient: ``to_dense`` and ``sparse_dense_matmul`` scatter them with the registered ``scatter``
op, so a loss on the dense result differentiates back to the values (and to the dense operand of a product).

>>> import chainrule as tf
>>> st = tf.sparse.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
>>> tf.sparse.to_dense(st).numpy()
array([[1., 0., 0., 0.],
       [0., 0., 2., 0.],
       [0., 0., 0., 0.]], dtype=float32)
>>> tf.sparse.reduce_sum(st, axis=1).numpy()
array([1., 2., 0.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.ops import indexing
from chainrule.compat.tf.control_flow import gather_nd
from chainrule.engine.tensor import Tensor, as_tensor


class SparseTensor:
    """``indices`` (N, rank) int64 coordinates, ``values`` (N,) and ``dense_shape`` (rank,), as TensorFlow's."""

    def __init__(self, indices, values, dense_shape):
        self.indices = Tensor(np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices,
                                         dtype=np.int64).reshape(-1, len(dense_shape) if len(dense_shape) else 0))
        self.values = values if isinstance(values, Tensor) else as_tensor(values)
        self.dense_shape = Tensor(np.asarray(dense_shape.numpy() if isinstance(dense_shape, Tensor) else dense_shape,
                                             dtype=np.int64))
        n, rank = self.indices.shape
        if self.values.ndim != 1 or self.values.shape[0] != n:
            raise ValueError(f"SparseTensor: values must be a vector of {n} entries (one per row of indices), got "
                             f"shape {tuple(self.values.shape)}")
        if self.dense_shape.ndim != 1 or rank != self.dense_shape.shape[0]:
            raise ValueError(f"SparseTensor: indices have {rank} coordinates per entry but dense_shape "
                             f"{self.dense_shape.numpy().tolist()} has rank {self.dense_shape.shape[0]}")
        shape, coords = self.dense_shape.numpy(), self.indices.numpy()
        if n and ((coords < 0).any() or (coords >= shape).any()):
            bad = int(np.argmax(((coords < 0) | (coords >= shape)).any(axis=1)))
            raise ValueError(f"SparseTensor: indices[{bad}] = {coords[bad].tolist()} is out of bounds of "
                             f"dense_shape {shape.tolist()}")

    @classmethod
    def from_value(cls, value) -> "SparseTensor":
        return value if isinstance(value, SparseTensor) else from_dense(value)

    @property
    def shape(self):
        from chainrule.utils.tensor_shape import TensorShape

        return TensorShape(self.dense_shape.numpy().tolist())

    @property
    def dtype(self):
        return self.values.dtype

    def get_shape(self):
        return self.shape

    def with_values(self, new_values) -> "SparseTensor":
        return SparseTensor(self.indices, new_values, self.dense_shape)

    def __repr__(self) -> str:
        return f"SparseTensor(indices={self.indices!r}, values={self.values!r}, dense_shape={self.dense_shape!r})"

    __str__ = __repr__

    def __mul__(self, other):
        """Elementwise product with a scalar or a dense tensor that broadcasts to the dense shape (sparse stays)."""
        other = as_tensor(other)
        if other.ndim == 0:
            return self.with_values(self.values * other)
        dense = ops.broadcast_to(other, tuple(self.dense_shape.numpy().tolist()))
        return self.with_values(self.values * gather_nd(dense, self.indices.numpy()))

    __rmul__ = __mul__


def _sparse(value, who: str) -> SparseTensor:
    if not isinstance(value, SparseTensor):
        raise TypeError(f"tf.sparse.{who}: expected a SparseTensor, got {type(value).__name__}")
    return value


def to_dense(sp_input: SparseTensor, default_value=None, validate_indices: bool = True, name=None) -> Tensor:
    """The dense tensor: ``default_value`` (0) everywhere but at the indices, which hold the values."""
    sp = _sparse(sp_input, "to_dense")
    shape = tuple(sp.dense_shape.numpy().tolist())
    if validate_indices and sp.indices.shape[0]:
        flat = np.ravel_multi_index(sp.indices.numpy().T, shape)
        if len(np.unique(flat)) != len(flat):
            raise ValueError("tf.sparse.to_dense: indices repeat an entry; tf.sparse.reorder or sum them first")
    dense = ops.scatter(sp.indices, sp.values, shape)
    if default_value is not None and default_value != 0:
        mask = ops.scatter(sp.indices, np.ones(sp.indices.shape[0], dtype=bool), shape)
        dense = ops.where(mask, dense, ops.cast(as_tensor(default_value), dense.dtype))
    return dense


def from_dense(tensor, name=None) -> SparseTensor:
    """The non-zero entries of a dense tensor, in row-major order."""
    tensor = as_tensor(tensor)
    coords = np.argwhere(tensor.numpy() != 0)
    return SparseTensor(coords, gather_nd(tensor, coords), tensor.shape)


def reorder(sp_input: SparseTensor, name=None) -> SparseTensor:
    """The entries in row-major order of their indices."""
    sp = _sparse(sp_input, "reorder")
    if not sp.indices.shape[0]:
        return sp
    order = np.lexsort(sp.indices.numpy().T[::-1])
    return SparseTensor(sp.indices.numpy()[order], ops.gather(sp.values, order), sp.dense_shape)


def add(a, b, threshold=0, name=None):
    """``a + b``: two SparseTensors give a SparseTensor (equal coordinates summed); with a dense operand, dense."""
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        if a.dense_shape.numpy().tolist() != b.dense_shape.numpy().tolist():
            raise ValueError(f"tf.sparse.add: dense shapes differ: {a.dense_shape.numpy().tolist()} and "
                             f"{b.dense_shape.numpy().tolist()}")
        dense = ops.scatter(np.concatenate([a.indices.numpy(), b.indices.numpy()]),
                            ops.concat([a.values, b.values], axis=0), tuple(a.dense_shape.numpy().tolist()))
        keep = np.argwhere(np.abs(dense.numpy()) > threshold) if threshold else np.argwhere(dense.numpy() != 0)
        return SparseTensor(keep, gather_nd(dense, keep), a.dense_shape)
    sparse, dense = (a, b) if isinstance(a, SparseTensor) else (b, a)
    return to_dense(_sparse(sparse, "add")) + as_tensor(dense)


def sparse_dense_matmul(sp_a: SparseTensor, b, adjoint_a: bool = False, adjoint_b: bool = False, name=None) -> Tensor:
    """The matrix product of a sparse (m, k) and a dense (k, n) matrix."""
    sp = _sparse(sp_a, "sparse_dense_matmul")
    a = to_dense(sp)
    b = as_tensor(b)
    return ops.matmul(ops.transpose(a) if adjoint_a else a, ops.transpose(b) if adjoint_b else b)


def reduce_sum(sp_input: SparseTensor, axis=None, keepdims: bool = False, output_is_sparse: bool = False, name=None):
    """The sum over ``axis`` (all axes by default) as a dense tensor (or sparse with ``output_is_sparse``)."""
    total = ops.sum(to_dense(_sparse(sp_input, "reduce_sum")), axis=axis, keepdims=keepdims)
    return from_dense(total) if output_is_sparse else total


def retain(sp_input: SparseTensor, to_retain) -> SparseTensor:
    """The entries whose flag in the boolean vector ``to_retain`` is true."""
    sp = _sparse(sp_input, "retain")
    keep = np.flatnonzero(np.asarray(to_retain.numpy() if isinstance(to_retain, Tensor) else to_retain, bool))
    return SparseTensor(sp.indices.numpy()[keep], ops.gather(sp.values, keep), sp.dense_shape)


def _shape(sp: SparseTensor) -> list[int]:
    return sp.dense_shape.numpy().tolist()


def concat(axis: int, sp_inputs, expand_nonconcat_dims: bool = False, name=None) -> SparseTensor:
    """The sparse tensors side by side along ``axis`` (their other sizes equal, or their largest with
    ``expand_nonconcat_dims``), entries in row-major order.

    >>> a = SparseTensor([[0, 0]], [1], [2, 2])
    >>> to_dense(concat(1, [a, a])).numpy().tolist()
    [[1, 0, 1, 0], [0, 0, 0, 0]]
    """
    parts = [_sparse(sp, "concat") for sp in sp_inputs]
    shapes = np.array([_shape(sp) for sp in parts])
    axis = int(axis) % shapes.shape[1]
    others = np.delete(shapes, axis, axis=1)
    if not expand_nonconcat_dims and (others != others[0]).any():
        raise ValueError(f"tf.sparse.concat: the inputs' sizes off axis {axis} must agree, got shapes "
                         f"{shapes.tolist()} (or pass expand_nonconcat_dims=True)")
    offsets = np.concatenate([[0], np.cumsum(shapes[:, axis])[:-1]])
    indices = []
    for sp, offset in zip(parts, offsets):
        coords = sp.indices.numpy().copy()
        coords[:, axis] += offset
        indices.append(coords)
    shape = shapes.max(axis=0)
    shape[axis] = shapes[:, axis].sum()
    return reorder(SparseTensor(np.concatenate(indices), ops.concat([sp.values for sp in parts], axis=0), shape))


def slice(sp_input: SparseTensor, start, size, name=None) -> SparseTensor:  # noqa: A001  (TensorFlow's name)
    """The entries inside the box from ``start`` of ``size`` (cut at the dense shape), moved to start at 0."""
    sp = _sparse(sp_input, "slice")
    start = np.asarray(start.numpy() if isinstance(start, Tensor) else start, dtype=np.int64)
    size = np.asarray(size.numpy() if isinstance(size, Tensor) else size, dtype=np.int64)
    shape = np.asarray(_shape(sp))
    if start.shape != shape.shape or size.shape != shape.shape:
        raise ValueError(f"tf.sparse.slice: start and size need one entry per axis of dense_shape {shape.tolist()}, "
                         f"got start={start.tolist()}, size={size.tolist()}")
    stop = np.minimum(start + size, shape)
    coords = sp.indices.numpy()
    keep = np.flatnonzero(((coords >= start) & (coords < stop)).all(axis=1))
    return SparseTensor(coords[keep] - start, ops.gather(sp.values, keep), np.maximum(stop - start, 0))


def map_values(op, *args, **kwargs) -> SparseTensor:
    """``op`` applied to the values of the SparseTensor arguments (all with the same indices), others as given."""
    sparse = [a for a in list(args) + list(kwargs.values()) if isinstance(a, SparseTensor)]
    if not sparse:
        raise ValueError("tf.sparse.map_values: no SparseTensor among the arguments")
    first = sparse[0]
    for other in sparse[1:]:
        if other.indices.shape != first.indices.shape or (other.indices.numpy() != first.indices.numpy()).any():
            raise ValueError("tf.sparse.map_values: the SparseTensor arguments must have the same indices")
    values = op(*[a.values if isinstance(a, SparseTensor) else a for a in args],
                **{k: v.values if isinstance(v, SparseTensor) else v for k, v in kwargs.items()})
    return first.with_values(values)


def transpose(sp_input: SparseTensor, perm=None, name=None) -> SparseTensor:
    """The axes permuted (reversed by default), entries in row-major order of the result."""
    sp = _sparse(sp_input, "transpose")
    rank = len(_shape(sp))
    perm = list(range(rank))[::-1] if perm is None else [int(p) for p in np.asarray(perm).reshape(-1)]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"tf.sparse.transpose: perm {perm} is not a permutation of the {rank} axes")
    return reorder(SparseTensor(sp.indices.numpy()[:, perm], sp.values, np.asarray(_shape(sp))[perm]))


def reduce_max(sp_input: SparseTensor, axis=None, keepdims: bool = False, output_is_sparse: bool = False,
               name=None):
    """The largest of the values present (the implicit zeros do not count, as in TensorFlow) over ``axis``;
    where no value is present the dtype's lowest value.

    >>> float(reduce_max(from_dense([-5.0, 0.0, -3.0])))
    -3.0
    """
    sp = _sparse(sp_input, "reduce_max")
    dtype = np.dtype(sp.values.dtype)
    lowest = -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    shape = tuple(_shape(sp))
    dense = indexing.scatter_update(Tensor(np.full(shape, lowest, dtype)), sp.indices, sp.values)
    total = ops.max(dense, axis=axis, keepdims=keepdims)
    return from_dense(total) if output_is_sparse else total


__all__ = ["SparseTensor", "add", "concat", "from_dense", "map_values", "reduce_max", "reduce_sum", "reorder",
           "retain", "slice", "sparse_dense_matmul", "to_dense", "transpose"]
