"""keras.ops' no-gradient elementwise functions (floor, comparisons, logical, isnan, ...) on the strict backend
(array-api-strict's arrays, which NumPy cannot read): the same values as NumPy, on the device (issue 17)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend  # noqa: E402
from chainrule.keras import ops  # noqa: E402

X = np.array([-1.5, 0.0, 2.5, np.inf, -np.inf, np.nan], "float32")
Y = np.array([1.0, 0.0, -2.0, 3.0, 1.0, 2.0], "float32")
UNARY = ["floor", "ceil", "trunc", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not"]
BINARY = ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
          "logical_xor", "floor_divide"]


def _both(strict, call):
    on_device = call(backend.to_device)
    assert strict.owns(on_device.data)
    backend.set_backend("numpy")
    return on_device.numpy(), call(lambda a: a).numpy()


@pytest.mark.parametrize("name", UNARY)
def test_unary_on_the_device(strict, name):
    got, expected = _both(strict, lambda put: getattr(ops, name)(put(X)))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("second", ["array", "python float", "python int"])
def test_binary_on_the_device(strict, name, second):
    other = {"array": None, "python float": 2.0, "python int": 2}[second]
    with np.errstate(invalid="ignore", divide="ignore"):
        got, expected = _both(strict, lambda put: getattr(ops, name)(put(X), put(Y) if other is None else other))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_tf_stop_gradient_and_adjust_contrast_on_the_device(strict):
    import chainrule as tf

    images = np.random.default_rng(1).random((2, 4, 4, 3)).astype("float32")
    got, expected = _both(strict, lambda put: tf.image.adjust_contrast(tf.stop_gradient(put(images)), 1.7))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_eye_with_an_offset_on_the_device(strict):
    got, expected = _both(strict, lambda put: ops.eye(3, 4, 1))
    np.testing.assert_array_equal(got, expected)
