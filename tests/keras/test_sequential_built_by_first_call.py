"""A Sequential model without a declared input shape, built by its first call, takes other sizes later (as Keras 3,
whose Sequential checks no input spec of its own, and tf.keras 2, which warned and ran the layers); the layers'
own checks still apply, and a declared input shape is still enforced."""

import numpy as np
import pytest

import chainrule as tf


def test_time_axis_may_change_after_the_first_call_and_fit():
    linear = tf.keras.Sequential([tf.keras.layers.Dense(units=1)])
    assert linear(np.zeros((32, 1, 19), "float32")).shape == (32, 1, 1)
    linear.compile(loss="mse", optimizer="adam")
    linear.fit(np.ones((8, 1, 19), "float32"), np.ones((8, 1, 1), "float32"), verbose=0)
    wide = np.random.default_rng(0).normal(size=(4, 24, 19)).astype("float32")
    out = linear(wide)
    assert out.shape == (4, 24, 1)
    kernel, bias = linear.layers[0].get_weights()
    np.testing.assert_allclose(out.numpy(), wide @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert linear.predict(wide, verbose=0).shape == (4, 24, 1)


def test_the_layers_still_check_their_inputs():
    model = tf.keras.Sequential([tf.keras.layers.Dense(2)])
    model(np.zeros((3, 5), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        model(np.zeros((3, 6), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2"):
        model(np.zeros((3, 4, 5), "float32"))


def test_a_declared_input_shape_is_still_enforced():
    model = tf.keras.Sequential([tf.keras.Input((1, 19)), tf.keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 1"):
        model(np.zeros((2, 24, 19), "float32"))
