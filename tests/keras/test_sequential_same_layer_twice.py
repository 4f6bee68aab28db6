"""A Sequential may hold the same layer object twice (Keras 3's and tf.keras's name check skips the layer itself):
it runs twice, sharing its weights; a different layer with a taken name is still refused."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers


def test_the_same_layer_twice_runs_twice_with_shared_weights():
    dense = layers.Dense(3, activation="relu")
    model = keras.Sequential([keras.Input((3,)), dense, dense])
    x = np.random.rand(4, 3).astype("float32")
    kernel, bias = dense.get_weights()
    once = np.maximum(x @ kernel + bias, 0)
    np.testing.assert_allclose(model(x).numpy(), np.maximum(once @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    assert len(model.trainable_weights) == 2


def test_another_layer_with_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="should have unique names"):
        keras.Sequential([layers.Dense(2, name="d"), layers.Dense(2, name="d")])
