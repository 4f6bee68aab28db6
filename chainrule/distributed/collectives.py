"""Horovod's collectives on arrays, Tensors and numbers: ``allreduce``, ``broadcast``, ``allgather``, and
``broadcast_variables`` that makes every rank start from rank 0's weights.

A Tensor comes back as a Tensor, anything else as a NumPy array; the input is never changed.

>>> from chainrule import distributed as dist
>>> dist.allgather([[1, 2]]).tolist(), dist.broadcast(7.5).item()
([[1, 2]], 7.5)
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from chainrule.distributed.collective_ops import allreduce_sum
from chainrule.distributed.comm import OPS, communicator
from chainrule.engine.tensor import Tensor


def _as_array(value, name: str) -> tuple[np.ndarray, bool]:
    """A contiguous copy of ``value``'s array, and whether it was a Tensor."""
    is_tensor = isinstance(value, Tensor)
    array = np.array(value.data if is_tensor else value, order="C")  # (a copy: the collectives work in place)
    if array.dtype == object:
        raise TypeError(f"{name}: expected an array, a Tensor or a number, got {type(value).__name__}; use "
                        f"{name}_object for other Python objects")
    return array, is_tensor


def _like(array: np.ndarray, is_tensor: bool):
    return Tensor(array) if is_tensor else array


def allreduce(value, op: str = "average", name: str | None = None):
    """``value`` combined over all ranks: 'average' (Horovod's default), 'sum', 'min', 'max' or 'prod'.
    Integers averaged become floats, as in Horovod. A Tensor that requires grad averaged or summed stays in the
    graph, its gradient the allreduce of the ranks' gradients (Horovod's; the op ``allreduce_sum``); a minimum,
    maximum or product is a constant of the graph."""
    op = op.lower() if isinstance(op, str) else op
    if op not in OPS:
        raise ValueError(f"allreduce: op must be one of {OPS}, got {op!r}")
    if isinstance(value, Tensor) and value.requires_grad and op in ("sum", "average"):
        total = allreduce_sum(value)
        return total / communicator().size if op == "average" else total
    array, is_tensor = _as_array(value, "allreduce")
    if op == "average" and array.dtype.kind in "iub":
        array = array.astype(np.float64)
    return _like(communicator().allreduce_array(array, op), is_tensor)


def broadcast(value, root_rank: int = 0, name: str | None = None):
    """Rank ``root_rank``'s ``value`` on every rank (every rank passes an array of the same shape and dtype)."""
    comm = communicator()
    if not 0 <= root_rank < comm.size:
        raise ValueError(f"broadcast: root_rank must be in [0, {comm.size}), got {root_rank}")
    array, is_tensor = _as_array(value, "broadcast")
    return _like(comm.bcast_array(array, root_rank), is_tensor)


def allgather(value, name: str | None = None):
    """Every rank's ``value`` concatenated along the first axis in rank order (their first dimensions may differ)."""
    array, is_tensor = _as_array(value, "allgather")
    if array.ndim == 0:
        array = array.reshape(1)
    return _like(np.concatenate(communicator().allgather_arrays(array)), is_tensor)


def broadcast_object(obj, root_rank: int = 0):
    """Rank ``root_rank``'s Python object (pickled) on every rank."""
    return communicator().bcast_object(obj, root_rank)


def allgather_object(obj) -> list:
    """Every rank's Python object, in rank order."""
    return communicator().allgather_object(obj)


def broadcast_arrays(arrays: Iterable[np.ndarray], root_rank: int = 0) -> None:
    """Overwrite ``arrays`` in place with rank ``root_rank``'s, one message per dtype (fused, as Horovod does)."""
    comm = communicator()
    _fused_in_place(list(arrays), lambda flat: comm.bcast_array(flat, root_rank))


def allreduce_arrays(arrays: Iterable[np.ndarray], op: str = "sum") -> None:
    """Combine ``arrays`` over the ranks in place, one message per dtype."""
    comm = communicator()
    _fused_in_place(list(arrays), lambda flat: comm.allreduce_array(flat, op))


def _fused_in_place(arrays: list[np.ndarray], collective) -> None:
    """Run ``collective`` on each dtype's arrays concatenated, and copy the result back into them."""
    if communicator().size == 1 or not arrays:
        return
    for dtype in dict.fromkeys(a.dtype for a in arrays):
        group = [a for a in arrays if a.dtype == dtype]
        flat = np.concatenate([a.reshape(-1) for a in group])
        collective(flat)
        offset = 0
        for a in group:
            a[...] = flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size


def broadcast_variables(variables: Iterable, root_rank: int = 0) -> None:
    """Give every Variable (or array) rank ``root_rank``'s value in place: what every rank calls once before
    training so that all start from the same weights (Horovod's ``broadcast_variables``)."""
    broadcast_arrays([v.data if isinstance(v, Tensor) else v for v in variables], root_rank)
