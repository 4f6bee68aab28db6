"""Fourier transforms and complex numbers (chainrule/ops/fft.py, chainrule/ops/complex.py) against finite differences
and PyTorch (torch.fft, torch.complex), through real -> real maps: the complex inputs are built from real and
imaginary parts and the complex outputs taken apart, so every gradient follows the g = dL/dRe + i dL/dIm convention
in between; a complex leaf's gradient is compared with PyTorch's directly too."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

import chainrule as cr
from chainrule import ops
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.complex import complex_dtype_of

R = np.random.default_rng(0)


def _parts(y):
    """A complex tensor's real and imaginary parts side by side on a new last axis; a real tensor as it is."""
    return ops.stack([ops.real(y), ops.imag(y)], axis=-1) if y.dtype.kind == "c" else y


def _torch_parts(y):
    return torch.view_as_real(y) if y.is_complex() else y


def on_parts(fn):
    """chainrule: (re, im) -> the parts of fn(re + i·im)."""
    return lambda re, im: _parts(fn(ops.complex(re, im)))


def torch_on_parts(fn):
    return lambda re, im: _torch_parts(fn(torch.complex(re, im)))


# id -> (chainrule fn of a complex tensor, torch fn, input shape)
COMPLEX_IN = {
    "fft": (ops.fft, torch.fft.fft, (3, 8)),
    "fft odd": (ops.fft, torch.fft.fft, (7,)),
    "fft2d": (lambda z: ops.fft(z, rank=2), lambda t: torch.fft.fftn(t, dim=(-2, -1)), (2, 4, 5)),
    "fft3d": (lambda z: ops.fft(z, rank=3), lambda t: torch.fft.fftn(t, dim=(-3, -2, -1)), (2, 3, 4)),
    "ifft": (ops.ifft, torch.fft.ifft, (3, 8)),
    "ifft2d": (lambda z: ops.ifft(z, rank=2), lambda t: torch.fft.ifftn(t, dim=(-2, -1)), (3, 5)),
    "ifft3d": (lambda z: ops.ifft(z, rank=3), lambda t: torch.fft.ifftn(t, dim=(-3, -2, -1)), (2, 2, 3)),
    "irfft": (ops.irfft, torch.fft.irfft, (3, 5)),
    "irfft odd length": (lambda z: ops.irfft(z, fft_length=(9,)), lambda t: torch.fft.irfft(t, n=9), (2, 5)),
    "irfft cropped": (lambda z: ops.irfft(z, fft_length=(4,)), lambda t: torch.fft.irfft(t, n=4), (2, 6)),
    "irfft padded": (lambda z: ops.irfft(z, fft_length=(12,)), lambda t: torch.fft.irfft(t, n=12), (2, 4)),
    "irfft2d": (lambda z: ops.irfft(z, rank=2), lambda t: torch.fft.irfftn(t, dim=(-2, -1)), (2, 4, 4)),
    "irfft2d lengths": (lambda z: ops.irfft(z, fft_length=(3, 7), rank=2),
                        lambda t: torch.fft.irfftn(t, s=(3, 7), dim=(-2, -1)), (4, 5)),
    "real": (ops.real, torch.real, (3, 4)),
    "imag": (ops.imag, torch.imag, (3, 4)),
    "conj": (ops.conj, torch.conj_physical, (3, 4)),
    "angle": (ops.angle, torch.angle, (3, 4)),
    "abs": (cr.abs, torch.abs, (3, 4)),
    "complex times complex": (lambda z: z * ops.conj(z)[::-1] * (0.5 - 2j),
                              lambda t: t * torch.conj(t).flip(0) * (0.5 - 2j), (4,)),
    "complex divided": (lambda z: (z + 3) / (z[::-1] + 2j), lambda t: (t + 3) / (t.flip(0) + 2j), (4,)),
    "cast to real": (lambda z: cr.cast(z * z, ops.real(z).dtype), lambda t: (t * t).real, (4,)),
    "sum, reshape, index": (lambda z: ops.sum(ops.reshape(z, (2, 3))[:, 1:], axis=0),
                            lambda t: t.reshape(2, 3)[:, 1:].sum(0), (6,)),
}

# id -> (chainrule fn of real tensors, torch fn, input shapes)
REAL_IN = {
    "rfft": (ops.rfft, torch.fft.rfft, [(3, 8)]),
    "rfft odd": (ops.rfft, torch.fft.rfft, [(7,)]),
    "rfft cropped": (lambda x: ops.rfft(x, fft_length=(5,)), lambda t: torch.fft.rfft(t, n=5), [(2, 8)]),
    "rfft padded": (lambda x: ops.rfft(x, fft_length=(10,)), lambda t: torch.fft.rfft(t, n=10), [(2, 6)]),
    "rfft2d": (lambda x: ops.rfft(x, rank=2), lambda t: torch.fft.rfftn(t, dim=(-2, -1)), [(2, 4, 6)]),
    "rfft2d lengths": (lambda x: ops.rfft(x, fft_length=(5, 4), rank=2),
                       lambda t: torch.fft.rfftn(t, s=(5, 4), dim=(-2, -1)), [(3, 6)]),
    "rfft3d": (lambda x: ops.rfft(x, rank=3), lambda t: torch.fft.rfftn(t, dim=(-3, -2, -1)), [(2, 3, 4)]),
    "complex": (ops.complex, torch.complex, [(3, 4), (3, 4)]),
    "complex broadcast": (ops.complex, lambda a, b: torch.complex(*torch.broadcast_tensors(a, b)), [(3, 4), (4,)]),
    "real to complex cast": (lambda x: cr.cast(x, complex_dtype_of(x.dtype)) * (1 + 2j),
                             lambda t: t.to(torch.complex128 if t.dtype == torch.float64 else torch.complex64)
                             * (1 + 2j), [(4,)]),
    "magnitude of a spectrum": (lambda x: cr.abs(ops.rfft(x * x)) ** 0.5,
                                lambda t: torch.fft.rfft(t * t).abs() ** 0.5, [(2, 9)]),
    "rfft then irfft": (lambda x: ops.irfft(ops.rfft(x) * (1 + 1j)), lambda t: torch.fft.irfft(torch.fft.rfft(t) * (1 + 1j)),
                        [(2, 8)]),
}


def _complex_case(case):
    fn, torch_fn, shape = COMPLEX_IN[case]
    return on_parts(fn), torch_on_parts(torch_fn), [R.standard_normal(shape), R.standard_normal(shape)]


def _real_case(case):
    fn, torch_fn, shapes = REAL_IN[case]
    return (lambda *xs: _parts(fn(*xs))), (lambda *ts: _torch_parts(torch_fn(*ts))), [
        R.standard_normal(s) for s in shapes]


@covers("fft", "ifft", "irfft", "real", "imag", "conj", "angle", "complex", kind="fd")
@pytest.mark.parametrize("case", sorted(COMPLEX_IN))
def test_complex_input_ops_match_finite_differences(case):
    fn, _, arrays = _complex_case(case)
    check_gradients(fn, *arrays)


@covers("fft", "ifft", "irfft", "real", "imag", "conj", "angle", "complex", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(COMPLEX_IN))
def test_complex_input_ops_match_torch(case, dtype):
    fn, torch_fn, arrays = _complex_case(case)
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    compare_with_torch(fn, torch_fn, *arrays, dtype=dtype, **tol)


@covers("rfft", "complex", kind="fd")
@pytest.mark.parametrize("case", sorted(REAL_IN))
def test_real_input_ops_match_finite_differences(case):
    fn, _, arrays = _real_case(case)
    check_gradients(fn, *arrays)


@covers("rfft", "complex", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(REAL_IN))
def test_real_input_ops_match_torch(case, dtype):
    fn, torch_fn, arrays = _real_case(case)
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    compare_with_torch(fn, torch_fn, *arrays, dtype=dtype, **tol)


def test_a_complex_leafs_gradient_is_pytorchs():
    # PyTorch's convention, which TensorFlow shares: z.grad = dL/dRe z + i dL/dIm z
    z0 = R.standard_normal(6) + 1j * R.standard_normal(6)
    z = cr.Tensor(z0, requires_grad=True)
    loss = ops.sum(cr.abs(ops.fft(z * (2 - 1j))) ** 2) + ops.sum(ops.angle(ops.ifft(z)))
    loss.backward()
    t = torch.tensor(z0, requires_grad=True)
    (torch.fft.fft(t * (2 - 1j)).abs().pow(2).sum() + torch.fft.ifft(t).angle().sum()).backward()
    assert z.grad.dtype == np.complex128
    np.testing.assert_allclose(z.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["rfft", "irfft", "angle"])
def test_second_order_through_the_transforms_matches_torch(case):
    if case == "angle":
        assert_second_order_matches_torch(lambda re, im: ops.angle(ops.fft(ops.complex(re * re, im))),
                                          lambda re, im: torch.fft.fft(torch.complex(re * re, im)).angle(),
                                          R.standard_normal((2, 5)), R.standard_normal((2, 5)))
    elif case == "rfft":
        assert_second_order_matches_torch(lambda x: cr.abs(ops.rfft(x * x)),
                                          lambda t: torch.fft.rfft(t * t).abs(), R.standard_normal((2, 6)))
    else:
        assert_second_order_matches_torch(
            lambda re, im: ops.irfft(ops.complex(re * re, im * im), fft_length=(7,)),
            lambda re, im: torch.fft.irfft(torch.complex(re * re, im * im), n=7), R.standard_normal((2, 4)),
            R.standard_normal((2, 4)))


def test_dtypes_follow_the_parts():
    x32 = cr.constant(R.standard_normal((2, 8)), dtype="float32")
    assert ops.rfft(x32).dtype == np.complex64 and ops.irfft(ops.rfft(x32)).dtype == np.float32
    assert ops.fft(ops.complex(x32, x32)).dtype == np.complex64
    assert ops.rfft(cr.cast(x32, "float64")).dtype == np.complex128
    np.testing.assert_allclose(ops.irfft(ops.rfft(x32)).numpy(), x32.numpy(), atol=1e-6)


def test_an_op_without_complex_gradients_refuses_by_name():
    z = ops.complex(cr.Variable([1.0, 2.0]), cr.Variable([0.5, -1.0]))
    loss = cr.abs(cr.exp(z)).sum()  # exp's backward is written for real tensors
    with pytest.raises(NotImplementedError, match="the gradient of Exp is not implemented for complex tensors"):
        loss.backward()


def test_bad_inputs_are_named():
    with pytest.raises(TypeError, match="fft: `input` must be complex64 or complex128, got float32"):
        ops.fft(cr.ones((4,)))
    with pytest.raises(TypeError, match="rfft2d: `input` must be float32 or float64, got complex64"):
        ops.rfft(ops.complex(cr.ones((2, 4)), cr.ones((2, 4))), rank=2)
    with pytest.raises(ValueError, match="rfft: `fft_length` must have 1 elements, got \\[4, 4\\]"):
        ops.rfft(cr.ones((4,)), fft_length=(4, 4))
    with pytest.raises(TypeError, match="complex: `real` and `imag` must have the same dtype"):
        ops.complex(cr.ones(2), cr.ones(2, dtype="float64"))
