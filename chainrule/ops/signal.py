"""Signal processing built from the ops: frames of a signal and their overlap-add, windows, the short-time Fourier
transform and its inverse, the mel filter bank and the discrete cosine transform. ``tf.signal``
(chainrule/compat/tf/signal.py) and ``keras.ops.stft``/``istft`` give them their public names and arguments; every
function here is differentiable wherever its ops are (frames, windows, rfft, matmul).

>>> import numpy as np
>>> frame(np.arange(6.0), frame_length=3, frame_step=2).numpy()
array([[0., 1., 2.],
       [2., 3., 4.]])
>>> overlap_and_add(np.ones((3, 4)), frame_step=2).numpy()
array([1., 1., 2., 2., 2., 2., 1., 1.])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.fft import irfft, rfft
from chainrule.ops.indexing import take
from chainrule.ops.linalg import matmul
from chainrule.ops.math import add, mul
from chainrule.ops.reduce import _normalize_axis
from chainrule.ops.shape import getitem, pad, reshape

# the mel scale of the Hidden Markov Model Toolkit: mel = 1127 ln(1 + f / 700)
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def frame(signal: TensorLike, frame_length: int, frame_step: int, pad_end: bool = False, pad_value=0,
          axis: int = -1) -> Tensor:
    """Frames of ``frame_length`` samples every ``frame_step`` along ``axis`` (which becomes two axes: frames,
    samples); with ``pad_end`` the last frames run past the end into ``pad_value``, so every sample is in one.
    Without it a signal shorter than a frame has no frames."""
    signal = as_tensor(signal)
    axis = _normalize_axis(axis, signal.ndim, "frame")[0]
    length = signal.shape[axis]
    if pad_end:
        count = -(-length // frame_step)  # ceil: a frame starts at every step inside the signal
        extra = max(0, (count - 1) * frame_step + frame_length - length)
        if extra:
            paddings = [(0, 0)] * signal.ndim
            paddings[axis] = (0, extra)
            signal = pad(signal, paddings, constant_values=pad_value)
    else:
        count = max(0, 1 + (length - frame_length) // frame_step)
    starts = np.arange(count, dtype=np.int64)[:, None] * frame_step
    return take(signal, starts + np.arange(frame_length, dtype=np.int64)[None, :], axis=axis)


def overlap_and_add(frames: TensorLike, frame_step: int) -> Tensor:
    """The signal whose frames (the last two axes: frames, samples) overlap every ``frame_step`` samples and add
    up: ``(frames - 1) * frame_step + frame_length`` samples."""
    frames = as_tensor(frames)
    count, frame_length = frames.shape[-2], frames.shape[-1]
    lead = tuple(frames.shape[:-2])
    out_length = (count - 1) * frame_step + frame_length if count else 0
    # each frame as `parts` pieces of frame_step samples: piece j of frame i lands at step i + j, so the output is
    # the sum over j of the j-th pieces shifted down by j steps (a few shifted adds instead of one add per frame)
    parts = -(-frame_length // frame_step)
    frames = pad(frames, [(0, 0)] * (frames.ndim - 1) + [(0, parts * frame_step - frame_length)])
    pieces = reshape(frames, lead + (count, parts, frame_step))
    total = None
    for j in range(parts):
        piece = getitem(pieces, (Ellipsis, slice(None), j, slice(None)))
        shifted = pad(piece, [(0, 0)] * len(lead) + [(j, parts - 1 - j), (0, 0)])
        total = shifted if total is None else add(total, shifted)
    return getitem(reshape(total, lead + ((count + parts - 1) * frame_step,)), (Ellipsis, slice(0, out_length)))


def _raised_cosine(length: int, periodic: bool, a: float, b: float, dtype) -> np.ndarray:
    """``a - b cos(2π n / N)`` for n < length, N = length (periodic) or length - 1 (symmetric); 1 for length 1."""
    if length == 1:
        return np.ones(1, dtype=dtype)
    even = length if periodic else length - 1
    return (a - b * np.cos(2 * np.pi * np.arange(length) / even)).astype(dtype)


def hann_window(length: int, periodic: bool = True, dtype="float32") -> np.ndarray:
    """The Hann window ``0.5 - 0.5 cos(2π n / N)`` (periodic: N = length, for spectral analysis).

    >>> hann_window(4)
    array([0. , 0.5, 1. , 0.5], dtype=float32)
    """
    return _raised_cosine(length, periodic, 0.5, 0.5, dtype)


def hamming_window(length: int, periodic: bool = True, dtype="float32") -> np.ndarray:
    """The Hamming window ``0.54 - 0.46 cos(2π n / N)`` (periodic: N = length)."""
    return _raised_cosine(length, periodic, 0.54, 0.46, dtype)


def stft(signals: TensorLike, frame_length: int, frame_step: int, fft_length: int, window=None,
         pad_end: bool = False) -> Tensor:
    """The complex short-time Fourier transform of real ``signals`` (..., samples) -> (..., frames, fft_length // 2
    + 1): each frame times ``window`` (an array of frame_length, or None), then its rfft of ``fft_length`` points."""
    frames = frame(signals, frame_length, frame_step, pad_end=pad_end)
    if window is not None:
        frames = mul(frames, backend.xp.asarray(window, dtype=frames.dtype))
    return rfft(frames, fft_length=(fft_length,))


def inverse_stft(stfts: TensorLike, frame_length: int, frame_step: int, fft_length: int, window=None) -> Tensor:
    """The real signal of complex ``stfts`` (..., frames, bins): each frame's irfft of ``fft_length`` points, cut or
    padded to ``frame_length``, times ``window`` (None: none), overlapped and added every ``frame_step``."""
    frames = irfft(stfts, fft_length=(fft_length,))
    if fft_length > frame_length:
        frames = getitem(frames, (Ellipsis, slice(0, frame_length)))
    elif fft_length < frame_length:
        frames = pad(frames, [(0, 0)] * (frames.ndim - 1) + [(0, frame_length - fft_length)])
    if window is not None:
        frames = mul(frames, backend.xp.asarray(window, dtype=frames.dtype))
    return overlap_and_add(frames, frame_step)


def inverse_stft_window(window: np.ndarray, frame_step: int) -> np.ndarray:
    """The synthesis window that undoes ``window``'s analysis at ``frame_step``: the window divided by the sum of
    the squared windows overlapping each sample (Griffin and Lim's equation 7, as TensorFlow's)."""
    window = np.asarray(window)
    length = window.shape[-1]
    overlaps = -(-length // frame_step)
    squares = np.pad(window ** 2, (0, overlaps * frame_step - length)).reshape(overlaps, frame_step)
    denominator = np.tile(squares.sum(axis=0), overlaps)[:length]
    return (window / denominator).astype(window.dtype)


def enclosing_power_of_two(value: int) -> int:
    """The smallest power of 2 at least ``value`` (stft's default fft_length).

    >>> enclosing_power_of_two(255), enclosing_power_of_two(256)
    (256, 256)
    """
    return int(2 ** math.ceil(math.log2(value))) if value > 1 else 1


def hertz_to_mel(frequencies):
    """Frequencies in hertz on the mel scale of the HTK, ``1127 ln(1 + f / 700)``."""
    return _MEL_HIGH_FREQUENCY_Q * np.log1p(np.asarray(frequencies, dtype=np.float64) / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int, num_spectrogram_bins: int, sample_rate: float,
                                lower_edge_hertz: float, upper_edge_hertz: float, dtype="float32") -> np.ndarray:
    """The (num_spectrogram_bins, num_mel_bins) matrix of triangular mel filters, as TensorFlow's and Keras's: bin
    k's frequency is k·(sample_rate / 2)/(num_spectrogram_bins - 1), the bands' edges are evenly spaced in mels
    between the two edges, and the DC bin gets no weight (as the HTK)."""
    frequencies = np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = hertz_to_mel(frequencies)[:, None]
    edges = np.linspace(hertz_to_mel(lower_edge_hertz), hertz_to_mel(upper_edge_hertz), num_mel_bins + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)))
    return np.pad(weights, ((1, 0), (0, 0))).astype(dtype)


def _dct_matrix(dct_type: int, n: int, norm: str | None) -> np.ndarray:
    """The (n, n) matrix M with dct(x) = x @ M for a length-n signal (SciPy's definitions of types 1 to 4)."""
    k = np.arange(n)[None, :]  # output index
    i = np.arange(n)[:, None]  # input index
    if dct_type == 1:
        matrix = 2 * np.cos(np.pi * i * k / (n - 1))
        matrix[0, :], matrix[-1, :] = 1.0, (-1.0) ** np.arange(n)
    elif dct_type == 2:
        matrix = 2 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))
        if norm == "ortho":
            matrix *= np.where(k == 0, np.sqrt(1 / (4 * n)), np.sqrt(1 / (2 * n)))
    elif dct_type == 3:
        matrix = 2 * np.cos(np.pi * i * (2 * k + 1) / (2 * n))
        matrix[0, :] = 1.0
        if norm == "ortho":
            matrix[0, :] = np.sqrt(1 / n)
            matrix[1:, :] *= np.sqrt(1 / (2 * n))
    else:
        matrix = 2 * np.cos(np.pi * (2 * i + 1) * (2 * k + 1) / (4 * n))
        if norm == "ortho":
            matrix *= np.sqrt(1 / (2 * n))
    return matrix


def dct(x: TensorLike, dct_type: int = 2, n: int | None = None, norm: str | None = None) -> Tensor:
    """The discrete cosine transform of type 1-4 along the last axis (first cropped or padded with zeros to ``n``),
    unnormalized or ``norm="ortho"``, as SciPy's ``fftpack.dct`` and TensorFlow's: a product with the transform's
    matrix, which carries the gradient.

    >>> dct(np.array([1.0, 2.0, 3.0]), 2).numpy().round(6)
    array([12.      , -3.464102,  0.      ])
    """
    x = as_tensor(x)
    length = x.shape[-1]
    if n is not None and n != length:
        x = getitem(x, (Ellipsis, slice(0, n))) if n < length else pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - length)])
    size = x.shape[-1]
    return matmul(x, backend.xp.asarray(_dct_matrix(dct_type, size, norm), dtype=x.dtype))
