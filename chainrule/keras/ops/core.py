"""``keras.ops`` core functions: conversion (``convert_to_tensor``, ``cast``, ``dtype``), ``stop_gradient``,
``custom_gradient``, control flow run eagerly in Python (``cond``, ``switch``, ``fori_loop``, ``while_loop``, ``map``,
``scan``, ``vectorized_map``), ``unstack`` and the slice/scatter updates.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.fori_loop(0, 3, lambda i, x: x + i, ops.convert_to_tensor(10.0)).numpy()
np.float32(13.0)
>>> ops.slice_update(np.zeros((2, 3), "float32"), (0, 1), np.ones((1, 2), "float32")).numpy()
array([[0., 1., 1.],
       [0., 0., 0.]], dtype=float32)
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np

from chainrule import backend
from chainrule.backend.string_dtype import is_string_dtype
from chainrule.engine.function import Function, GradMode
from chainrule.engine.tensor import Tensor, TensorLike, _host, as_tensor
from chainrule.keras.graph import KerasTensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import indexing
from chainrule.ops.math import cast as _cast_op
from chainrule.ops.no_gradient import no_gradient
from chainrule.ops.shape import GetItem
from chainrule.utils import tree


# --- conversions shared by every keras.ops module ----------------------------------------------------------------------
def standardize_dtype(dtype) -> str:
    """A dtype's name as Keras spells it ('float32', 'int64', 'bool'); None is floatx.

    >>> standardize_dtype(np.float64), standardize_dtype(None)
    ('float64', 'float32')
    """
    if hasattr(dtype, "dtype") and not isinstance(dtype, (type, np.dtype)):
        dtype = dtype.dtype  # a tensor or an array
    return backend.as_dtype(dtype).name


def to_tensor(x: TensorLike, name: str = "x") -> Tensor:
    """``x`` as a Tensor (a Tensor as it is), or a TypeError naming the argument."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, KerasTensor):
        raise TypeError(f"Argument `{name}` is a symbolic KerasTensor ({x!r}); this function needs values")
    try:
        t = as_tensor(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Argument `{name}` must be a tensor, a NumPy array or a (nested list of) numbers. "
                        f"Received: {name}={x!r} ({e})") from None
    if t.dtype.kind not in "biufc":
        raise TypeError(f"Argument `{name}` must hold numbers or booleans. Received: {name}={x!r} "
                        f"(dtype {t.dtype})")
    return t


def to_float(x: TensorLike, name: str = "x") -> Tensor:
    """``x`` as a floating-point Tensor: integers and booleans become floatx, as Keras's float functions do."""
    x = to_tensor(x, name)
    return x if x.dtype.kind == "f" else _cast_op(x, backend.floatx())


def as_axis(axis, name: str = "axis"):
    """An axis argument as the ops take it: None, an int, or a tuple of ints."""
    if axis is None or isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return None if axis is None else int(axis)
    if isinstance(axis, (list, tuple)) and all(isinstance(a, (int, np.integer)) for a in axis):
        return tuple(int(a) for a in axis)
    raise TypeError(f"Argument `{name}` must be an integer, a tuple of integers or None. Received: {name}={axis!r}")


# --- public functions --------------------------------------------------------------------------------------------------
def convert_to_tensor(x: TensorLike, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` as a Tensor of ``dtype`` (its own dtype when None; Python floats become floatx); text stays a string
    tensor, as Keras's TensorFlow backend converts it (for a model with a string input).

    >>> convert_to_tensor([["a message"]]).dtype.name
    'string'
    """
    if sparse:
        raise ValueError("`sparse=True` is not supported: chainrule tensors are dense")
    if ragged:
        raise ValueError("`ragged=True` is not supported: chainrule tensors are dense")
    if not isinstance(x, (Tensor, KerasTensor)) and dtype in (None, "string"):
        text = _text_tensor(x)
        if text is not None:
            return text
    x = to_tensor(x)
    return x if dtype is None else cast(x, dtype)


def _text_tensor(x) -> Tensor | None:
    """``x`` as a string Tensor when it holds text, else None."""
    try:
        t = as_tensor(x)
    except (TypeError, ValueError):
        return None
    return t if is_string_dtype(t.dtype) else None


def convert_to_numpy(x: TensorLike) -> np.ndarray:
    """The values as a NumPy array."""
    return np.array(_host(to_tensor(x).data))


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a chainrule Tensor (Variables included)."""
    return isinstance(x, Tensor)


def shape(x: TensorLike) -> tuple:
    """The static shape as a tuple (None for a symbolic tensor's unknown sizes)."""
    if isinstance(x, KerasTensor):
        return x.shape
    return tuple(to_tensor(x).shape)


def dtype(x: TensorLike) -> str:
    """The dtype's name, as Keras returns it ('float32')."""
    if isinstance(x, KerasTensor):
        return x.dtype.name
    return to_tensor(x).dtype.name


def cast(x: TensorLike, dtype) -> Tensor:
    """Convert to ``dtype``; float to float keeps the gradient."""
    return _cast_op(to_tensor(x), standardize_dtype(dtype))


def _saturated(x, low, high):
    return backend.xp.clip(x, low, high)


def saturate_cast(x: TensorLike, dtype) -> Tensor:
    """Cast, clipping first to the target dtype's range (no wrap-around for out-of-range values)."""
    x, target = to_tensor(x), backend.as_dtype(dtype)
    if target.kind in "iu":
        info = np.iinfo(target)
        low, high = info.min, info.max
        if x.dtype.kind in "iu":
            here = np.iinfo(x.dtype)
            low, high = builtins.max(low, here.min), builtins.min(high, here.max)
        x = no_gradient(_saturated, x, low=int(low), high=int(high))
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        info = np.finfo(target)
        from chainrule.ops.math import clip

        x = clip(x, float(info.min), float(info.max))
    return cast(x, target)


def _copy(x):
    return x.copy()


def stop_gradient(variable: TensorLike) -> Tensor:
    """The same values as a constant: no gradient flows back through it."""
    return no_gradient(_copy, to_tensor(variable, "variable"))


class CustomGradient(Function):
    # y = f(x...) with the gradient f gave: dx = grad_fn(g)   (``keras.ops.custom_gradient``)
    def forward(self, *arrays, fn):
        enabled = GradMode.enabled
        GradMode.enabled = False  # f's own ops are not differentiated: grad_fn stands for them
        try:
            out, self.grad_fn = fn(*[Tensor._wrap(a) for a in arrays])
        finally:
            GradMode.enabled = enabled
        if not isinstance(out, Tensor):
            raise TypeError(f"custom_gradient: the function must return (a tensor, grad_fn), got "
                            f"{type(out).__name__} first")
        return out.data

    def backward(self, g):
        graph = self.graph_out is not None
        grads = self.grad_fn(g if graph else Tensor._wrap(g))
        grads = grads if isinstance(grads, (list, tuple)) else (grads,)
        if len(grads) != len(self.arrays):
            raise ValueError(f"custom_gradient: grad_fn returned {len(grads)} gradients for {len(self.arrays)} inputs")
        out = []
        for x, gx in zip(self.arrays, grads):
            if gx is None or graph:
                out.append(gx)
            else:
                gx = backend.xp.asarray(gx.data if isinstance(gx, Tensor) else gx, dtype=x.dtype)
                out.append(gx if gx.shape == x.shape else backend.xp.broadcast_to(gx, x.shape).copy())
        return tuple(out)


def custom_gradient(f: Callable) -> Callable:
    """Decorate ``f(*tensors) -> (output, grad_fn)``, where ``grad_fn(upstream)`` returns one gradient per input (a
    Keras-style ``grad(*args, upstream=None)`` works too), so that the output's gradient is ``grad_fn``'s.

    >>> @custom_gradient
    ... def clip_gradient(x):
    ...     return x * 1.0, lambda upstream: clip(upstream, -0.5, 0.5)
    >>> from chainrule.ops.math import clip
    >>> x = convert_to_tensor(np.array([1.0, 2.0], "float32")); x.requires_grad = True
    >>> import chainrule as cr
    >>> cr.grad(cr.reduce_sum(clip_gradient(x) * 3.0), [x])[0].numpy()
    array([0.5, 0.5], dtype=float32)
    """
    def wrapper(*args):
        tensors = [to_tensor(a, f"argument {i}") for i, a in enumerate(args)]
        return CustomGradient.apply(*tensors, fn=f)
    wrapper.__name__, wrapper.__doc__ = getattr(f, "__name__", "custom_gradient"), f.__doc__
    return wrapper


def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` when ``pred`` holds, else ``false_fn()`` (run eagerly: a traced step with a traced ``pred``
    runs eagerly too)."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: `true_fn` and `false_fn` must be callables taking no arguments")
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches: Sequence[Callable], *operands):
    """``branches[index](*operands)``, the index clipped into range as in Keras."""
    if not branches:
        raise ValueError("switch: `branches` must hold at least one callable")
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val):
    """``val = body_fun(i, val)`` for i in [lower, upper); returns the last val."""
    if not callable(body_fun):
        raise TypeError(f"fori_loop: `body_fun` must be callable, got {body_fun!r}")
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond: Callable, body: Callable, loop_vars, maximum_iterations: int | None = None):
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds (at most ``maximum_iterations`` times).
    A single tensor (not a list or tuple) is passed and returned as it is, as in Keras."""
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: `cond` and `body` must be callables")
    single = not isinstance(loop_vars, (list, tuple))
    values = (loop_vars,) if single else tuple(loop_vars)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(cond(*values)):
        values = body(*values)
        values = (values,) if single or not isinstance(values, (list, tuple)) else tuple(values)
        count += 1
    if single:
        return values[0]
    return type(loop_vars)(values) if isinstance(loop_vars, (list, tuple)) else values


def _stack(parts: list) -> Tensor:
    from chainrule.ops.shape import stack

    return stack(parts, axis=0)


def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False, unroll=1):
    """``jax.lax.scan``: ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (a nested structure of tensors,
    or None with ``length`` steps); returns the last carry and the stacked ys."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    leaves = [to_tensor(x, "xs") for x in tree.flatten(xs)] if xs is not None else []
    n = int(length) if length is not None else leaves[0].shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        x = tree.pack_sequence_as(xs, [leaf[i] for leaf in leaves]) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, tree.map_structure(lambda *parts: _stack(list(parts)), *ys)


def associative_scan(f: Callable, elems, reverse: bool = False, axis: int = 0):
    """The running combination ``f(... f(f(e0, e1), e2) ..., ei)`` of the slices of ``elems`` (a nested structure
    of tensors) along ``axis``, for an associative ``f`` that works on whole stacks of slices (as JAX's): a
    Hillis-Steele prefix scan, ceil(log2 n) calls of ``f``, built from ops (differentiable). ``reverse`` scans the
    flipped slices and flips the result back, as Keras's backends do."""
    from chainrule.ops.shape import concat

    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    leaves = [to_tensor(e, "elems") for e in tree.flatten(elems)]
    if not leaves:
        raise ValueError("associative_scan: `elems` holds no tensor")
    axes = {leaf.ndim and (axis % leaf.ndim) for leaf in leaves}
    lengths = {leaf.shape[axis] if leaf.ndim else None for leaf in leaves}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(f"associative_scan: every tensor in `elems` needs the same size along axis {axis}; got "
                         f"shapes {[tuple(leaf.shape) for leaf in leaves]}")
    (n,) = lengths
    (ax,) = axes if len(axes) == 1 else (None,)

    def cut(leaf, start, stop):
        index = [builtins.slice(None)] * leaf.ndim
        index[ax] = builtins.slice(start, stop)
        return leaf[tuple(index)]

    def flipped(leaf):
        index = [builtins.slice(None)] * leaf.ndim
        index[ax] = builtins.slice(None, None, -1)
        return leaf[tuple(index)]

    if reverse:
        leaves = [flipped(leaf) for leaf in leaves]
    offset = 1
    while offset < n:
        earlier = tree.pack_sequence_as(elems, [cut(leaf, 0, n - offset) for leaf in leaves])
        later = tree.pack_sequence_as(elems, [cut(leaf, offset, n) for leaf in leaves])
        combined = [to_tensor(c, "f's result") for c in tree.flatten(f(earlier, later))]
        leaves = [concat([cut(leaf, 0, offset), c], axis=ax) for leaf, c in zip(leaves, combined)]
        offset *= 2
    if reverse:
        leaves = [flipped(leaf) for leaf in leaves]
    return tree.pack_sequence_as(elems, leaves)


def map(f: Callable, xs):  # noqa: A001  (Keras's name)
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked."""
    return scan(lambda carry, x: ((), f(x)), (), xs)[1]


def vectorized_map(function: Callable, elements):
    """``function`` on each slice along the leading axis (of each tensor, when ``elements`` is a list or tuple),
    the results stacked, as Keras's numpy backend computes it."""
    if isinstance(elements, (list, tuple)):
        parts = [to_tensor(e, "elements") for e in elements]
        results = [function([p[i] for p in parts]) for i in range(parts[0].shape[0])]
    else:
        x = to_tensor(elements, "elements")
        results = [function(x[i]) for i in range(x.shape[0])]
    return tree.map_structure(lambda *parts: _stack(list(parts)), *results)


def unstack(x: TensorLike, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, as a list."""
    x = to_tensor(x)
    axis = int(axis) % builtins.max(x.ndim, 1)
    if num is not None and int(num) != x.shape[axis]:
        raise ValueError(f"unstack: `num`={num} does not match the size {x.shape[axis]} of axis {axis} of x "
                         f"(shape {x.shape})")
    lead = (builtins.slice(None),) * axis
    return [GetItem.apply(x, index=lead + (i,)) for i in range(x.shape[axis])]


def slice(inputs: TensorLike, start_indices: Sequence[int], shape: Sequence[int]) -> Tensor:  # noqa: A001
    """The block of ``shape`` starting at ``start_indices`` (``jax.lax.dynamic_slice``)."""
    inputs = to_tensor(inputs, "inputs")
    start, size = [int(s) for s in start_indices], [int(n) for n in shape]
    if len(start) != len(size):
        raise ValueError(f"Length of `start_indices` must match length of `shape`. Received: "
                         f"start_indices={list(start_indices)}, shape={list(shape)}")
    if len(start) != inputs.ndim or any(s < 0 or s + n > m for s, n, m in zip(start, size, inputs.shape)):
        raise ValueError(f"slice: a block of shape {tuple(size)} at {tuple(start)} does not fit in `inputs` of shape "
                         f"{inputs.shape}")
    return GetItem.apply(inputs, index=tuple(builtins.slice(s, s + n) for s, n in zip(start, size)))


def slice_update(inputs: TensorLike, start_indices: Sequence[int], updates: TensorLike) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (differentiable in both)."""
    return indexing.slice_update(to_tensor(inputs, "inputs"), start_indices, to_tensor(updates, "updates"))


def scatter(indices: TensorLike, values: TensorLike, shape: Sequence[int]) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at the coordinates ``indices[..., k]`` (repeats add up)."""
    return indexing.scatter(to_tensor(indices, "indices"), to_tensor(values, "values"), shape)


def scatter_update(inputs: TensorLike, indices: TensorLike, updates: TensorLike, reduction: str | None = None) -> Tensor:
    """``inputs`` with the entries at ``indices`` replaced by ``updates`` (``reduction='add'``: added to)."""
    inputs, indices = to_tensor(inputs, "inputs"), to_tensor(indices, "indices")
    if reduction is None:
        return indexing.scatter_update(inputs, indices, to_tensor(updates, "updates"))
    if reduction == "add":
        return inputs + indexing.scatter(indices, cast(to_tensor(updates, "updates"), inputs.dtype), inputs.shape)
    raise ValueError(f"Unsupported reduction: {reduction} (chainrule's scatter_update takes None or 'add')")


__all__ = ["associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient", "dtype", "fori_loop", "is_tensor",
           "map", "saturate_cast", "scan", "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient",
           "switch", "unstack", "vectorized_map", "while_loop"]
wrap_namespace(globals(), __all__, "keras.ops.")
