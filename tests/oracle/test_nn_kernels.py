"""The softmax kernels (chainrule/backend/kernels/softmax.py) against their NumPy versions: the same values to rounding, NaN
in the same places, on shapes from one class to many rows, with large and infinite logits."""
import numpy as np
import pytest

from chainrule.backend import kernels
from chainrule.backend.kernels import softmax as sk

numba = pytest.importorskip("numba", reason="the numba kernels need numba (pip install chainrule[fast])")

SHAPES = [(1, 1), (32, 10), (5, 3, 7), (300, 2), (4, 1000)]


@pytest.fixture
def numba_on():
    before = kernels.enabled()
    kernels.set_enabled(True)
    yield
    kernels.set_enabled(before)


def _logits(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x.flat[:3] = np.array([80.0, -80.0, 1e4], dtype)[:x.size]  # exp would overflow without the max subtracted
    if x.shape[-1] > 2 and x.ndim == 2:
        x[-1, 1] = -np.inf  # an impossible class: probability 0
    return x


def _close(mine, ref, dtype):
    assert mine.dtype == ref.dtype and mine.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(ref))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(np.nan_to_num(mine), np.nan_to_num(ref), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_kernel_equals_numpy(numba_on, shape, dtype):
    x = _logits(shape, dtype)
    _close(sk.softmax(x), sk.softmax_numpy(x), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_xent_kernel_equals_numpy(numba_on, shape, dtype):
    logits = _logits(shape, dtype)
    rng = np.random.default_rng(1)
    labels = rng.random(shape).astype(dtype)  # soft labels, not summing to 1: the sums matter for the gradient
    with np.errstate(invalid="ignore"):  # 0 * -inf in the row with an impossible class
        mine, ref = sk.softmax_xent(labels, logits), sk.softmax_xent_numpy(labels, logits)
    for a, b in zip(mine, ref):
        _close(a, b, dtype)


def test_kernels_fall_back_to_numpy_when_switched_off():
    before = kernels.enabled()
    kernels.set_enabled(False)
    try:
        x = _logits((8, 10), np.float32)
        np.testing.assert_array_equal(sk.softmax(x), sk.softmax_numpy(x))
    finally:
        kernels.set_enabled(before)
