"""int() of a one-element tensor of any shape gives its value, as TensorFlow's int(tensor) and float() here do (NumPy
2.4 takes only 0-d arrays), so a tensor of shape (1,) goes into a NumPy buffer slot (keras-io's PPO stores actions
so); several values are still refused."""

import numpy as np
import pytest

import chainrule as tf


def test_int_of_one_value_of_any_shape():
    assert int(tf.constant([3])) == 3 and int(tf.constant([[7]], dtype=tf.int64)) == 7 and int(tf.constant(2.9)) == 2
    buffer = np.zeros(2, dtype=np.int32)
    buffer[1] = tf.constant([5])
    assert buffer.tolist() == [0, 5]


def test_int_of_several_values_is_refused():
    with pytest.raises(TypeError):
        int(tf.constant([1, 2]))
