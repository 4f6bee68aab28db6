"""Complex numbers: building a complex tensor from two real ones, taking it apart, its conjugate and its angle.

The gradient of a complex tensor z = x + iy is g = dL/dx + i dL/dy for a real loss L (twice the conjugate Wirtinger
derivative, PyTorch's and TensorFlow's convention), so a holomorphic y = f(z) has dz = g * conj(f'(z)).

>>> import chainrule as cr
>>> z = cr.ops.complex(cr.constant([3.0]), cr.constant([4.0]))
>>> z.dtype, cr.ops.real(z).numpy(), cr.ops.imag(z).numpy(), cr.abs(z).numpy()
(dtype('complex64'), array([3.], dtype=float32), array([4.], dtype=float32), array([5.], dtype=float32))
"""
from __future__ import annotations

import builtins

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.broadcast import unbroadcast

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}


def complex_dtype_of(dtype) -> np.dtype:
    """The complex dtype whose parts are of the float ``dtype`` (float32 -> complex64, float64 -> complex128; a
    complex dtype stays; float16 computes in complex64, as NumPy's FFT does).

    >>> complex_dtype_of(np.float32), complex_dtype_of(np.complex128)
    (dtype('complex64'), dtype('complex128'))
    """
    dtype = backend.numpy_dtype(dtype)
    if dtype.kind == "c":
        return dtype
    if dtype.kind != "f":
        raise TypeError(f"a complex dtype has float parts, got {dtype}")
    return _COMPLEX_OF.get(dtype, np.dtype(np.complex64))


def real_dtype_of(dtype) -> np.dtype:
    """The float dtype of a complex dtype's parts (complex64 -> float32); a real dtype stays.

    >>> real_dtype_of(np.complex64)
    dtype('float32')
    """
    dtype = backend.numpy_dtype(dtype)
    return np.empty(0, dtype).real.dtype if dtype.kind == "c" else dtype


def is_complex(x) -> bool:
    """Whether a tensor, an array or a Python number holds complex numbers."""
    dtype = getattr(x, "dtype", None)
    return isinstance(x, builtins.complex) if dtype is None else backend.dtype_kind(dtype) == "c"


def _assemble(re, im):
    """re + i·im as an array of the matching complex dtype (no float64 detour, as ``re + 1j * im`` would take)."""
    if type(re) is np.ndarray and type(im) is np.ndarray:
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), dtype=complex_dtype_of(np.result_type(re.dtype,
                                                                                                     im.dtype)))
        out.real, out.imag = re, im
        return out
    # the standard writes no part of an array: im's complex cast times i (exact for a finite im; an infinite or NaN
    # im makes the real part NaN, as im · 0 is NaN)
    xp = backend.array_namespace(re, im)
    dtype = complex_dtype_of(np.result_type(backend.numpy_dtype(re.dtype), backend.numpy_dtype(im.dtype)))
    return xp.astype(re, dtype) + xp.astype(im, dtype) * 1j


def _part(z, imaginary: bool):
    """A new array of Re z (or Im z): NumPy copies its view, the standard's real/imag make a new array."""
    if type(z) is np.ndarray:
        return (z.imag if imaginary else z.real).copy()
    xp = backend.array_namespace(z)
    return xp.imag(z) if imaginary else xp.real(z)


class Complex(Function):
    # z = x + iy   ->   dx = Re g,  dy = Im g
    complex_grad = True

    def forward(self, x, y):
        return _assemble(x, y)

    def backward(self, g):
        x, y = self.arrays
        return unbroadcast(real_part(g), np.shape(x)), unbroadcast(imag_part(g), np.shape(y))


class Real(Function):
    # y = Re z   ->   dz = g + 0i
    complex_grad = True

    def forward(self, z):
        return _part(z, imaginary=False)

    def backward(self, g):
        return Complex.apply(g, backend.array_namespace(_data(g)).zeros_like(_data(g)))


class Imag(Function):
    # y = Im z   ->   dz = 0 + ig
    complex_grad = True

    def forward(self, z):
        return _part(z, imaginary=True)

    def backward(self, g):
        return Complex.apply(backend.array_namespace(_data(g)).zeros_like(_data(g)), g)


class Conj(Function):
    # y = conj z   ->   dz = conj g
    complex_grad = True

    def forward(self, z):
        return backend.array_namespace(z).conj(z)

    def backward(self, g):
        return Conj.apply(g)


class Angle(Function):
    # y = atan2(Im z, Re z)   ->   dz = g · i z / |z|²   (0 at z = 0, as PyTorch)
    complex_grad = True

    def forward(self, z):
        if type(z) is np.ndarray:
            return np.angle(z).astype(real_dtype_of(z.dtype))
        xp = backend.array_namespace(z)  # the standard has no angle: NumPy's definition
        return xp.atan2(xp.imag(z), xp.real(z))

    def backward(self, g):
        from chainrule.ops.math import Where  # (ops/math.py builds on this module)

        (z,) = self.args
        re, im = real_part(z), imag_part(z)
        squared = Where.apply(self.arrays[0] == 0, 1, re * re + im * im)  # 1 where z = 0, whose gradient is 0
        return Complex.apply(-g * im / squared, g * re / squared)  # g·i·z/|z|², as i·z = -Im z + i Re z


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def real_part(x):
    """Re x of an array or a Tensor (differentiable for a Tensor); a real x as it is."""
    if not is_complex(x):
        return x
    return Real.apply(x)


def imag_part(x):
    """Im x of an array or a Tensor (differentiable for a Tensor); zeros for a real x."""
    if not is_complex(x):
        return x * 0
    return Imag.apply(x)


def conjugate(x):
    """conj x of an array, a Tensor (differentiable) or a Python number; a real x as it is (no copy)."""
    if isinstance(x, builtins.complex):
        return x.conjugate()
    return Conj.apply(x) if is_complex(x) else x


@op
def complex(real: TensorLike, imag: TensorLike) -> Tensor:  # noqa: A001  (tf.complex)
    """``real + i·imag`` (float32 parts make complex64, float64 parts complex128), as ``tf.complex``.

    >>> complex(Tensor([1.0]), Tensor([2.0])).numpy()
    array([1.+2.j], dtype=complex64)
    """
    real, imag = as_tensor(real), as_tensor(imag)
    for name, part in (("real", real), ("imag", imag)):
        if part.dtype.kind != "f" or part.dtype == np.float16:
            raise TypeError(f"complex: `{name}` must be float32 or float64, got {part.dtype}")
    if real.dtype != imag.dtype:
        raise TypeError(f"complex: `real` and `imag` must have the same dtype, got {real.dtype} and {imag.dtype}")
    try:
        np.broadcast_shapes(real.shape, imag.shape)
    except ValueError:
        raise ValueError(f"complex: the shapes of `real` {tuple(real.shape)} and `imag` {tuple(imag.shape)} do not "
                         f"broadcast") from None
    return Complex.apply(real, imag)


@op
def real(x: TensorLike) -> Tensor:
    """The real part (in the parts' float dtype); a real tensor as it is, as ``tf.math.real``.

    >>> real(Tensor([1 + 2j])).numpy()
    array([1.])
    """
    x = as_tensor(x)
    return Real.apply(x) if is_complex(x) else x


@op
def imag(x: TensorLike) -> Tensor:
    """The imaginary part; zeros of a real tensor's dtype, as ``tf.math.imag``.

    >>> imag(Tensor([1 + 2j])).numpy()
    array([2.])
    """
    x = as_tensor(x)
    if not is_complex(x):
        return Tensor._wrap(backend.array_namespace(x.data).zeros_like(x.data))
    return Imag.apply(x)


@op
def conj(x: TensorLike) -> Tensor:
    """The complex conjugate; a real tensor as it is, as ``tf.math.conj``.

    >>> conj(Tensor([1 + 2j])).numpy()
    array([1.-2.j])
    """
    x = as_tensor(x)
    return Conj.apply(x) if is_complex(x) else x


@op
def angle(x: TensorLike) -> Tensor:
    """The argument ``atan2(imag, real)`` in (-π, π]; of a real tensor π where it is negative, else 0 (no gradient),
    as ``tf.math.angle``.

    >>> angle(Tensor([1j, -1 + 0j])).numpy()
    array([1.57079633, 3.14159265])
    """
    x = as_tensor(x)
    if is_complex(x):
        return Angle.apply(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if type(x.data) is np.ndarray:
        return Tensor._wrap(np.where(x.data < 0, np.pi, 0).astype(dtype))
    xp = backend.array_namespace(x.data)
    return Tensor._wrap(xp.where(x.data < 0, xp.asarray(np.pi, dtype=dtype), xp.asarray(0, dtype=dtype)))
