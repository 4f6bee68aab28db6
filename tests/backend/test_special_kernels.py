"""backend/kernels/special.py: erf as a numba loop gives Python's math.erf bits (float32 and float64, extremes, NaN,
infinities, non-contiguous input), and the GELU built on it runs at array speed."""
import math
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import special


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erf_kernel_gives_math_erf_bits(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(5000) * 3, [0.0, -0.0, 1e-30, -6.0, 6.0, 30.0, np.inf, -np.inf, np.nan]])
    x = x.astype(dtype)
    expected = np.array([math.erf(float(v)) for v in x]).astype(dtype)
    np.testing.assert_array_equal(special.erf(x), expected)
    np.testing.assert_array_equal(special.erf(x.reshape(-1, 1)[::2]), expected.reshape(-1, 1)[::2])  # strided
    assert special.erf(x).dtype == x.dtype


def test_erf_of_an_empty_array_and_of_integers_falls_back():
    assert special.erf(np.zeros((0, 3), np.float32)).shape == (0, 3)
    np.testing.assert_array_equal(special.erf(np.array([0, 1])), np.array([0.0, math.erf(1.0)]).astype(int))


@pytest.mark.skipif(not kernels.enabled(), reason="numba kernels off")
def test_gelu_on_a_transformers_activations_takes_milliseconds_not_seconds():
    x = cr.constant(np.random.default_rng(1).standard_normal((256, 4096)).astype(np.float32))
    cr.nn.gelu(x)  # compiles
    start = time.perf_counter()
    y = cr.nn.gelu(x)
    assert time.perf_counter() - start < 0.5  # math.erf element by element: ~0.1 s per million elements
    np.testing.assert_allclose(y.numpy()[0, :4], [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.numpy()[0, :4]],
                               rtol=1e-6)
