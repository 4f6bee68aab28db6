"""TensorFlow 2's add_metric on layers and functional models: the epoch mean in fit's and evaluate's logs."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

X = np.arange(24, dtype="float32").reshape(6, 4) / 10
Y = np.arange(6, dtype="float32").reshape(6, 1)


class MeanOfInputs(layers.Layer):
    def call(self, inputs):
        self.add_metric(tf.reduce_mean(inputs), name="input_mean")
        return inputs


def model_with_metric_layer():
    inputs = keras.Input((4,))
    outputs = layers.Dense(1, kernel_initializer="zeros")(MeanOfInputs()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    return model


def test_the_epoch_mean_of_the_batches_is_logged_in_fit_and_evaluate():
    model = model_with_metric_layer()
    history = model.fit(X, Y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    batch_means = [X[i:i + 2].mean() for i in range(0, 6, 2)]
    np.testing.assert_allclose(history.history["input_mean"], [np.mean(batch_means)] * 2, rtol=1e-6)
    logs = model.evaluate(X[:2], Y[:2], return_dict=True, verbose=0)
    np.testing.assert_allclose(logs["input_mean"], X[:2].mean(), rtol=1e-6)  # reset between runs


def test_a_symbolic_metric_on_a_functional_model():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, kernel_initializer="ones")(inputs)
    model = keras.Model(inputs, layers.Dense(1)(hidden))
    model.add_metric(keras.backend.std(hidden), name="std_of_hidden")
    model.compile("sgd", "mse")
    logs = model.evaluate(X, Y, batch_size=6, return_dict=True, verbose=0)
    np.testing.assert_allclose(logs["std_of_hidden"], (X @ np.ones((4, 3))).std(), rtol=1e-5)


def test_bad_calls_are_refused_as_tensorflow_does():
    layer = layers.Layer()
    with pytest.raises(ValueError, match="provide a name for your metric"):
        layer.add_metric(tf.constant(1.0))
    with pytest.raises(ValueError, match="only `mean` sample-wise metric aggregation"):
        layer.add_metric(tf.constant(1.0), name="m", aggregation="sum")
