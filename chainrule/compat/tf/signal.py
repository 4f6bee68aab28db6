"""``tf.signal``: Fourier transforms of complex and real tensors, frames and overlap-add, windows, the short-time
Fourier transform and its inverse, the mel filter bank, MFCCs and the DCT, with TensorFlow's names, defaults and
shapes (the math lives in chainrule/ops/fft.py and chainrule/ops/signal.py).

>>> import chainrule as tf
>>> waveform = tf.sin(tf.range(1024, dtype=tf.float32) * 0.5)
>>> spectrogram = tf.abs(tf.signal.stft(waveform, frame_length=255, frame_step=128))
>>> spectrogram.shape, spectrogram.dtype
(TensorShape([7, 129]), dtype('float32'))
>>> tf.signal.rfft(tf.constant([1.0, 1.0, 1.0, 1.0])).numpy()
array([4.+0.j, 0.+0.j, 0.+0.j], dtype=complex64)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from chainrule import backend, ops
from chainrule.engine.function import named
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import signal as _signal
from chainrule.ops.complex import real_dtype_of


def _integer(value, name: str) -> int:
    """A scalar integer argument (a Python int or a 0-d integer tensor), as TensorFlow's ``assert_has_rank(0)``."""
    array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    if array.ndim != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {array.ndim} for `{name}`")
    if array.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    return int(array)


def _positive(value, name: str) -> int:
    number = _integer(value, name)
    if number <= 0:
        raise ValueError(f"`{name}` must be positive, got {number}")
    return number


def _fft_lengths(fft_length, rank: int):
    if fft_length is None:
        return None
    lengths = np.ravel(fft_length.numpy() if isinstance(fft_length, Tensor) else np.asarray(fft_length))
    if lengths.size != rank:
        raise ValueError(f"Shape must be rank 1 with {rank} elements for `fft_length`, got {lengths.tolist()}")
    return tuple(int(n) for n in lengths)


def _complex_transform(transform: Callable, rank: int, name: str, what: str) -> Callable:
    def complex_transform(input: TensorLike, name=None) -> Tensor:  # noqa: A002
        return transform(input, rank=rank)
    return named(complex_transform, name, f"The {what} over the inner {rank} axes of a complex tensor.")


def _real_transform(transform: Callable, rank: int, name: str, what: str) -> Callable:
    def real_transform(input_tensor: TensorLike, fft_length=None, name=None) -> Tensor:
        return transform(input_tensor, _fft_lengths(fft_length, rank), rank=rank)
    return named(real_transform, name, f"The {what} over the inner {rank} axes (``fft_length``: {rank} sizes).")


fft = _complex_transform(ops.fft, 1, "fft", "discrete Fourier transform")
ifft = _complex_transform(ops.ifft, 1, "ifft", "inverse discrete Fourier transform (divided by N)")
fft2d = _complex_transform(ops.fft, 2, "fft2d", "discrete Fourier transform")
ifft2d = _complex_transform(ops.ifft, 2, "ifft2d", "inverse discrete Fourier transform (divided by N)")
fft3d = _complex_transform(ops.fft, 3, "fft3d", "discrete Fourier transform")
ifft3d = _complex_transform(ops.ifft, 3, "ifft3d", "inverse discrete Fourier transform (divided by N)")
# rfft: the fft_length[-1] // 2 + 1 unique bins of a real signal's transform (each axis cut or padded with zeros to
# fft_length, default its size); irfft: the real signal of fft_length (default 2 * (bins - 1) on the last axis)
rfft = _real_transform(ops.rfft, 1, "rfft", "Fourier transform's unique bins of a real signal")
irfft = _real_transform(ops.irfft, 1, "irfft", "real signal of the given unique Fourier bins")
rfft2d = _real_transform(ops.rfft, 2, "rfft2d", "Fourier transform's unique bins of a real signal")
irfft2d = _real_transform(ops.irfft, 2, "irfft2d", "real signal of the given unique Fourier bins")
rfft3d = _real_transform(ops.rfft, 3, "rfft3d", "Fourier transform's unique bins of a real signal")
irfft3d = _real_transform(ops.irfft, 3, "irfft3d", "real signal of the given unique Fourier bins")


def _shift(x: TensorLike, axes, sign: int) -> Tensor:
    from chainrule.keras import ops as _kops

    x = as_tensor(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    shifts = [sign * (x.shape[a] // 2) for a in axes]
    return _kops.roll(x, shifts, axis=axes) if axes else x


def fftshift(x: TensorLike, axes=None, name=None) -> Tensor:
    """The zero-frequency bin moved to the middle of ``axes`` (all axes when None), as NumPy's ``fftshift``.

    >>> import chainrule as tf
    >>> tf.signal.fftshift(tf.constant([0, 1, 2, 3, -4, -3, -2, -1])).numpy()
    array([-4, -3, -2, -1,  0,  1,  2,  3], dtype=int32)
    """
    return _shift(x, axes, 1)


def ifftshift(x: TensorLike, axes=None, name=None) -> Tensor:
    """The inverse of ``fftshift``."""
    return _shift(x, axes, -1)


def frame(signal: TensorLike, frame_length, frame_step, pad_end: bool = False, pad_value=0, axis: int = -1,
          name=None) -> Tensor:
    """Frames of ``frame_length`` samples every ``frame_step`` along ``axis``, which becomes (frames,
    frame_length); with ``pad_end`` frames run past the end, filled with ``pad_value``.

    >>> import chainrule as tf
    >>> tf.signal.frame(tf.range(7), 3, 2, pad_end=True).numpy()
    array([[0, 1, 2],
           [2, 3, 4],
           [4, 5, 6],
           [6, 0, 0]], dtype=int32)
    """
    signal = as_tensor(signal)
    if signal.ndim < 1:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for `signal`")
    return _signal.frame(signal, _positive(frame_length, "frame_length"), _positive(frame_step, "frame_step"),
                         pad_end=pad_end, pad_value=pad_value, axis=axis)


def overlap_and_add(signal: TensorLike, frame_step, name=None) -> Tensor:
    """The ``[..., frames, frame_length]`` frames overlapped every ``frame_step`` samples and added up:
    ``[..., (frames - 1) * frame_step + frame_length]``.

    >>> import chainrule as tf
    >>> tf.signal.overlap_and_add(tf.ones((2, 3)), 2).numpy()
    array([1., 1., 2., 1., 1.], dtype=float32)
    """
    signal = as_tensor(signal)
    if signal.ndim < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {signal.ndim} for `signal`")
    frame_step = _positive(frame_step, "frame_step")
    if frame_step > signal.shape[-1]:
        raise ValueError(f"frame_step ({frame_step}) must be less than or equal to frame_length "
                         f"({signal.shape[-1]}).")
    return _signal.overlap_and_add(signal, frame_step)


def hann_window(window_length, periodic: bool = True, dtype=np.float32, name=None) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2π n / N)``; ``periodic`` (for spectral analysis): N = window_length,
    else N = window_length - 1.

    >>> import chainrule as tf
    >>> tf.signal.hann_window(4).numpy()
    array([0. , 0.5, 1. , 0.5], dtype=float32)
    """
    return Tensor._wrap(backend.xp.asarray(
        _signal.hann_window(_window_length(window_length), bool(periodic), _float_dtype(dtype))))


def hamming_window(window_length, periodic: bool = True, dtype=np.float32, name=None) -> Tensor:
    """The Hamming window ``0.54 - 0.46 cos(2π n / N)`` (N as in ``hann_window``)."""
    return Tensor._wrap(backend.xp.asarray(
        _signal.hamming_window(_window_length(window_length), bool(periodic), _float_dtype(dtype))))


def kaiser_window(window_length, beta: float = 12.0, dtype=np.float32, name=None) -> Tensor:
    """The Kaiser window ``I0(β √(1 - (2n / (N - 1) - 1)²)) / I0(β)`` (NumPy's ``kaiser``)."""
    return Tensor._wrap(backend.xp.asarray(np.kaiser(_window_length(window_length), float(beta))
                                           .astype(_float_dtype(dtype))))


def vorbis_window(window_length, dtype=np.float32, name=None) -> Tensor:
    """The Vorbis power-complementary window ``sin(π/2 sin²(π (n + 1/2) / N))``."""
    n = _window_length(window_length)
    values = np.sin(np.pi / 2 * np.sin(np.pi * (np.arange(n) + 0.5) / max(n, 1)) ** 2)
    return Tensor._wrap(backend.xp.asarray(values.astype(_float_dtype(dtype))))


def _window_length(value) -> int:
    length = _integer(value, "window_length")
    if length < 0:
        raise ValueError(f"`window_length` must be non-negative, got {length}")
    return length


def _float_dtype(dtype) -> np.dtype:
    dtype = backend.as_dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating point type. Found {dtype}")
    return dtype


def _window(window_fn: Callable | None, frame_length: int, dtype):
    """The window ``window_fn`` makes for ``frame_length`` samples of ``dtype``, as an array (None: none)."""
    if window_fn is None:
        return None
    window = window_fn(frame_length, dtype=dtype)
    window = backend.to_host(window.data) if isinstance(window, Tensor) else np.asarray(window)
    if window.shape != (frame_length,):
        raise ValueError(f"window_fn must return a [{frame_length}] window, got shape {window.shape}")
    return window


def stft(signals: TensorLike, frame_length, frame_step, fft_length=None, window_fn=hann_window, pad_end=False,
         name=None) -> Tensor:
    """The short-time Fourier transform of ``[..., samples]`` real signals: ``[..., frames, fft_length // 2 + 1]``
    complex bins of each windowed frame (``fft_length`` default: the smallest power of 2 holding a frame)."""
    signals = as_tensor(signals)
    if signals.ndim < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for `signals`")
    if signals.dtype.kind != "f":
        raise TypeError(f"`signals` must be float32 or float64, got {signals.dtype}")
    frame_length = _positive(frame_length, "frame_length")
    frame_step = _positive(frame_step, "frame_step")
    fft_length = (_signal.enclosing_power_of_two(frame_length) if fft_length is None
                  else _positive(fft_length, "fft_length"))
    window = _window(window_fn, frame_length, signals.dtype)
    return _signal.stft(signals, frame_length, frame_step, fft_length, window=window, pad_end=pad_end)


def inverse_stft(stfts: TensorLike, frame_length, frame_step, fft_length=None, window_fn=hann_window,
                 name=None) -> Tensor:
    """The ``[..., samples]`` real signals of ``[..., frames, bins]`` complex STFTs; pass
    ``window_fn=tf.signal.inverse_stft_window_fn(frame_step)`` to undo ``stft`` exactly."""
    stfts = as_tensor(stfts)
    if stfts.ndim < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {stfts.ndim} for `stfts`")
    if stfts.dtype.kind != "c":
        raise TypeError(f"`stfts` must be complex64 or complex128, got {stfts.dtype}")
    frame_length = _positive(frame_length, "frame_length")
    frame_step = _positive(frame_step, "frame_step")
    fft_length = (_signal.enclosing_power_of_two(frame_length) if fft_length is None
                  else _positive(fft_length, "fft_length"))
    window = _window(window_fn, frame_length, real_dtype_of(stfts.dtype))
    return _signal.inverse_stft(stfts, frame_length, frame_step, fft_length, window=window)


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None) -> Callable:
    """A window function for ``inverse_stft`` that undoes ``stft`` with ``forward_window_fn`` at ``frame_step``:
    the forward window divided by the sum of the squared windows over each sample's overlapping frames."""
    frame_step = _positive(frame_step, "frame_step")

    def inverse_stft_window_fn_inner(frame_length, dtype):
        forward = _window(forward_window_fn, _positive(frame_length, "frame_length"), dtype)
        return Tensor._wrap(backend.xp.asarray(_signal.inverse_stft_window(forward, frame_step)))

    return inverse_stft_window_fn_inner


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins=129, sample_rate=8000,
                                lower_edge_hertz: float = 125.0, upper_edge_hertz: float = 3800.0,
                                dtype=np.float32, name=None) -> Tensor:
    """The ``[num_spectrogram_bins, num_mel_bins]`` matrix that turns linear spectrogram bins (``fft_length // 2 +
    1`` of them, over 0 to sample_rate / 2) into triangular mel bands between the two edges (``tf.tensordot(S, A,
    1)``).

    >>> import chainrule as tf
    >>> tf.signal.linear_to_mel_weight_matrix().shape
    TensorShape([129, 20])
    """
    sample_rate = float(sample_rate.numpy() if isinstance(sample_rate, Tensor) else sample_rate)
    dtype = backend.as_dtype(dtype)
    if num_mel_bins <= 0:
        raise ValueError("num_mel_bins must be positive. Got: %s" % num_mel_bins)
    if sample_rate <= 0.0:
        raise ValueError("sample_rate must be positive. Got: %s" % sample_rate)
    if lower_edge_hertz < 0.0:
        raise ValueError("lower_edge_hertz must be non-negative. Got: %s" % lower_edge_hertz)
    if lower_edge_hertz >= upper_edge_hertz:
        raise ValueError("lower_edge_hertz %.1f >= upper_edge_hertz %.1f" % (lower_edge_hertz, upper_edge_hertz))
    if upper_edge_hertz > sample_rate / 2:
        raise ValueError("upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). Got %s "
                         "for sample_rate: %s" % (upper_edge_hertz, sample_rate))
    if dtype.kind != "f":
        raise ValueError("dtype must be a floating point type. Got: %s" % dtype)
    matrix = _signal.linear_to_mel_weight_matrix(int(num_mel_bins), _integer(num_spectrogram_bins,
                                                                             "num_spectrogram_bins"),
                                                 sample_rate, float(lower_edge_hertz), float(upper_edge_hertz), dtype)
    return Tensor._wrap(backend.xp.asarray(matrix))


def _check_dct(input: Tensor, type: int, n, axis: int, norm) -> None:  # noqa: A002
    if axis != -1:
        raise NotImplementedError("axis must be -1. Got: %s" % axis)
    if n is not None and n < 1:
        raise ValueError("n should be a positive integer or None")
    if type not in (1, 2, 3, 4):
        raise ValueError("Types I, II, III and IV (I)DCT are supported.")
    if type == 1:
        if norm == "ortho":
            raise ValueError("Normalization is not supported for the Type-I DCT.")
        if (input.shape[-1] if n is None else n) < 2:
            raise ValueError("Type-I DCT requires the dimension to be greater than one.")
    if norm not in (None, "ortho"):
        raise ValueError("Unknown normalization. Expected None or 'ortho', got: %s" % norm)
    if input.dtype.kind != "f":
        raise TypeError(f"dct: `input` must be float32 or float64, got {input.dtype}")


def dct(input: TensorLike, type: int = 2, n=None, axis: int = -1, norm=None, name=None) -> Tensor:  # noqa: A002
    """The discrete cosine transform (types 1 to 4, SciPy's ``fftpack.dct`` definitions) along the last axis,
    cut or padded with zeros to ``n``; ``norm="ortho"`` makes it orthonormal.

    >>> import chainrule as tf
    >>> tf.signal.dct(tf.constant([1.0, 2.0, 3.0]), norm="ortho").numpy()[:2]
    array([ 3.4641016, -1.4142135], dtype=float32)
    """
    input = as_tensor(input)  # noqa: A001
    _check_dct(input, type, n, axis, norm)
    return _signal.dct(input, type, n, norm)


def idct(input: TensorLike, type: int = 2, n=None, axis: int = -1, norm=None, name=None) -> Tensor:  # noqa: A002
    """The inverse DCT: the DCT of the inverse type (2 <-> 3, 1 and 4 themselves), so that
    ``idct(dct(x)) * 0.5 / N == x``, and ``idct(dct(x, norm="ortho"), norm="ortho") == x``."""
    input = as_tensor(input)  # noqa: A001
    _check_dct(input, type, n, axis, norm)
    return _signal.dct(input, {1: 1, 2: 3, 3: 2, 4: 4}[type], n, norm)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms: TensorLike, name=None) -> Tensor:
    """Mel-frequency cepstral coefficients of ``[..., num_mel_bins]`` log-magnitude mel spectrograms: their
    orthonormal-like DCT-II scaled by ``1 / sqrt(2 * num_mel_bins)``, as TensorFlow's (keep the first 13 or so).

    >>> import chainrule as tf
    >>> tf.signal.mfccs_from_log_mel_spectrograms(tf.ones((1, 4))).numpy().round(4)
    array([[2.8284, 0.    , 0.    , 0.    ]], dtype=float32)
    """
    log_mel_spectrograms = as_tensor(log_mel_spectrograms)
    if log_mel_spectrograms.ndim < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for `log_mel_spectrograms`")
    bins = log_mel_spectrograms.shape[-1]
    if bins == 0:
        raise ValueError("num_mel_bins must be positive. Got: 0")
    return ops.mul(dct(log_mel_spectrograms, type=2), 1.0 / np.sqrt(2.0 * bins))


__all__ = ["dct", "fft", "fft2d", "fft3d", "fftshift", "frame", "hamming_window", "hann_window", "idct", "ifft",
           "kaiser_window", "vorbis_window",
           "ifft2d", "ifft3d", "ifftshift", "inverse_stft", "inverse_stft_window_fn", "irfft", "irfft2d", "irfft3d",
           "linear_to_mel_weight_matrix", "mfccs_from_log_mel_spectrograms", "overlap_and_add", "rfft", "rfft2d",
           "rfft3d", "stft"]
