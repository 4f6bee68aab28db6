"""``keras.layers.MelSpectrogram``: raw audio (samples, or batch x samples) to mel spectrograms (mel bins x frames),
as Keras 3: the centred STFT's magnitude to the power ``mag_exp``, the mel filter bank, then decibels clipped
``top_db`` below the largest value.

>>> import numpy as np
>>> layer = MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256, fft_length=2048)
>>> layer(np.random.default_rng(0).uniform(size=16000).astype("float32")).shape
TensorShape([64, 63])
"""
from __future__ import annotations

from chainrule import ops
from chainrule.keras import ops as kops
from chainrule.keras.layers.base import Layer
from chainrule.ops import signal as _signal


class MelSpectrogram(Layer):
    """Mel spectrograms of float audio: frames of ``sequence_length`` (default ``fft_length``) samples every
    ``sequence_stride``, ``fft_length``-point FFTs, ``num_mel_bins`` mel bands between ``min_freq`` and ``max_freq``
    (default ``sampling_rate / 2``), and with ``power_to_db`` ``10 log10(S / ref_power)`` floored ``top_db`` below
    the maximum. Output: (..., num_mel_bins, frames)."""

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512, sequence_length: int | None = None,
                 window="hann", sampling_rate: int = 16000, num_mel_bins: int = 128, min_freq: float = 20.0,
                 max_freq: float | None = None, power_to_db: bool = True, top_db: float = 80.0, mag_exp: float = 2.0,
                 min_power: float = 1e-10, ref_power: float = 1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        if self.fft_length < self.sequence_length:
            raise ValueError(f"`fft_length` must be greater than or equal to   `sequence_length`. Received: "
                             f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}.")
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        inputs = kops.cast(kops.convert_to_tensor(inputs), dtype)
        real, imag = kops.stft(inputs, sequence_length=self.sequence_length, sequence_stride=self.sequence_stride,
                               fft_length=self.fft_length, window=self.window, center=True)
        spectrogram = kops.power(kops.sqrt(kops.square(real) + kops.square(imag)), self.mag_exp)
        matrix = _signal.linear_to_mel_weight_matrix(self.num_mel_bins, spectrogram.shape[-1], self.sampling_rate,
                                                     self.min_freq, self.max_freq, dtype=dtype)
        outputs = kops.tensordot(spectrogram, matrix, axes=1)
        if self.power_to_db:
            outputs = self._dbscale(outputs)
        return kops.cast(kops.swapaxes(outputs, -1, -2), self.compute_dtype)

    def _dbscale(self, inputs):
        log_spec = 10.0 * kops.log10(kops.maximum(inputs, self.min_power))
        log_spec = log_spec - 10.0 * kops.log10(kops.maximum(abs(self.ref_power), self.min_power))
        return kops.maximum(log_spec, ops.max(log_spec) - self.top_db)  # the largest value over the whole batch

    def compute_output_shape(self, input_shape):
        *lead, samples = input_shape
        pad = self.fft_length // 2
        frames = None if samples is None else 1 + (samples + 2 * pad - self.fft_length) // self.sequence_stride
        return (*lead, self.num_mel_bins, frames)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                       "sequence_length": self.sequence_length, "window": self.window,
                       "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                       "min_freq": self.min_freq, "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                       "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                       "ref_power": self.ref_power})
        return config
