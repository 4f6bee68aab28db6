"""Discrete Fourier transforms over the last one, two or three axes: complex to complex (``fft``, ``ifft``), real to
half a complex spectrum (``rfft``) and back (``irfft``).

Each transform is linear, so its gradient is its adjoint (for g = dL/dRe + i dL/dIm, PyTorch's and TensorFlow's
convention): fft's is N·ifft, ifft's fft/N, rfft's the real part of N·ifft of the spectrum padded with zeros, irfft's
the rfft divided by N with the bins that stand for two (all but 0 and N/2) doubled. An adjoint is itself an op whose
gradient is the transform, so gradients of gradients work.

>>> import numpy as np
>>> from chainrule import ops
>>> spectrum = ops.rfft(np.array([1.0, 0.0, -1.0, 0.0], "float32"), fft_length=(4,))
>>> spectrum.numpy()
array([0.+0.j, 2.+0.j, 0.+0.j], dtype=complex64)
>>> ops.irfft(spectrum, fft_length=(4,)).numpy()
array([ 1.,  0., -1.,  0.], dtype=float32)
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.complex import complex_dtype_of, is_complex, real_dtype_of


def _axes(rank: int) -> tuple[int, ...]:
    return tuple(range(-rank, 0))


def _fit(a, shape: Sequence[int]):
    """``a`` cropped or padded with zeros at the end of its last ``len(shape)`` axes to ``shape``."""
    rank = len(shape)
    target = tuple(a.shape[:-rank]) + tuple(shape) if rank else tuple(a.shape)
    if target == tuple(a.shape):
        return a
    out = backend.array_namespace(a).zeros(target, dtype=a.dtype)
    common = (Ellipsis,) + tuple(slice(0, min(n, m)) for n, m in zip(a.shape[-rank:], shape))
    out[common] = a[common]
    return out


class FFT(Function):
    # y = F z over the last `rank` axes (F the DFT matrix, F/N... for inverse)   ->   dz = F^H g = N·ifft(g)
    # (inverse: y = F^H z / N   ->   dz = fft(g) / N)
    complex_grad = True

    def forward(self, z, rank, inverse):
        self.rank, self.inverse = rank, inverse
        xp = backend.array_namespace(z)
        transform = xp.fft.ifftn if inverse else xp.fft.fftn
        return xp.astype(transform(z, axes=_axes(rank)), complex_dtype_of(z.dtype), copy=False)

    def backward(self, g):
        n = math.prod(self.arrays[0].shape[-self.rank:])
        adjoint = FFT.apply(g, rank=self.rank, inverse=not self.inverse)
        return adjoint * (1 / n if self.inverse else n)


class RFFT(Function):
    # y = the first N/2+1 bins (last axis) of F x, x cropped or padded to fft_length   ->   dx = Re(F^H [g; 0])
    complex_grad = True

    def forward(self, x, fft_length):
        self.fft_length = fft_length
        xp = backend.array_namespace(x)
        spectrum = xp.fft.rfftn(x, s=fft_length, axes=_axes(len(fft_length)))
        return xp.astype(spectrum, complex_dtype_of(x.dtype), copy=False)

    def backward(self, g):
        return RFFTAdjoint.apply(g, fft_length=self.fft_length, shape=tuple(self.arrays[0].shape))


class RFFTAdjoint(Function):
    # x = Re(N·ifft(g padded with zeros to N bins)), fitted to `shape`   (rfft's gradient)   ->   dg = rfft(x's g)
    complex_grad = True

    def forward(self, g, fft_length, shape):
        self.fft_length = fft_length
        rank = len(fft_length)
        full = _fit(g, fft_length)  # the last axis's missing bins are zeros
        xp = backend.array_namespace(g)
        x = xp.real(xp.fft.ifftn(full, axes=_axes(rank))) * math.prod(fft_length)
        return _fit(xp.astype(x, real_dtype_of(g.dtype), copy=False), shape[len(shape) - rank:])

    def backward(self, h):
        return RFFT.apply(h, fft_length=self.fft_length)


def _half_spectrum_weights(fft_length: Sequence[int], dtype, xp):
    """The weight of each bin of a last axis of rfft's half spectrum: 1 for bin 0 (and N/2 when N is even), which
    stand for themselves, 2 for the others, which stand for their mirror images too."""
    n = fft_length[-1]
    weights = xp.full(n // 2 + 1, 2, dtype=dtype)
    weights[0] = 1
    if n % 2 == 0:
        weights[-1] = 1
    return weights


class IRFFT(Function):
    # x = the real signal of fft_length whose half spectrum is z (cropped or padded)   ->   dz = rfft(g)·w / N
    complex_grad = True

    def forward(self, z, fft_length):
        self.fft_length = fft_length
        xp = backend.array_namespace(z)
        signal = xp.fft.irfftn(z, s=fft_length, axes=_axes(len(fft_length)))
        return xp.astype(signal, real_dtype_of(z.dtype), copy=False)

    def backward(self, g):
        return IRFFTAdjoint.apply(g, fft_length=self.fft_length, shape=tuple(self.arrays[0].shape))


class IRFFTAdjoint(Function):
    # z = rfft(h)·w / N fitted to `shape`   (irfft's gradient)   ->   dh = irfft(z's g)
    complex_grad = True

    def forward(self, h, fft_length, shape):
        self.fft_length = fft_length
        rank = len(fft_length)
        xp = backend.array_namespace(h)
        spectrum = xp.astype(xp.fft.rfftn(h, s=fft_length, axes=_axes(rank)), complex_dtype_of(h.dtype), copy=False)
        weights = _half_spectrum_weights(fft_length, real_dtype_of(spectrum.dtype), xp) / math.prod(fft_length)
        return _fit(spectrum * weights, shape[len(shape) - rank:])

    def backward(self, g):
        return IRFFT.apply(g, fft_length=self.fft_length)


def _complex_input(x: TensorLike, name: str, rank: int) -> Tensor:
    x = as_tensor(x)
    if not is_complex(x):
        raise TypeError(f"{name}: `input` must be complex64 or complex128, got {x.dtype}")
    if x.ndim < rank:
        raise ValueError(f"{name}: `input` must have at least {rank} dimensions, got shape {tuple(x.shape)}")
    return x


def _fft_length(x: Tensor, fft_length, name: str, default) -> tuple[int, ...]:
    if fft_length is None:
        return default
    length = tuple(int(n) for n in np.ravel(fft_length.numpy() if isinstance(fft_length, Tensor) else fft_length))
    if len(length) != len(default):
        raise ValueError(f"{name}: `fft_length` must have {len(default)} elements, got {list(length)}")
    if any(n < 1 for n in length):
        raise ValueError(f"{name}: `fft_length` must be positive, got {list(length)}")
    return length


@op
def fft(x: TensorLike, rank: int = 1) -> Tensor:
    """The discrete Fourier transform over the last ``rank`` axes of a complex tensor (``tf.signal.fft``,
    ``fft2d``, ``fft3d``).

    >>> fft(np.array([1, 1j, -1, -1j], "complex64")).numpy()
    array([0.+0.j, 4.+0.j, 0.+0.j, 0.+0.j], dtype=complex64)
    """
    name = {1: "fft", 2: "fft2d", 3: "fft3d"}.get(rank, "fft")
    return FFT.apply(_complex_input(x, name, rank), rank=rank, inverse=False)


@op
def ifft(x: TensorLike, rank: int = 1) -> Tensor:
    """The inverse discrete Fourier transform (divided by N) over the last ``rank`` axes of a complex tensor.

    >>> ifft(np.array([0, 4, 0, 0], "complex64")).numpy()
    array([ 1.+0.j,  0.+1.j, -1.+0.j,  0.-1.j], dtype=complex64)
    """
    name = {1: "ifft", 2: "ifft2d", 3: "ifft3d"}.get(rank, "ifft")
    return FFT.apply(_complex_input(x, name, rank), rank=rank, inverse=True)


@op
def rfft(x: TensorLike, fft_length=None, rank: int = 1) -> Tensor:
    """The first ``fft_length[-1] // 2 + 1`` bins of the Fourier transform of a real tensor over its last ``rank``
    axes, each cropped or padded with zeros to ``fft_length`` (default: their sizes), as ``tf.signal.rfft``.

    >>> rfft(np.ones(4, "float32")).numpy()
    array([4.+0.j, 0.+0.j, 0.+0.j], dtype=complex64)
    """
    x = as_tensor(x)
    name = {1: "rfft", 2: "rfft2d", 3: "rfft3d"}.get(rank, "rfft")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: `input` must be float32 or float64, got {x.dtype}")
    if x.ndim < rank:
        raise ValueError(f"{name}: `input` must have at least {rank} dimensions, got shape {tuple(x.shape)}")
    length = _fft_length(x, fft_length, name, tuple(x.shape[x.ndim - rank:]))
    return RFFT.apply(x, fft_length=length)


@op
def irfft(x: TensorLike, fft_length=None, rank: int = 1) -> Tensor:
    """The real signal of ``fft_length`` (default: the last axis gives 2·(n - 1)) whose half spectrum over the last
    ``rank`` axes is ``x``, as ``tf.signal.irfft`` (the imaginary parts that a real signal cannot have are ignored).

    >>> irfft(np.array([4, 0, 0], "complex64")).numpy()
    array([1., 1., 1., 1.], dtype=float32)
    """
    name = {1: "irfft", 2: "irfft2d", 3: "irfft3d"}.get(rank, "irfft")
    x = _complex_input(x, name, rank)
    default = tuple(x.shape[x.ndim - rank:-1]) + (2 * (x.shape[-1] - 1),)
    length = _fft_length(x, fft_length, name, default)
    if length[-1] < 1:
        raise ValueError(f"{name}: the signal's length must be positive, got fft_length {list(length)}")
    return IRFFT.apply(x, fft_length=length)
