"""A layer's size argument may be an integer scalar array or tensor, as TF-Keras's ``int(units)`` takes it (TF's
autoencoder tutorial: ``Dense(tf.math.reduce_prod(shape).numpy())``); anything else is refused by name."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers


def test_integer_scalar_arrays_and_tensors_are_sizes():
    assert layers.Dense(tf.math.reduce_prod((28, 28)).numpy()).units == 784
    assert layers.Dense(tf.constant(5)).units == 5
    assert layers.Dense(np.int64(3)).units == 3
    out = layers.Dense(np.array(4))(np.ones((2, 3), "float32"))
    assert out.shape == (2, 4)


@pytest.mark.parametrize("bad", [np.array(2.5), 0, True, np.array([3])])
def test_other_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="Dense: units must be a positive integer"):
        layers.Dense(bad)
