"""1-D convolution (``tf.nn.conv1d``, Keras's ``ops.conv`` on sequences): the 2-D convolution on a height of 1.

A sequence (N, L, C) is viewed as an image (N, 1, L, C) and a kernel (k, C, F) as (1, k, C, F); the 2-D op runs
and its output is viewed back. The views are reshape ops, so the gradients are the 2-D op's. ``padding='causal'``
pads ``(k - 1) * dilation`` zeros before the sequence only, so step t sees steps <= t (Keras's Conv1D).

>>> import numpy as np
>>> x = np.arange(5.0).reshape(1, 5, 1)
>>> conv1d(x, np.ones((2, 1, 1))).numpy()[0, :, 0]
array([1., 3., 5., 7.])
>>> conv1d(x, np.ones((2, 1, 1)), padding="causal").numpy()[0, :, 0]
array([0., 1., 3., 5., 7.])
"""
from __future__ import annotations

import numbers

from chainrule.engine.function import op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv import Conv2D, conv_args, pair
from chainrule.ops.shape import Reshape


def lift_1d(x: Tensor, opname: str, role: str = "input", axis: int = 1) -> Tensor:
    """A 3-D tensor with an axis of size 1 inserted at ``axis`` (a sequence as an image of height 1)."""
    if x.ndim != 3:
        what = "(batch, steps, channels)" if role == "input" else "(width, in_channels, out_channels)"
        raise ValueError(f"{opname}: {role} must be 3-D {what}, got shape {x.shape}")
    return Reshape.apply(x, shape=x.shape[:axis] + (1,) + x.shape[axis:])


def lower_1d(y: Tensor) -> Tensor:
    """The 2-D op's (N, 1, L, C) output as the sequence (N, L, C)."""
    return Reshape.apply(y, shape=(y.shape[0],) + y.shape[2:])


def causal_pads(k: int, dilation: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The explicit 2-D pads of a causal 1-D convolution: ``(k - 1) * dilation`` before the steps, none after."""
    return (0, 0), ((k - 1) * dilation, 0)


def as_int(opname: str, name: str, value) -> int:
    """A 1-D op's int argument: an int or a 1-tuple (as Keras stores it)."""
    if not isinstance(value, numbers.Integral):
        values = tuple(value)
        if len(values) != 1:
            raise ValueError(f"{opname}: {name} must be an int or a 1-tuple, got {value!r}")
        value = values[0]
    return value


@op
def conv1d(x: TensorLike, kernel: TensorLike, stride=1, padding="valid", dilations=1) -> Tensor:
    """1-D convolution like ``tf.nn.conv1d``: x is (N, L, C), kernel is (k, C, F); no bias.

    stride, dilations: an int. padding: 'valid', 'same' (TensorFlow's rule) or 'causal' (Keras: zeros before the
    sequence only; the output has ceil(L / stride) steps).
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    x4, k4 = lift_1d(x, "conv1d"), lift_1d(kernel, "conv1d", "kernel", axis=0)
    strides = pair((1, as_int("conv1d", "stride", stride)), "stride", "conv1d")
    dilations = pair((1, as_int("conv1d", "dilations", dilations)), "dilations", "conv1d")
    if isinstance(padding, str) and padding.lower() == "causal":
        padding = causal_pads(kernel.shape[0], dilations[1])
    x4, k4, geometry = conv_args("conv1d", x4, k4, strides, padding, dilations)
    return lower_1d(Conv2D.apply(x4, k4, **geometry))
