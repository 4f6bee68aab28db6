"""Keras 3's top-level names that programs use: keras.Layer and the other base classes, keras.config,
keras.backend.backend() and image_data_format()."""

import numpy as np

import chainrule as tf
from chainrule import keras


def test_base_classes_at_the_top_level():
    assert keras.Layer is keras.layers.Layer and keras.Loss is keras.losses.Loss
    assert keras.Metric is keras.metrics.Metric and keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Initializer is keras.initializers.Initializer and keras.Regularizer is keras.regularizers.Regularizer
    assert keras.Variable is tf.Variable

    class Double(keras.Layer):
        def call(self, x):
            return x * 2

    np.testing.assert_array_equal(Double()(np.ones((2, 3), "float32")).numpy(), np.full((2, 3), 2.0))


def test_config_and_version():
    assert keras.config.backend() == keras.backend.backend() == "chainrule"
    assert keras.config.image_data_format() == keras.backend.image_data_format() == "channels_last"
    assert keras.config.floatx() == "float32" and keras.config.epsilon() == 1e-7
