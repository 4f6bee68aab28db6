"""``tnp.random`` (tf.experimental.numpy.random): NumPy's random functions as tensors, repeatable by seed, float64
unless ``prefer_float32``."""

import numpy as np
import pytest

import chainrule.experimental.numpy as tnp


def test_shapes_and_dtypes():
    assert tuple(tnp.random.randn(2, 3).shape) == (2, 3) and tnp.random.randn(2).dtype == np.float64
    assert tuple(tnp.random.rand(4).shape) == (4,)
    assert tuple(tnp.random.standard_normal((2, 2)).shape) == (2, 2)
    assert tnp.random.random().shape == ()
    values = tnp.random.uniform(2.0, 3.0, size=100).numpy()
    assert values.min() >= 2.0 and values.max() < 3.0
    ints = tnp.random.randint(5, size=(50,)).numpy()
    assert ints.dtype == np.int64 and ints.min() >= 0 and ints.max() < 5


def test_seed_repeats_the_draws():
    tnp.random.seed(7)
    first = tnp.random.randn(5).numpy()
    tnp.random.seed(7)
    np.testing.assert_array_equal(tnp.random.randn(5).numpy(), first)


def test_prefer_float32():
    try:
        tnp.experimental_enable_numpy_behavior(prefer_float32=True)
        assert tnp.random.randn(3).dtype == np.float32
    finally:
        tnp.experimental_enable_numpy_behavior(prefer_float32=False)
    assert tnp.random.rand(3).dtype == np.float64


def test_randint_bounds_checked():
    with pytest.raises(ValueError, match="low >= high"):
        tnp.random.randint(3, 3)
