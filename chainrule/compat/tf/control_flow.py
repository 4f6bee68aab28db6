"""TensorFlow's control flow and gather/scatter names: ``tf.cond``, ``tf.case``, ``tf.switch_case``,
``tf.while_loop``, ``tf.map_fn``, ``tf.vectorized_map``, ``tf.scan``, ``tf.py_function``, ``tf.gather_nd``,
``tf.scatter_nd``, ``tf.tensor_scatter_nd_update``/``add``.

Control flow runs in Python, eagerly, on keras.ops' functions (a ``tf.function`` whose branch depends on a traced
value reads it and follows TensorFlow's rules through chainrule's tracer); gathers and scatters are differentiable.

>>> import chainrule as tf
>>> tf.cond(tf.constant(2.0) > 1.0, lambda: tf.constant("big"), lambda: tf.constant("small")).numpy()
b'big'
>>> tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
(4, 6)
>>> tf.gather_nd(tf.constant([[1, 2], [3, 4]]), [[1, 0], [0, 1]]).numpy()
array([3, 2], dtype=int32)
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np

from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras.ops import core as kcore
from chainrule.keras.ops import numpy as knp
from chainrule.ops import indexing


def cond(pred, true_fn: Callable | None = None, false_fn: Callable | None = None, name=None):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    if true_fn is None or false_fn is None:
        raise TypeError("tf.cond: true_fn and false_fn are required (callables taking no arguments)")
    return kcore.cond(pred, true_fn, false_fn)


def case(pred_fn_pairs, default: Callable | None = None, exclusive: bool = False, strict: bool = False, name=None):
    """The function of the first ``(pred, fn)`` pair whose ``pred`` holds (with ``exclusive``, exactly one may),
    else ``default()``."""
    pairs = list(pred_fn_pairs.items() if isinstance(pred_fn_pairs, dict) else pred_fn_pairs)
    holding = [fn for pred, fn in pairs if bool(pred)]
    if exclusive and len(holding) > 1:
        raise ValueError(f"tf.case: {len(holding)} conditions hold where exclusive=True allows one")
    if holding:
        return holding[0]()
    if default is None:
        raise ValueError("tf.case: no condition holds and no default was given")
    return default()


def switch_case(branch_index, branch_fns, default: Callable | None = None, name=None):
    """``branch_fns[branch_index]()`` (a list, or a dict from int); out of range gives ``default()`` or the last
    branch, as TensorFlow."""
    index = int(branch_index)
    fns = dict(branch_fns) if isinstance(branch_fns, dict) else dict(enumerate(branch_fns))
    if index in fns:
        return fns[index]()
    return default() if default is not None else fns[max(fns)]()


def while_loop(cond: Callable, body: Callable, loop_vars, shape_invariants=None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, maximum_iterations=None, name=None):
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; the loop variables' structure comes back."""
    return kcore.while_loop(cond, body, loop_vars, None if maximum_iterations is None else int(maximum_iterations))


def map_fn(fn: Callable, elems, dtype=None, parallel_iterations=None, back_prop: bool = True,
           swap_memory: bool = False, infer_shape: bool = True, name=None, fn_output_signature=None):
    """``fn`` on each slice of ``elems`` (a tensor or a structure of them) along axis 0, the results stacked."""
    return kcore.map(fn, elems)


def vectorized_map(fn: Callable, elems, fallback_to_while_loop: bool = True, warn: bool = True):
    """As ``map_fn`` (chainrule computes it slice by slice)."""
    return kcore.map(fn, elems)


def scan(fn: Callable, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False, name=None):
    """TensorFlow's scan: ``acc = fn(acc, x)`` over the leading axis, every ``acc`` stacked (the first element is
    the initial ``acc`` when no ``initializer`` is given)."""
    elems = as_tensor(elems)
    start = 0
    if initializer is None:
        initializer, start = (elems[-1] if reverse else elems[0]), 1
    rest = elems[:elems.shape[0] - start] if reverse else elems[start:]
    _, accs = kcore.scan(lambda acc, x: (fn(acc, x),) * 2, initializer, rest, reverse=reverse)
    if start:
        first = knp.expand_dims(as_tensor(initializer), 0)
        accs = knp.concatenate([accs, first] if reverse else [first, accs], axis=0)
    return accs


def py_function(func: Callable | None = None, inp: Sequence | None = None, Tout=None, name=None):  # noqa: N803
    """``func(*inp)`` called eagerly (chainrule always runs Python) on ``inp`` as tensors, its results as tensors;
    ``@tf.py_function(Tout=...)`` decorates a function the same way, its arguments being ``inp``."""
    if func is None or inp is None:
        return _decorator(py_function, func, Tout)
    return _as_results(func(*[x if isinstance(x, Tensor) else as_tensor(x) for x in inp]))


def numpy_function(func: Callable | None = None, inp: Sequence | None = None, Tout=None, stateful: bool = True,
                   name=None):  # noqa: N803  (TensorFlow's names)
    """``func(*inp)`` called on ``inp`` as NumPy arrays, its results as tensors (not differentiable, as in
    TensorFlow); ``@tf.numpy_function(Tout=...)`` decorates a function the same way."""
    if func is None or inp is None:
        return _decorator(numpy_function, func, Tout)
    arrays = [np.asarray(x.numpy() if isinstance(x, Tensor) else x) for x in inp]
    return _as_results(func(*arrays))


def _decorator(wrapper: Callable, func: Callable | None, Tout) -> Callable:  # noqa: N803
    """TensorFlow's decorator form: the decorated function's arguments become ``inp``."""
    def decorate(fn: Callable) -> Callable:
        return functools.wraps(fn)(lambda *args: wrapper(fn, list(args), Tout))
    return decorate if func is None else decorate(func)


def _as_results(result):
    if isinstance(result, (list, tuple)):
        return [r if isinstance(r, Tensor) else as_tensor(r) for r in result]
    return result if result is None or isinstance(result, Tensor) else as_tensor(result)


def gather_nd(params, indices, batch_dims: int = 0, name=None) -> Tensor:
    """The slices of ``params`` at the coordinates in the last axis of ``indices`` (differentiable in
    ``params``)."""
    if batch_dims:
        raise NotImplementedError("tf.gather_nd: batch_dims > 0 is not supported; fold the batch into the indices")
    params = as_tensor(params)
    coords = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if coords.dtype.kind not in "iu":
        raise TypeError(f"tf.gather_nd: indices must be integers, got dtype {coords.dtype}")
    depth = coords.shape[-1]
    if depth > params.ndim:
        raise ValueError(f"tf.gather_nd: index depth {depth} exceeds the rank {params.ndim} of params")
    lead = tuple(params.shape[:depth])
    bad = (coords < 0) | (coords >= np.asarray(lead))
    if bad.any():
        where = np.argwhere(bad.any(axis=-1))[0]
        raise ValueError(f"tf.gather_nd: indices{list(where)} = {coords[tuple(where)].tolist()} does not index into "
                         f"param shape {list(params.shape)}")
    flat = np.ravel_multi_index(np.moveaxis(coords, -1, 0), lead) if depth else np.zeros(coords.shape[:-1], int)
    rows = knp.reshape(params, (int(np.prod(lead)), *params.shape[depth:]))
    return knp.take(rows, flat, axis=0)


def scatter_nd(indices, updates, shape, name=None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (repeats add up), differentiable in ``updates``."""
    return indexing.scatter(as_tensor(indices), as_tensor(updates), [int(s) for s in np.asarray(
        shape.numpy() if isinstance(shape, Tensor) else shape).reshape(-1)])


def tensor_scatter_nd_update(tensor, indices, updates, name=None) -> Tensor:
    """``tensor`` with the entries at ``indices`` replaced by ``updates``."""
    return indexing.scatter_update(as_tensor(tensor), as_tensor(indices), as_tensor(updates))


def tensor_scatter_nd_add(tensor, indices, updates, name=None) -> Tensor:
    """``tensor`` plus ``updates`` scattered at ``indices``."""
    tensor = as_tensor(tensor)
    return tensor + scatter_nd(indices, updates, tensor.shape)


def tensor_scatter_nd_sub(tensor, indices, updates, name=None) -> Tensor:
    """``tensor`` minus ``updates`` scattered at ``indices``."""
    tensor = as_tensor(tensor)
    return tensor - scatter_nd(indices, updates, tensor.shape)


def _scatter_extreme(tensor, indices, updates, arg, fn: str) -> Tensor:
    """``tensor`` with each entry at ``indices`` the one of itself and the updates aimed at it that ``arg``
    (np.argmax or np.argmin) picks; the gradient goes to the value chosen, as TensorFlow's."""
    tensor = as_tensor(tensor)
    coords = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if coords.dtype.kind not in "iu":
        raise TypeError(f"tf.{fn}: indices must be integers, got dtype {coords.dtype}")
    rows = coords.reshape(-1, coords.shape[-1])
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    updates = knp.cast(as_tensor(updates), tensor.dtype)
    flat = knp.reshape(updates, (len(rows), -1))
    candidates = knp.concatenate([knp.reshape(gather_nd(tensor, unique), (len(unique), -1)), flat], axis=0)
    values, owner = candidates.numpy(), np.concatenate([np.arange(len(unique)), inverse.reshape(-1)])
    winners = np.empty((len(unique), values.shape[1]), dtype=np.int64)
    for group in range(len(unique)):  # the candidate each entry takes: its own value first, so ties keep it
        members = np.flatnonzero(owner == group)
        winners[group] = members[arg(values[members], axis=0)]
    chosen = candidates[winners, np.arange(values.shape[1])[None, :]]
    return indexing.scatter_update(tensor, as_tensor(unique), knp.reshape(chosen, (len(unique), *updates.shape[
        coords.ndim - 1:])))


def tensor_scatter_nd_max(tensor, indices, updates, name=None) -> Tensor:
    """``tensor`` with each entry at ``indices`` the largest of itself and the updates aimed at it."""
    return _scatter_extreme(tensor, indices, updates, np.argmax, "tensor_scatter_nd_max")


def tensor_scatter_nd_min(tensor, indices, updates, name=None) -> Tensor:
    """``tensor`` with each entry at ``indices`` the smallest of itself and the updates aimed at it."""
    return _scatter_extreme(tensor, indices, updates, np.argmin, "tensor_scatter_nd_min")


__all__ = ["case", "cond", "gather_nd", "map_fn", "numpy_function", "py_function", "scan", "scatter_nd", "switch_case",
           "tensor_scatter_nd_add", "tensor_scatter_nd_max", "tensor_scatter_nd_min", "tensor_scatter_nd_sub",
           "tensor_scatter_nd_update", "vectorized_map", "while_loop"]

