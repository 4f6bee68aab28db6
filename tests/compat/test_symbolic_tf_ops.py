"""TensorFlow functions on keras.Input tensors become layers of the functional model (TF 2's TFOpLambda)."""
import numpy as np
import pytest

import chainrule as tf


def test_tf_functions_between_layers_build_a_model_that_computes_them():
    tf.keras.backend.clear_session()  # the names below are a fresh session's (tf.reduce_mean, not tf.reduce_mean_2)
    x = tf.keras.Input((4,))
    h = tf.keras.layers.Dense(3, name="d")(x)
    y = tf.concat([tf.nn.relu(h), tf.math.square(h)], axis=-1)
    model = tf.keras.Model(x, tf.reduce_mean(y, axis=-1, keepdims=True))
    assert model.output_shape == (None, 1)
    names = [layer.name for layer in model.layers]
    assert {"tf.nn.relu", "tf.math.square", "tf.concat", "tf.reduce_mean"} <= set(names), names
    data = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    kernel, bias = model.get_layer("d").get_weights()
    hv = data @ kernel + bias
    expected = np.concatenate([np.maximum(hv, 0), hv ** 2], axis=-1).mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_a_model_with_tf_functions_trains():
    x = tf.keras.Input((2,))
    y = tf.keras.layers.Dense(1)(tf.math.square(x))
    model = tf.keras.Model(x, y)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    data = np.random.default_rng(1).normal(size=(64, 2)).astype("float32")
    target = (data ** 2).sum(axis=1, keepdims=True)
    history = model.fit(data, target, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]


def test_real_tensors_still_compute_directly():
    assert float(tf.reduce_sum(tf.square(tf.constant([1.0, 2.0])))) == 5.0


def test_saving_the_config_of_a_tf_function_layer_says_what_to_do():
    # the function and plain arguments are saved (tests/compat/test_op_layers_saved.py); an array argument is not
    x = tf.keras.Input((2,))
    model = tf.keras.Model(x, tf.add(x, np.ones(2, "float32")))
    with pytest.raises(NotImplementedError, match="applies tf.add inside a functional model"):
        model.get_config()
