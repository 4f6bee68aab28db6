"""Layer.__call__'s short path (a built layer called on a plain Tensor of its dtype, at most ``training=``) keeps
what the general path does: a model's rank fix, the input spec, ``training`` from the outer call, casts, masks,
the warning's location and the error of a layer that skipped ``super().__init__()``."""
import warnings

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


def built(layer, x):
    layer(x)  # the first call builds: the calls the tests check take the short path
    assert layer.built
    return layer


def test_a_built_model_still_fixes_the_rank_of_its_input():
    model = keras.Sequential([keras.layers.Conv2D(2, 3, input_shape=(5, 5, 1)), keras.layers.Flatten()])
    built(model, tf.constant(np.ones((2, 5, 5, 1), "float32")))
    assert model(tf.constant(np.ones((2, 5, 5), "float32")), training=True).shape == (2, 18)


def test_a_built_layer_still_checks_its_input_spec():
    layer = built(keras.layers.Dense(3), tf.constant(np.ones((2, 4), "float32")))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(tf.constant(np.ones((2, 5), "float32")))


class TrainingProbe(keras.layers.Layer):
    """Records the ``training`` value its call receives."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class Outer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.probe = TrainingProbe()

    def call(self, inputs):
        return self.probe(inputs)


def test_training_reaches_inner_layers_and_is_a_bool():
    outer = Outer()
    x = tf.constant(np.ones((2, 3), "float32"))
    built(outer, x)
    outer.probe.seen.clear()
    outer(x, training=1)
    outer(x)
    outer.probe(x, training=False)
    assert outer.probe.seen == [True, None, False]


def test_a_built_layer_still_casts_a_float_input_to_its_dtype():
    layer = built(keras.layers.Dense(2), tf.constant(np.ones((1, 3), "float32")))
    assert layer(tf.constant(np.ones((1, 3), "float64"))).dtype == np.float32


class MaskProbe(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.supports_masking = True
        self.masks = []

    def call(self, inputs, mask=None):
        self.masks.append(mask)
        return inputs


def test_a_masked_input_still_gives_call_its_mask_and_the_output_keeps_it():
    layer = built(MaskProbe(), tf.constant(np.ones((1, 3), "float32")))
    x = tf.constant(np.ones((1, 3), "float32"))
    x._keras_mask = tf.constant(np.array([[True, False, True]]))
    y = layer(x)
    assert layer.masks[-1] is x._keras_mask and y._keras_mask is x._keras_mask
    assert layer(tf.constant(np.ones((1, 3), "float32"))) is not None and layer.masks[-1] is None


def test_the_dropped_mask_warning_points_at_the_caller():
    layer = built(keras.layers.Conv2D(2, 3), tf.constant(np.ones((1, 4, 4, 1), "float32")))
    x = tf.constant(np.ones((1, 4, 4, 1), "float32"))
    x._keras_mask = tf.constant(np.ones((1, 4, 4), bool))  # Conv2D does not support masking
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer(x)
    assert [w.filename for w in caught] == [__file__]


def test_a_layer_that_skipped_super_init_still_gets_keras_error():
    class Broken(keras.layers.Layer):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        Broken()(tf.constant(np.ones((1, 2), "float32")))
