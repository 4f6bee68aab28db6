"""Call forms of tf.keras 2 that TensorFlow's tutorials still write, accepted as tf.keras 2 took them."""

import numpy as np
import pytest

import chainrule as tf


def test_a_subclass_may_pass_itself_to_model_init():
    class PassesSelf(tf.keras.Model):  # TensorFlow's text-generation tutorial: super().__init__(self)
        def __init__(self):
            super().__init__(self)
            self.dense = tf.keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = PassesSelf()
    assert model(np.ones((3, 4), "float32")).shape == (3, 2)

    class PassesAnother(tf.keras.Model):
        def __init__(self, other):
            super().__init__(other)

    with pytest.raises(TypeError, match="keyword arguments only"):
        PassesAnother(model)


@pytest.mark.parametrize("layer", [tf.keras.layers.GRU(5), tf.keras.layers.LSTM(5), tf.keras.layers.SimpleRNN(5)])
def test_get_initial_state_takes_the_inputs_as_tf_keras_2_did(layer):
    x = tf.zeros((3, 7, 2))
    from_inputs = layer.get_initial_state(x)
    from_size = layer.get_initial_state(3)
    assert [s.shape for s in from_inputs] == [s.shape for s in from_size] and from_inputs[0].shape == (3, 5)
