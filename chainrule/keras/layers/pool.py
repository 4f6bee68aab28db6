"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, and global average / max pooling over space (1-D, 2-D
and 3-D).

>>> import numpy as np
>>> MaxPooling2D()(np.ones((2, 6, 6, 3), "float32")).shape
TensorShape([2, 3, 3, 3])
>>> GlobalAveragePooling2D()(np.ones((2, 6, 6, 3), "float32")).shape
TensorShape([2, 3])
"""
from __future__ import annotations

from chainrule import ops
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.conv import (conv_output_length, from_channels_last, normalize_padding, normalize_tuple,
                                         shape_channels_last, shape_from_channels_last, to_channels_last)
from chainrule.keras.layers.core import check_data_format
from chainrule.ops.conv3d import avg_pool3d, max_pool3d
from chainrule.ops.pool import avg_pool2d, max_pool2d
from chainrule.ops.pool1d import avg_pool1d, max_pool1d


class _Pooling2D(Layer):
    """Windows of ``pool_size`` moved by ``strides`` (default: ``pool_size``) over (batch, height, width, channels),
    or over (batch, steps, channels) for ``_rank`` 1; channels first where ``_channels_first_ok`` (3-D)."""

    _rank, _channels_first_ok = 2, False

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind, rank = type(self).__name__, self._rank
        self.pool_size = normalize_tuple(pool_size, "pool_size", kind, n=rank)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, "strides", kind, n=rank)
        self.padding = normalize_padding(padding, kind)
        self.data_format = check_data_format(data_format, kind, allow_channels_first=self._channels_first_ok)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        y = self._pool(to_channels_last(inputs, self.data_format), self.pool_size, self.strides, self.padding)
        return from_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = shape_channels_last(input_shape, self.data_format)
        spatial = tuple(conv_output_length(size, k, self.padding, s)
                        for size, k, s in zip(input_shape[1:-1], self.pool_size, self.strides))
        return shape_from_channels_last((input_shape[0],) + spatial + (input_shape[-1],), self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """The largest value of each window (its gradient goes to the window's first maximum)."""

    _pool = staticmethod(max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean of each window ('same' padding averages over the real pixels only, as TensorFlow)."""

    _pool = staticmethod(avg_pool2d)


class _Pooling3D(_Pooling2D):
    _rank, _channels_first_ok = 3, True

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling3D):
    """The largest value of each (depth, height, width) box (its gradient goes to the box's first maximum)."""

    _pool = staticmethod(max_pool3d)


class AveragePooling3D(_Pooling3D):
    """The mean of each box ('same' padding averages over the real voxels only, as TensorFlow)."""

    _pool = staticmethod(avg_pool3d)


class _Pooling1D(_Pooling2D):
    _rank = 1

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """The largest value of each window of steps (its gradient goes to the window's first maximum)."""

    _pool = staticmethod(max_pool1d)


class AveragePooling1D(_Pooling1D):
    """The mean of each window of steps ('same' padding averages over the real steps only, as TensorFlow)."""

    _pool = staticmethod(avg_pool1d)


class _GlobalPooling(Layer):
    """Reduce the spatial axes: (batch, *spatial, channels) -> (batch, channels), or keep them as 1 (keepdims)."""

    _rank = 2
    _reduce = staticmethod(ops.mean)

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__, allow_channels_first=True)
        self.keepdims = bool(keepdims)
        first = 2 if self.data_format == "channels_first" else 1
        self._axes = tuple(range(first, first + self._rank))
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        return self._reduce(inputs, self._axes, self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return tuple(1 if i in self._axes else n for i, n in enumerate(input_shape))
        return tuple(n for i, n in enumerate(input_shape) if i not in self._axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    _rank, _reduce = 2, staticmethod(ops.mean)


class GlobalMaxPooling2D(_GlobalPooling):
    _rank, _reduce = 2, staticmethod(ops.max)


class GlobalAveragePooling3D(_GlobalPooling):
    _rank, _reduce = 3, staticmethod(ops.mean)


class GlobalMaxPooling3D(_GlobalPooling):
    _rank, _reduce = 3, staticmethod(ops.max)


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps; with a mask (batch, steps), over the kept steps only (Keras)."""

    _rank, _reduce = 1, staticmethod(ops.mean)
    _supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = self._axes[0]
        keep = ops.expand_dims(ops.cast(mask, inputs.dtype), 2 if steps == 1 else 1)
        return ops.sum(inputs * keep, steps, self.keepdims) / ops.sum(keep, steps, self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None  # the steps are pooled away


class GlobalMaxPooling1D(_GlobalPooling):
    _rank, _reduce = 1, staticmethod(ops.max)


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D

__all__ = ["MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPool2D",
           "AvgPool2D", "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "MaxPooling3D",
           "AveragePooling3D", "MaxPool3D", "AvgPool3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D",
           "GlobalAvgPool3D", "GlobalMaxPool3D"]
