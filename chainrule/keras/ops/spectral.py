"""``keras.ops`` Fourier functions, as Keras 3 defines them: complex values travel as (real, imaginary) tuples of
float tensors (``fft``, ``fft2``, ``ifft2``, ``rfft``, ``irfft``, ``stft``, ``istft``), ``view_as_complex`` and
``view_as_real`` convert to and from complex tensors, and ``extract_sequences`` frames the last axis. Each is
differentiable (the transforms are chainrule/ops/fft.py's).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> real, imag = ops.rfft(np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32"))
>>> real.numpy().round(4), imag.numpy().round(4)
(array([10. , -2.5, -2.5], dtype=float32), array([0.    , 3.441 , 0.8123], dtype=float32))
>>> ops.irfft(ops.rfft(np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32"), 5), 5).numpy().round(4)
array([0., 1., 2., 3., 4.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule import ops as _ops
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import signal as _signal
from chainrule.ops.shape import concat, getitem, pad, stack


def _complex_from_tuple(x) -> Tensor:
    """The complex tensor of a (real, imaginary) pair, with Keras's errors."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary.Received: x={x}")
    real, imag = to_tensor(x[0], "x[0]"), to_tensor(x[1], "x[1]")
    if real.shape != imag.shape:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary.Both the real and imaginary "
                         f"parts should have the same shape. Received: x[0].shape = {real.shape}, "
                         f"x[1].shape = {imag.shape}")
    if real.dtype.kind != "f" or imag.dtype.kind != "f":
        raise ValueError(f"At least one tensor in input `x` is not of type float.Received: x={x}.")
    if real.dtype != imag.dtype:
        imag = _ops.cast(imag, real.dtype)
    return _ops.complex(real, imag)


def _parts(z: Tensor) -> tuple[Tensor, Tensor]:
    return _ops.real(z), _ops.imag(z)


def _at_least_rank(x: Tensor, rank: int) -> None:
    if x.ndim < rank:
        raise ValueError(f"Input should have rank >= {rank}. Received: input.shape = {x.shape}")


def fft(x) -> tuple[Tensor, Tensor]:
    """The Fourier transform along the last axis of a (real, imaginary) pair, as a (real, imaginary) pair.

    >>> fft((np.array([1.0, 2.0], "float32"), np.array([0.0, 1.0], "float32")))[0].numpy()
    array([ 3., -1.], dtype=float32)
    """
    z = _complex_from_tuple(x)
    _at_least_rank(z, 1)
    return _parts(_ops.fft(z, rank=1))


def fft2(x) -> tuple[Tensor, Tensor]:
    """The 2-D Fourier transform over the last two axes of a (real, imaginary) pair."""
    z = _complex_from_tuple(x)
    _at_least_rank(z, 2)
    return _parts(_ops.fft(z, rank=2))


def ifft2(x) -> tuple[Tensor, Tensor]:
    """The 2-D inverse Fourier transform over the last two axes of a (real, imaginary) pair."""
    z = _complex_from_tuple(x)
    _at_least_rank(z, 2)
    return _parts(_ops.ifft(z, rank=2))


def rfft(x: TensorLike, fft_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The ``fft_length // 2 + 1`` unique Fourier bins of a real signal along the last axis (cut or padded with
    zeros to ``fft_length``), as a (real, imaginary) pair."""
    x = to_float(x)
    _at_least_rank(x, 1)
    return _parts(_ops.rfft(x, None if fft_length is None else (int(fft_length),)))


def irfft(x, fft_length: int | None = None) -> Tensor:
    """The real signal of ``fft_length`` (default ``2 * (bins - 1)``) whose unique Fourier bins are the (real,
    imaginary) pair ``x``."""
    z = _complex_from_tuple(x)
    _at_least_rank(z, 1)
    return _ops.irfft(z, None if fft_length is None else (int(fft_length),))


def _window(window, sequence_length: int, fft_length: int, dtype):
    """Keras's window: 'hann'/'hamming' (periodic) or an array of ``sequence_length``, centred in ``fft_length``
    samples with zeros on both sides; None for none."""
    if window is None:
        return None
    if isinstance(window, str):
        make = _signal.hann_window if window == "hann" else _signal.hamming_window
        values = make(sequence_length, periodic=True, dtype=dtype)
    else:
        values = np.asarray(window.numpy() if isinstance(window, Tensor) else window, dtype=dtype)
    if values.ndim != 1 or values.shape[-1] != sequence_length:
        raise ValueError(f"The shape of `window` must be equal to [sequence_length].Received: window shape="
                         f"{values.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(values, (left, fft_length - sequence_length - left))


def _check_stft(sequence_length: int, sequence_stride, fft_length: int, window) -> None:
    if not isinstance(sequence_stride, (int, np.integer)) or sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be a positive integer. Received: sequence_stride={sequence_stride}")
    if fft_length < sequence_length:
        raise ValueError(f"`fft_length` must equal or larger than `sequence_length`. Received: "
                         f"sequence_length={sequence_length}, fft_length={fft_length}")
    if isinstance(window, str) and window not in {"hann", "hamming"}:
        raise ValueError(f'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. Received: '
                         f'window={window}')


def _reflect_pad(x: Tensor, width: int) -> Tensor:
    """``x`` padded by ``width`` samples on both ends of its last axis with its mirror image (NumPy's 'reflect')."""
    if width == 0:
        return x
    if width >= x.shape[-1]:
        raise ValueError(f"stft: `center=True` pads {width} samples by reflection, which needs more than {width} "
                         f"samples; got {x.shape[-1]}")
    left = getitem(x, (Ellipsis, slice(width, 0, -1)))
    right = getitem(x, (Ellipsis, slice(-2, -width - 2, -1)))
    return concat([left, x, right], axis=-1)


def stft(x: TensorLike, sequence_length: int, sequence_stride: int, fft_length: int, window="hann",
         center: bool = True) -> tuple[Tensor, Tensor]:
    """The short-time Fourier transform along the last axis, as a (real, imaginary) pair of shape
    ``(..., frames, fft_length // 2 + 1)``: frames of ``fft_length`` samples every ``sequence_stride`` (with
    ``center``, the signal first padded by reflection so that frame t is centred on sample t·stride), each times
    the window of ``sequence_length`` centred in it, then its rfft.

    >>> real, imag = stft(np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32"), 3, 2, 3)
    >>> real.numpy()
    array([[ 0.75 , -0.375],
           [ 3.75 , -1.875],
           [ 5.25 , -2.625]], dtype=float32)
    """
    _check_stft(sequence_length, sequence_stride, fft_length, window)
    x = to_tensor(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    if center:
        x = _reflect_pad(x, fft_length // 2)
    padded_window = _window(window, sequence_length, fft_length, x.dtype)
    return _parts(_signal.stft(x, fft_length, int(sequence_stride), fft_length, window=padded_window))


def istft(x, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window="hann", center: bool = True) -> Tensor:
    """The inverse of :func:`stft` from a (real, imaginary) pair: each frame's irfft, times the window divided by
    the overlapping squared windows, overlapped and added; ``length`` samples (default: all that ``center`` kept).

    >>> signal = np.sin(np.arange(64.0) / 3).astype("float32")
    >>> restored = istft(stft(signal, 16, 4, 16), 16, 4, 16, length=64)
    >>> bool(np.allclose(restored.numpy()[8:-8], signal[8:-8], atol=1e-5))
    True
    """
    _check_stft(sequence_length, sequence_stride, fft_length, window)
    z = _complex_from_tuple(x)
    _at_least_rank(z, 2)
    dtype = _ops.real(z).dtype
    expected_length = fft_length + sequence_stride * (z.shape[-2] - 1)
    padded_window = _window(window, sequence_length, fft_length, dtype)
    if padded_window is not None:
        padded_window = _signal.inverse_stft_window(padded_window, int(sequence_stride))
    signal = _signal.inverse_stft(z, fft_length, int(sequence_stride), fft_length, window=padded_window)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected_length - fft_length // 2 if center else expected_length
    signal = getitem(signal, (Ellipsis, slice(start, end)))
    if length is not None and signal.shape[-1] < length:  # asked for more than the frames hold: zeros after
        signal = pad(signal, [(0, 0)] * (signal.ndim - 1) + [(0, length - signal.shape[-1])])
    return signal


def extract_sequences(x: TensorLike, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of ``sequence_length`` along the last axis every ``sequence_stride``: ``(..., num_sequences,
    sequence_length)`` with ``num_sequences = 1 + (N - sequence_length) // sequence_stride``.

    >>> extract_sequences(np.array([1, 2, 3, 4, 5, 6]), 3, 2).numpy()
    array([[1, 2, 3],
           [3, 4, 5]])
    """
    x = to_tensor(x)
    _at_least_rank(x, 1)
    return _signal.frame(x, int(sequence_length), int(sequence_stride))


def view_as_complex(x: TensorLike) -> Tensor:
    """A complex tensor from a real one whose last axis holds (real, imaginary) pairs.

    >>> view_as_complex(np.array([[1.0, 2.0]], "float32")).numpy()
    array([1.+2.j], dtype=complex64)
    """
    x = to_float(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"Last dimension of input must be size 2 (real and imaginary). Received shape: {x.shape}")
    return _ops.complex(getitem(x, (Ellipsis, 0)), getitem(x, (Ellipsis, 1)))


def view_as_real(x: TensorLike) -> Tensor:
    """A real tensor whose new last axis holds the (real, imaginary) parts of a complex one.

    >>> view_as_real(np.array([1 + 2j], "complex64")).numpy()
    array([[1., 2.]], dtype=float32)
    """
    x = to_tensor(x)
    if backend.dtype_kind(x.dtype) != "c":
        raise ValueError(f"Input must be a complex tensor. Received dtype: {x.dtype}")
    return stack([_ops.real(x), _ops.imag(x)], axis=-1)


__all__ = ["extract_sequences", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft", "view_as_complex",
           "view_as_real"]
wrap_namespace(globals(), __all__, "keras.ops.")
