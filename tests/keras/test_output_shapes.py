"""Output shapes keep None for unknown sizes: the built-in formulas, the default that runs the layer twice, and the
shapes of symbolic tensors in functional models."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers.base import output_shape_by_probing


@pytest.mark.parametrize("layer, input_shape, expected", [
    (lambda: layers.Reshape((-1, 1)), (None, None), (None, None, 1)),
    (lambda: layers.Reshape((2, -1)), (None, 6), (None, 2, 3)),
    (lambda: layers.Dense(3), (None, None, 4), (None, None, 3)),
    (lambda: layers.Conv2D(8, 3), (None, None, None, 1), (None, None, None, 8)),
    (lambda: layers.Conv2D(8, 3, strides=2, padding="same"), (None, 9, None, 2), (None, 5, None, 8)),
    (lambda: layers.MaxPooling2D(), (None, None, 6, 3), (None, None, 3, 3)),
    (lambda: layers.GlobalMaxPooling2D(), (None, None, None, 8), (None, 8)),
    (lambda: layers.Flatten(), (None, None, 3), (None, None)),
    (lambda: layers.Flatten(), (None, 2, 3), (None, 6)),
    (lambda: layers.Dense(3), (5, 4), (5, 3)),  # a known batch stays known
])
def test_built_in_shapes_and_probed_shapes_agree_and_keep_none(layer, input_shape, expected):
    assert layer().compute_output_shape(input_shape) == expected
    assert output_shape_by_probing(layer(), input_shape) == expected


class Doubled(layers.Layer):
    """No compute_output_shape: the default runs the layer."""

    def call(self, inputs):
        return cr.concat([inputs, inputs], axis=1)


def test_the_default_runs_the_layer_twice_and_marks_what_varies():
    assert Doubled().compute_output_shape((None, 5, 4)) == (None, 10, 4)
    assert Doubled().compute_output_shape((None, None, 4)) == (None, None, 4)
    assert Doubled().compute_output_shape((3, 5, 4)) == (3, 10, 4)
    split = layers.Lambda(lambda x: [x[:, :1], x])
    assert split.compute_output_shape((None, None)) == [(None, 1), (None, None)]


def test_probing_builds_from_the_unknown_shape_and_changes_no_state():
    with pytest.raises(ValueError, match="needs a known last dimension"):
        output_shape_by_probing(layers.Dense(3), (None, None))  # no weight from a made-up size
    norm = layers.BatchNormalization()
    norm.build((None, 3))
    before = [w.numpy() for w in norm.weights]
    norm.compute_output_shape((None, 3))
    for a, w in zip(before, norm.weights):
        np.testing.assert_array_equal(a, w.numpy())

    class Counter(layers.Layer):
        def build(self, input_shape):
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, inputs):
            self.calls.assign_add(1.0)
            self.add_loss(cr.reduce_sum(inputs))
            return inputs

    counter = Counter()
    assert counter.compute_output_shape((None, 2)) == (None, 2)
    assert float(counter.calls.numpy()) == 0.0 and counter.losses == []


def test_symbolic_shapes_keep_none():
    x = keras.Input(shape=(None,))
    assert layers.Reshape((-1, 1))(x).shape == (None, None, 1)
    images = keras.Input((None, None, 1))
    features = layers.Conv2D(8, 3)(images)
    assert features.shape == (None, None, None, 8)
    pooled = layers.GlobalMaxPooling2D()(features)
    assert pooled.shape == (None, 8)
    model = keras.Model(images, layers.Dense(2)(pooled))
    assert model.output_shape == (None, 2)
    assert model(np.zeros((2, 7, 9, 1), "float32")).shape == (2, 2)
    assert model(np.zeros((1, 5, 5, 1), "float32")).shape == (1, 2)
    steps = keras.Input((None, 4))
    assert Doubled()(steps).shape == (None, None, 4)
