"""TensorFlow's array functions under their TensorFlow signatures: ``tf.sort``/``tf.argsort`` (``direction``),
``tf.reverse``, ``tf.roll``, ``tf.unstack``, ``tf.repeat``, ``tf.meshgrid``, ``tf.tensordot``, ``tf.boolean_mask``;
each runs on the keras.ops function of the same idea, so gradients flow where they do there.

>>> import chainrule as tf
>>> tf.sort([3.0, 1.0, 2.0], direction="DESCENDING").numpy()
array([3., 2., 1.], dtype=float32)
>>> tf.boolean_mask([[1, 2], [3, 4], [5, 6]], [True, False, True]).numpy()
array([[1, 2],
       [5, 6]], dtype=int32)
"""
from __future__ import annotations

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras import ops as _kops

_DIRECTIONS = ("ASCENDING", "DESCENDING")


def _direction(direction: str) -> bool:
    """True for a descending order; TensorFlow's error for any other word."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"Unknown direction: {direction!r}; expected 'ASCENDING' or 'DESCENDING'")
    return direction == "DESCENDING"


def sort(values: TensorLike, axis: int = -1, direction: str = "ASCENDING", name=None) -> Tensor:
    """``values`` sorted along ``axis``."""
    descending = _direction(direction)
    out = _kops.sort(values, axis=axis)
    return _kops.flip(out, axis=axis) if descending else out


def argsort(values: TensorLike, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name=None) -> Tensor:
    """The int32 indices that sort ``values`` along ``axis`` (ties keep their order in both directions)."""
    if _direction(direction):
        return _kops.cast(_kops.argsort(_kops.negative(values), axis=axis), "int32")
    return _kops.cast(_kops.argsort(values, axis=axis), "int32")


def reverse(tensor: TensorLike, axis, name=None) -> Tensor:
    """``tensor`` with the order of each axis in ``axis`` (a list of ints) reversed."""
    return _kops.flip(tensor, axis=tuple(int(a) for a in _kops.convert_to_numpy(axis).reshape(-1)))


def roll(input: TensorLike, shift, axis, name=None) -> Tensor:  # noqa: A002
    """``input`` rolled by ``shift`` along ``axis`` (ints or matching lists)."""
    return _kops.roll(input, shift, axis=axis)


def unstack(value: TensorLike, num: int | None = None, axis: int = 0, name=None) -> list[Tensor]:
    """The slices of ``value`` along ``axis``, as a list."""
    return _kops.unstack(value, num=num, axis=axis)


def repeat(input: TensorLike, repeats, axis: int | None = None, name=None) -> Tensor:  # noqa: A002
    """Each element (each slice along ``axis``; of the flattened tensor when None) repeated ``repeats`` times."""
    return _kops.repeat(input, repeats, axis=axis)


def meshgrid(*args: TensorLike, indexing: str = "xy", name=None) -> list[Tensor]:
    """The coordinate grids of 1-D ``args`` ('xy' cartesian or 'ij' matrix indexing)."""
    return _kops.meshgrid(*args, indexing=indexing)


def tensordot(a: TensorLike, b: TensorLike, axes, name=None) -> Tensor:
    """The sum of products of ``a`` and ``b`` over ``axes`` (an int, or a pair of axis lists)."""
    return _kops.tensordot(a, b, axes=axes)


def boolean_mask(tensor: TensorLike, mask: TensorLike, axis: int | None = None, name=None) -> Tensor:
    """The entries of ``tensor`` where the boolean ``mask`` (matching ``tensor``'s dimensions from ``axis``, 0 when
    None) is True, those dimensions flattened into one."""
    tensor = _kops.convert_to_tensor(tensor)
    mask = _kops.convert_to_numpy(mask).astype(bool)
    axis = 0 if axis is None else axis % tensor.ndim
    if tuple(tensor.shape[axis:axis + mask.ndim]) != mask.shape:
        raise ValueError(f"boolean_mask: mask shape {mask.shape} must match tensor dimensions "
                         f"{tuple(tensor.shape[axis:axis + mask.ndim])} from axis {axis}")
    flat = _kops.reshape(tensor, tuple(tensor.shape[:axis]) + (-1,) + tuple(tensor.shape[axis + mask.ndim:]))
    return _kops.take(flat, _kops.convert_to_tensor(mask.reshape(-1).nonzero()[0]), axis=axis)


def slice(input_: TensorLike, begin, size, name=None) -> Tensor:  # noqa: A001  (TensorFlow's name)
    """The block of ``input_`` starting at ``begin`` with ``size`` entries per axis (-1: to the end of the axis).

    >>> import chainrule as tf
    >>> tf.slice(tf.constant([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, -1]).numpy().tolist()
    [[2, 3], [5, 6]]
    """
    input_ = _kops.convert_to_tensor(input_)
    begin = [int(b) for b in (begin.numpy() if isinstance(begin, Tensor) else begin)]
    size = [int(n) for n in (size.numpy() if isinstance(size, Tensor) else size)]
    if len(begin) != input_.ndim or len(size) != input_.ndim:
        raise ValueError(f"tf.slice: `begin` and `size` must have one entry per axis of the input (shape "
                         f"{input_.shape}), got begin={begin}, size={size}")
    size = [dim - b if n == -1 else n for b, n, dim in zip(begin, size, input_.shape)]
    return _kops.slice(input_, begin, size)


__all__ = ["argsort", "boolean_mask", "meshgrid", "repeat", "reverse", "roll", "slice", "sort", "tensordot", "unstack"]
