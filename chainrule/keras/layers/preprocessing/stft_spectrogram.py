"""``keras.layers.STFTSpectrogram``: the short-time Fourier transform of 1-D signals as two strided convolutions
whose kernels (windowed cosines and sines, Keras's ``STFT`` initializer) are weights that can be trained, as Keras 3;
the output is the log magnitude, the magnitude, the power spectral density, the real or imaginary part, the angle or
both parts ('stft').

>>> import numpy as np
>>> layer = STFTSpectrogram(mode="magnitude", frame_length=64, frame_step=32)
>>> layer(np.zeros((2, 256, 1), "float32")).shape
TensorShape([2, 7, 33])
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule.keras import ops as kops
from chainrule.keras.backend import epsilon, image_data_format
from chainrule.keras.initializers import STFT, check_stft_scaling, named_window
from chainrule.keras.layers.base import InputSpec, Layer

_MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class STFTSpectrogram(Layer):
    """The STFT of (batch, time, channels) signals (channels first with ``data_format='channels_first'``): frames of
    ``frame_length`` every ``frame_step`` (default half a frame), ``fft_length`` bins (default the next power of 2),
    ``padding`` 'valid' or 'same'; each channel's bins side by side, or on an axis of their own with
    ``expand_dims``. The kernels are trainable weights."""

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window="hann", periodic: bool = False, scaling: str | None = "density",
                 padding: str = "valid", expand_dims: bool = False, data_format: str | None = None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(f"`frame_step` should be a positive integer not greater than `frame_length`. Received "
                             f"frame_step={frame_step}, frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"`fft_length` should be not less than `frame_length`. Received fft_length={fft_length}, "
                             f"frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}")
        if mode not in _MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_MODES)}. Received: mode={mode}")
        check_stft_scaling(scaling)
        if padding not in ["valid", "same"]:
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        if isinstance(window, str):
            named_window(window, 1, periodic)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=STFT(
                "real", self.window, self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=STFT(
                "imag", self.window, self.scaling, self.periodic))
        self.built = True

    def _apply_conv(self, inputs, kernel):
        """Each channel's signal through the kernels: (batch, channels, bins, frames)."""
        channels_last = self.data_format == "channels_last"
        _, time, channels = inputs.shape if channels_last else (inputs.shape[0], inputs.shape[2], inputs.shape[1])
        if channels_last:
            inputs = kops.reshape(kops.transpose(inputs, [0, 2, 1]), [-1, time, 1])
        else:
            inputs = kops.reshape(inputs, [-1, 1, time])
        outputs = kops.conv(inputs, kops.cast(kernel, inputs.dtype), strides=self._frame_step, padding=self.padding,
                            data_format=self.data_format)
        if channels_last:
            _, frames, bins = outputs.shape
            return kops.reshape(kops.transpose(outputs, [0, 2, 1]), [-1, channels, bins, frames])
        _, bins, frames = outputs.shape
        return kops.reshape(outputs, [-1, channels, bins, frames])

    def _adjust_shapes(self, outputs):
        _, channels, bins, frames = outputs.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return kops.transpose(outputs, [0, 3, 2, 1])  # (batch, frames, bins, channels)
            return kops.transpose(kops.reshape(outputs, [-1, channels * bins, frames]), [0, 2, 1])
        if self.expand_dims:
            return kops.transpose(outputs, [0, 1, 3, 2])  # (batch, channels, frames, bins)
        return kops.reshape(outputs, [-1, channels * bins, frames])

    def call(self, inputs):
        inputs = kops.convert_to_tensor(inputs)
        if inputs.dtype not in (np.float16, np.float32, np.float64):
            raise TypeError(f"Invalid input type. Expected `float16`, `float32` or `float64`. Received: input "
                            f"type={inputs.dtype}")
        real = self._apply_conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._apply_conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._adjust_shapes(real)
        if self.mode == "imag":
            return self._adjust_shapes(imag)
        if self.mode == "angle":
            return self._adjust_shapes(kops.arctan2(imag, real))
        if self.mode == "stft":
            return self._adjust_shapes(kops.concatenate([real, imag], axis=2))
        power = kops.square(real) + kops.square(imag)
        if self.mode == "psd":  # the bins that stand for two (all but the first and last) counted twice
            return self._adjust_shapes(power + kops.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]]))
        magnitude = self._adjust_shapes(kops.sqrt(kops.maximum(power, epsilon())))
        return magnitude if self.mode == "magnitude" else kops.log(kops.maximum(magnitude, epsilon()))

    def compute_output_shape(self, input_shape):
        channels_last = self.data_format == "channels_last"
        batch, time, channels = (input_shape if channels_last
                                 else (input_shape[0], input_shape[2], input_shape[1]))
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._frame_step)
        else:
            frames = (time - self.frame_length) // self._frame_step + 1
        if self.expand_dims:
            return (batch, frames, bins, channels) if channels_last else (batch, channels, frames, bins)
        features = None if channels is None else bins * channels
        return (batch, frames, features) if channels_last else (batch, features, frames)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"mode": self.mode, "frame_length": self.frame_length, "frame_step": self.frame_step,
                       "fft_length": self.fft_length, "window": self.window, "periodic": self.periodic,
                       "scaling": self.scaling, "padding": self.padding, "data_format": self.data_format,
                       "expand_dims": self.expand_dims})
        return config
