"""TensorFlow's top-level functions with TensorFlow's own signatures, built on the ops (``import chainrule as tf``).

The ops keep PyTorch-style names and arguments; here are the TensorFlow spellings that differ (``transpose_b=``,
``clip_value_min=``, one-argument ``where``, shapes given as tensors), the gradient utilities a custom training loop
uses (``stop_gradient``, ``clip_by_global_norm``) and small introspection helpers (``size``, ``rank``, ``print``).
Nothing here is a new differentiable op: each differentiable function is a composition of registered ops.

>>> import chainrule as tf
>>> grads, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 1.0)
>>> grads[0].numpy(), float(norm)
(array([0.6, 0.8], dtype=float32), 5.0)
"""
from __future__ import annotations

import builtins
import enum
from typing import Sequence

import numpy as np

from chainrule import backend, ops
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, TensorLike, _to_array, as_tensor
from chainrule.keras.ops import numpy as keras_numpy


def _swap_last(t: Tensor) -> Tensor:
    axes = list(builtins.range(t.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return ops.transpose(t, axes)


def matmul(a: TensorLike, b: TensorLike, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, name=None, **_) -> Tensor:
    """``tf.matmul``: ``a @ b`` with either operand's last two axes swapped first when asked (real tensors: the
    adjoint is the transpose)."""
    a, b = as_tensor(a), as_tensor(b)
    if transpose_a or adjoint_a:
        a = _swap_last(a)
    if transpose_b or adjoint_b:
        b = _swap_last(b)
    return ops.matmul(a, b)


def add_n(inputs: Sequence[TensorLike], name=None) -> Tensor:
    """``tf.add_n``: the elementwise sum of tensors of one shape and dtype (no broadcasting, as in TensorFlow)."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the same dtype and shape")
    tensors = [as_tensor(x) for x in inputs]
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first.shape or t.dtype != first.dtype:
            raise ValueError(f"add_n: inputs[{i}] has shape {t.shape} and dtype {t.dtype}, inputs[0] shape "
                             f"{first.shape} and dtype {first.dtype}; they must all match")
    total = first
    for t in tensors[1:]:
        total = total + t
    return total


def _running(op, identity: float, x: TensorLike, axis: int, exclusive: bool, reverse: bool) -> Tensor:
    """A running sum or product along ``axis``, TensorFlow's way: ``exclusive`` leaves each entry out of its own
    total (the first is ``identity``), ``reverse`` runs from the end."""
    x = as_tensor(x)
    axis = axis % x.ndim if x.ndim else 0
    flip = tuple(slice(None, None, -1) if d == axis else slice(None) for d in builtins.range(x.ndim))
    if reverse:
        x = x[flip]
    out = op(x, axis)
    if exclusive and x.shape[axis]:
        first = tuple(slice(0, 1) if d == axis else slice(None) for d in builtins.range(x.ndim))
        rest = tuple(slice(0, -1) if d == axis else slice(None) for d in builtins.range(x.ndim))
        head = Tensor._wrap(backend.xp.full(out[first].shape, identity, dtype=out.dtype))
        out = ops.concat([head, out[rest]], axis)
    return out[flip] if reverse else out


def cumsum(x: TensorLike, axis: int = 0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """``tf.math.cumsum``: running sums along ``axis`` (``exclusive``: each entry left out of its own sum;
    ``reverse``: summed from the end)."""
    return _running(ops.cumsum, 0.0, x, axis, exclusive, reverse)


def cumprod(x: TensorLike, axis: int = 0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """``tf.math.cumprod``: running products along ``axis`` (``exclusive`` and ``reverse`` as in cumsum)."""
    return _running(ops.cumprod, 1.0, x, axis, exclusive, reverse)


def einsum(equation: str, *inputs: TensorLike, **kwargs) -> Tensor:
    """``tf.einsum``: Einstein summation in NumPy's notation (``'bij,bjk->bik'``); ``optimize=`` and ``name=`` are
    accepted and change nothing."""
    unknown = set(kwargs) - {"optimize", "name"}
    if unknown:
        raise TypeError(f"Invalid keyword arguments for this function: {', '.join(sorted(unknown))}. Expected: "
                        f"name, optimize")
    return ops.einsum(equation, *inputs)


def clip_by_value(t: TensorLike, clip_value_min=None, clip_value_max=None, name=None) -> Tensor:
    """``tf.clip_by_value``: clamp into [clip_value_min, clip_value_max]."""
    return ops.clip(t, clip_value_min, clip_value_max)


def where(condition: TensorLike, x: TensorLike | None = None, y: TensorLike | None = None, name=None) -> Tensor:
    """``tf.where``: ``x`` where ``condition`` holds, else ``y``; with the condition alone, the coordinates of its
    true entries, shape (count, rank), int64."""
    if x is None and y is None:
        return Tensor._wrap(np.argwhere(_to_array(condition)).astype(np.int64))
    if x is None or y is None:
        raise ValueError("tf.where: give both x and y, or neither (then it returns the true entries' coordinates)")
    return ops.where(condition, x, y)


def reshape(tensor: TensorLike, shape, name=None) -> Tensor:
    """``tf.reshape``; the shape may be a tensor (``tf.shape(y)``) or an array."""
    if isinstance(shape, Tensor):
        shape = shape.data
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    return keras_numpy.reshape(tensor, shape)  # keras.ops's: a functional model's probe may hold made-up sizes


class UnconnectedGradients(str, enum.Enum):
    """What ``GradientTape.gradient`` gives for a source the target does not depend on, as
    ``tf.UnconnectedGradients``: ``NONE`` (None) or ``ZERO`` (zeros shaped like the source); equal to the strings
    "none" and "zero", which the tape also takes.

    >>> import chainrule as tf
    >>> x, y = tf.Variable([2.0, 2.0]), tf.Variable(3.0)
    >>> with tf.GradientTape() as tape:
    ...     z = y ** 2
    >>> tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()
    array([0., 0.], dtype=float32)
    """

    NONE = "none"
    ZERO = "zero"


def tile(input: TensorLike, multiples, name=None) -> Tensor:  # noqa: A002
    """``input`` repeated ``multiples[i]`` times along axis i, as ``tf.tile`` (one multiple per axis).

    >>> import chainrule as tf
    >>> tf.tile(tf.constant([[1.0, 2.0]]), [2, 2]).numpy()
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]], dtype=float32)
    """
    from chainrule.keras.ops.numpy import tile as _tile  # (keras imports this package's siblings at import)

    x = as_tensor(input)
    reps = [int(m) for m in np.asarray(multiples.data if isinstance(multiples, Tensor) else multiples).reshape(-1)]
    if len(reps) != x.ndim:
        raise ValueError(f"Expected multiples argument to be a vector of length {x.ndim} but got length {len(reps)}")
    return _tile(x, reps)


def square(x: TensorLike, name=None) -> Tensor:
    """``x * x``."""
    x = as_tensor(x)
    return x * x


def identity(input: TensorLike, name=None) -> Tensor:  # noqa: A002  (TensorFlow's name)
    """A tensor with the same values, that the gradient passes through unchanged (a new array, not a view)."""
    return as_tensor(input) * 1


def stop_gradient(input: TensorLike, name=None) -> Tensor:  # noqa: A002
    """The same values as a constant: no gradient flows back through it (a DQN target, a GAN's fixed half)."""
    return Tensor._wrap(backend.copy(_to_array(input)))


def size(input: TensorLike, out_type=np.int32, name=None) -> Tensor:  # noqa: A002
    """The number of elements, as a 0-d integer tensor."""
    return Tensor._wrap(np.asarray(_to_array(input).size, dtype=out_type))


def rank(input: TensorLike, name=None) -> Tensor:  # noqa: A002
    """The number of axes, as a 0-d int32 tensor."""
    return Tensor._wrap(np.asarray(_to_array(input).ndim, dtype=np.int32))


def is_tensor(x) -> bool:
    """Whether ``x`` is a chainrule Tensor (a Variable included)."""
    return isinstance(x, Tensor)


def logical_not(x: TensorLike, name=None) -> Tensor:
    """Elementwise not of a boolean tensor."""
    return Tensor._wrap(np.logical_not(_to_array(x)))


def logical_xor(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """Elementwise exclusive or of two boolean tensors."""
    return Tensor._wrap(np.logical_xor(_to_array(x), _to_array(y)))


def reduce_all(input_tensor: TensorLike, axis=None, keepdims: bool = False, name=None) -> Tensor:
    """Logical and over ``axis`` (all axes when None)."""
    return Tensor._wrap(np.asarray(np.all(_to_array(input_tensor), axis=_axes(axis), keepdims=keepdims)))


def reduce_any(input_tensor: TensorLike, axis=None, keepdims: bool = False, name=None) -> Tensor:
    """Logical or over ``axis`` (all axes when None)."""
    return Tensor._wrap(np.asarray(np.any(_to_array(input_tensor), axis=_axes(axis), keepdims=keepdims)))


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


@replayed  # as in TensorFlow, where it is an op: a traced step prints on every call, with that call's values
def print(*inputs, sep: str = " ", end: str = "\n", output_stream=None, summarize=None, name=None) -> None:  # noqa: A001
    """``tf.print``: tensors shown as their values (``tf.print("loss:", loss)``)."""
    shown = [np.array2string(x.numpy(), threshold=summarize or 1000) if isinstance(x, Tensor) else x
             for x in inputs]
    builtins.print(*shown, sep=sep, end=end, file=output_stream)


def global_norm(t_list: Sequence[TensorLike | None], name=None) -> Tensor:
    """``sqrt(sum of every tensor's squared entries)``; None entries are skipped."""
    present = [as_tensor(t) for t in t_list if t is not None]
    if not present:
        raise ValueError("global_norm: t_list holds no tensor")
    return ops.sqrt(sum(ops.sum(t * t) for t in present))


def clip_by_norm(t: TensorLike, clip_norm: float, axes=None, name=None) -> Tensor:
    """``t * clip_norm / max(l2norm(t), clip_norm)``: its L2 norm (over ``axes``, all when None) at most clip_norm."""
    t = as_tensor(t)
    norm = ops.sqrt(ops.sum(t * t, axes, keepdims=True))
    return t * clip_norm / ops.maximum(norm, clip_norm)


def clip_by_global_norm(t_list: Sequence[TensorLike | None], clip_norm: float, use_norm=None,
                        name=None) -> tuple[list, Tensor]:
    """``(tensors * clip_norm / max(global_norm, clip_norm), global_norm)``: the list scaled together so that its
    global norm is at most clip_norm; None entries stay None; an infinite or NaN norm makes every entry NaN."""
    norm = global_norm(t_list) if use_norm is None else as_tensor(use_norm)
    value = float(norm)
    scale = clip_norm / max(value, clip_norm) if np.isfinite(value) else float("nan")  # TF: NaN for an inf norm
    return [None if t is None else as_tensor(t) * scale for t in t_list], norm
