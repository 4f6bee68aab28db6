"""A functional model's shape probe runs a layer on made-up batch sizes; a reshape to a size fixed in the program (the
Switch Transformer's tokens per batch) cannot hold them, and must not stop the model from being built (TensorFlow's
graph checks such a reshape only when it runs). On real values, and where the sizes are known, the check stays."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers, ops

TOKENS = 12  # a fixed number of rows per batch: batch 3 of 4 steps


class FixedRows(layers.Layer):
    def __init__(self, reshape):
        super().__init__()
        self.reshape = reshape

    def call(self, x):
        batch = tf.shape(x)[0]
        rows = self.reshape(x, [TOKENS, 2])  # made-up batches cannot fill TOKENS rows
        return self.reshape(rows * 2.0, [batch, 4, 2])


@pytest.mark.parametrize("reshape", [tf.reshape, ops.reshape], ids=["tf", "keras.ops"])
def test_fixed_size_reshape_builds_on_an_unknown_batch(reshape):
    inputs = keras.Input((4, 2))
    outputs = FixedRows(reshape)(inputs)
    assert outputs.shape == (None, 4, 2)
    model = keras.Model(inputs, outputs)
    x = np.arange(24, dtype="float32").reshape(3, 4, 2)
    np.testing.assert_array_equal(model(x).numpy(), 2 * x)


def test_fixed_size_reshape_still_fails_on_real_values():
    layer = FixedRows(tf.reshape)
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 4, 2\)"):
        layer(np.zeros((2, 4, 2), "float32"))


def test_known_sizes_are_still_checked_when_building():
    inputs = keras.Input((4, 2), batch_size=2)
    with pytest.raises(ValueError, match="cannot reshape"):
        FixedRows(tf.reshape)(inputs)
