"""Layers that move values without learning anything: UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
Permute and RepeatVector, with Keras 3's arguments (``data_format='channels_first'`` works for the image layers).

>>> import numpy as np
>>> UpSampling2D()(np.ones((1, 3, 3, 2), "float32")).shape
TensorShape([1, 6, 6, 2])
>>> ZeroPadding1D(2)(np.ones((1, 3, 2), "float32")).shape
TensorShape([1, 7, 2])
>>> Cropping2D(((1, 0), (2, 1)))(np.ones((1, 5, 6, 2), "float32")).shape
TensorShape([1, 4, 3, 2])
>>> RepeatVector(3)(np.ones((2, 4), "float32")).shape
TensorShape([2, 3, 4])
"""
from __future__ import annotations

import numbers

from chainrule import ops
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.conv import from_channels_last, normalize_tuple, to_channels_last
from chainrule.keras.layers.core import check_data_format
from chainrule.ops.upsampling import resize_bilinear, upsample_nearest


def _times(size, factor):
    return None if size is None else size * factor


def _spatial_axes(data_format: str, rank: int) -> tuple[int, ...]:
    """The spatial axes of a (batch, ..., channels) or (batch, channels, ...) tensor."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def _int_size(value, name: str, layer: str) -> int:
    """A positive Python int, with Keras's TypeError for anything else."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{layer}: Expected an integer value for `{name}`, got {type(value)}.")
    if value <= 0:
        raise ValueError(f"{layer}: Argument `{name}` should be a positive integer. Received: {name}={value}")
    return int(value)


# --- upsampling ---------------------------------------------------------------------------------------------------
class UpSampling1D(Layer):
    """Repeat each step ``size`` times: (batch, steps, features) -> (batch, steps * size, features)."""

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = _int_size(size, "size", "UpSampling1D")
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return upsample_nearest(inputs, self.size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _times(input_shape[1], self.size), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Repeat rows and columns ``size`` = (rows, columns) times ('nearest'), or resize by bilinear interpolation
    with half-pixel centres ('bilinear', as ``tf.image.resize``)."""

    _rank, _interpolations = 2, ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.data_format = check_data_format(data_format, kind, allow_channels_first=True)
        self.size = normalize_tuple(size, "size", kind, n=self._rank)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in self._interpolations:
            raise NotImplementedError(f"{kind}: interpolation={interpolation!r} is not supported; chainrule "
                                      f"has {' and '.join(map(repr, self._interpolations))}")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        x = to_channels_last(inputs, self.data_format)
        if self.interpolation == "nearest":
            x = upsample_nearest(x, self.size)
        else:
            x = resize_bilinear(x, (x.shape[1] * self.size[0], x.shape[2] * self.size[1]))
        return from_channels_last(x, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(_spatial_axes(self.data_format, self._rank), self.size):
            shape[axis] = _times(shape[axis], factor)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling3D(UpSampling2D):
    """Repeat depth slices, rows and columns ``size`` = (depth, rows, columns) times: (batch, d, h, w, channels) ->
    (batch, d * size[0], h * size[1], w * size[2], channels) (or channels first)."""

    _rank, _interpolations = 3, ("nearest",)

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["interpolation"]  # Keras's UpSampling3D has none
        return config


# --- padding and cropping -------------------------------------------------------------------------------------------
def _pairs_per_axis(value, name: str, layer: str, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras's forms of padding / cropping: an int (all sides), one int per axis (both sides), or (before, after)
    per axis; for one axis also (before, after) directly."""
    if rank == 1:
        return (normalize_tuple(value, name, layer, n=2, allow_zero=True),)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"{layer}: `{name}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} "
                         f"tuples of 2 ints ((before, after) per axis). Received: {name}={value}.")
    return tuple(normalize_tuple(v, f"{('1st', '2nd', '3rd')[i]} entry of {name}", layer, n=2, allow_zero=True)
                 for i, v in enumerate(value))


class _Border(Layer):
    """Rows added (padding, ``_sign`` 1) or removed (cropping, ``_sign`` -1) at both ends of each spatial axis;
    ``_argument`` names the amounts."""

    _rank, _argument, _sign = 1, "padding", 1

    def __init__(self, amounts, data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.data_format = check_data_format(data_format, kind, allow_channels_first=True)
        self._amounts = _pairs_per_axis(amounts, self._argument, kind, self._rank)
        setattr(self, self._argument, self._amounts[0] if self._rank == 1 else self._amounts)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _per_axis(self):
        """(axis, (before, after)) for each spatial axis."""
        return zip(_spatial_axes(self.data_format, self._rank), self._amounts)

    def _check(self, shape) -> None:
        """Raise if ``shape`` cannot take the amounts (cropping only)."""

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        shape = list(input_shape)
        for axis, (before, after) in self._per_axis():
            shape[axis] = None if shape[axis] is None else shape[axis] + self._sign * (before + after)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), self._argument: getattr(self, self._argument),
                "data_format": self.data_format}


class _Padding(_Border):
    def call(self, inputs):
        paddings = [(0, 0)] * inputs.ndim
        for axis, pad in self._per_axis():
            paddings[axis] = pad
        return ops.pad(inputs, paddings)


class ZeroPadding1D(_Padding):
    """Zeros before and after the steps: ``padding`` an int (both ends) or (before, after)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_Padding):
    """Zero rows and columns around images: ``padding`` an int, (rows, columns) or ((top, bottom), (left, right))."""

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_Padding):
    """Zeros around volumes: ``padding`` an int, (depth, rows, columns) or a (before, after) pair for each."""

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Border):
    _argument, _sign = "cropping", -1

    def _check(self, shape) -> None:
        for axis, crop in self._per_axis():
            if shape[axis] is not None and sum(crop) >= shape[axis]:
                raise ValueError(f"Layer '{self.name}': values in `cropping` argument should be smaller than the "
                                 f"corresponding spatial dimension of the input. Received: input_shape="
                                 f"{tuple(shape)}, cropping={self.cropping}")

    def call(self, inputs):
        self._check(inputs.shape)
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in self._per_axis():
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]


class Cropping1D(_Cropping):
    """Drop steps at the start and end: ``cropping`` an int (both ends) or (start, end)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]  # Keras's Cropping1D has none
        return config


class Cropping2D(_Cropping):
    """Drop rows and columns at the borders: ``cropping`` an int, (rows, columns) or ((top, bottom), (left, right))."""

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Drop depth slices, rows and columns at the borders: ``cropping`` an int, (depth, rows, columns) or a
    (before, after) pair for each."""

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# --- axes ---------------------------------------------------------------------------------------------------------
class Permute(Layer):
    """Reorder the axes after the batch axis: ``Permute((2, 1))`` swaps the two axes of (batch, a, b)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={tuple(dims)}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeat a vector ``n`` times: (batch, features) -> (batch, n, features)."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = _int_size(n, "n", "RepeatVector")
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        batch, features = inputs.shape
        return upsample_nearest(ops.reshape(inputs, (batch, 1, features)), self.n)  # a copy; its gradient sums

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


__all__ = ["UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
           "Cropping1D", "Cropping2D", "Cropping3D", "Permute", "RepeatVector"]
