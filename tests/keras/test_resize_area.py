"""Area resizing (keras.ops.image.resize(interpolation="area"), tf.image.resize(method="area")), as TensorFlow's
ResizeArea: each output pixel averages the input area it covers (keras-io's sub-pixel super-resolution example makes
its low-resolution inputs so)."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import ops


def test_integer_factors_are_block_means():
    x = np.random.default_rng(0).normal(size=(2, 6, 8, 3)).astype("float32")
    got = np.asarray(ops.image.resize(x, (3, 2), interpolation="area"))
    np.testing.assert_allclose(got, x.reshape(2, 3, 2, 2, 4, 3).mean(axis=(2, 4)), rtol=1e-5, atol=1e-6)


def test_fractional_spans_weight_the_covered_parts():
    x = np.array([1.0, 2.0, 3.0], "float32").reshape(1, 1, 3, 1)
    got = np.asarray(tf.image.resize(x, [1, 2], method="area"))[0, 0, :, 0]
    np.testing.assert_allclose(got, [4 / 3, 8 / 3], rtol=1e-6)  # TensorFlow's values


def test_integers_come_back_as_float32_and_upscaling_repeats():
    x = np.arange(4, dtype=np.uint8).reshape(2, 2, 1)
    out = tf.image.resize(x, [4, 4], method="area")
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(np.asarray(out)[..., 0], np.repeat(np.repeat([[0, 1], [2, 3]], 2, 0), 2, 1))


def test_area_resizing_is_differentiable():
    x = tf.Variable(np.random.default_rng(1).normal(size=(1, 4, 6, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.image.resize(x, [2, 3], method="area") * 4.0)
    np.testing.assert_allclose(np.asarray(tape.gradient(y, x)), np.ones((1, 4, 6, 2)), rtol=1e-6)


def test_an_unknown_interpolation_lists_area():
    with pytest.raises(ValueError, match="'area'"):
        ops.image.resize(np.zeros((2, 2, 1), "float32"), (1, 1), interpolation="cubic")
