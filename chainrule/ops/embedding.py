"""Embedding lookup: the rows of a table at integer ids, with a scatter-add gradient (``keras.layers.Embedding``,
``tf.nn.embedding_lookup``, PyTorch's ``F.embedding``).

The gradient of a lookup is the output gradient's rows added into a table of zeros at their ids; a text batch
repeats ids (padding, frequent words), and repeated ids add up. The ids are checked inside the op, so a replayed
training step meets an out-of-range id with the same clear error as an eager one.

>>> import chainrule as cr
>>> table = cr.Variable([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
>>> embedding_lookup(table, cr.constant([[2, 0]])).numpy()
array([[[4., 5.],
        [0., 1.]]], dtype=float32)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend.kernels.embedding import scatter_add_rows
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.indexing import IndexScatterAdd, gather_rows, gather_rows_transposed


def check_ids(ids, num_rows: int, caller: str) -> None:
    """Raise an IndexError naming ``caller`` and the first id outside ``[0, num_rows)``, as TensorFlow reports it."""
    if ids.size == 0:
        return
    xp = backend.array_namespace(ids)
    low, high = int(xp.min(ids)), int(xp.max(ids))
    if low >= 0 and high < num_rows:
        return
    bad = tuple(int(axis[0]) for axis in xp.nonzero((ids < 0) | (ids >= num_rows)))
    where = ",".join(str(i) for i in bad)
    raise IndexError(f"{caller}: indices[{where}] = {int(ids[bad])} is not in [0, {num_rows}) (ids must index "
                     f"one of the table's {num_rows} rows; ids seen range from {low} to {high})")


class EmbeddingLookup(Function):
    # y = table[ids]   ->   dtable = zeros(table.shape) with g's rows added at ids (repeated ids add up)
    def forward(self, table, ids, caller="embedding_lookup"):
        check_ids(ids, table.shape[0], caller)
        if type(table) is not np.ndarray:  # the standard's take wants 1-D ids
            return gather_rows(table, ids, "take")
        return backend.xp.take(table, ids, axis=0)

    def backward(self, g):
        table, ids = self.arrays
        if self.graph_out is not None:  # differentiable: the scatter whose backward is the gather
            return IndexScatterAdd.apply(g, ids, shape=table.shape, how="take", axis=0), None
        if type(g) is not np.ndarray:
            return gather_rows_transposed(g, ids, table.shape, "take"), None
        rows = backend.xp.ascontiguousarray(g.reshape(ids.size, math.prod(table.shape[1:])))
        return scatter_add_rows(rows, ids.reshape(-1), table.shape[0]).reshape(table.shape), None


@op
def embedding_lookup(table: TensorLike, ids: TensorLike, caller: str = "embedding_lookup") -> Tensor:
    """Rows of ``table`` (shape ``(num_rows, ...)``) at the integer ``ids``: shape ``ids.shape + table.shape[1:]``.
    Every id must lie in ``[0, num_rows)``; ``caller`` names who looked up in the error for one that does not."""
    table, ids = as_tensor(table), as_tensor(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{caller}: ids must be integers, got dtype {ids.dtype}")
    if table.ndim == 0:
        raise ValueError(f"{caller}: the table must have at least one axis (its rows), got a scalar")
    return EmbeddingLookup.apply(table, ids, caller=caller)
