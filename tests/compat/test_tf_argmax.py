"""tf.math.argmax / argmin as TensorFlow's: axis None means 0, output_type int64 (default) or int32."""

import numpy as np
import pytest

import chainrule as tf


def test_argmax_output_type_and_default_axis():
    x = tf.constant([[1.0, 3.0], [4.0, 2.0]])
    assert tf.math.argmax(x, axis=1, output_type=tf.int32).dtype == "int32"
    assert tf.argmax(x, axis=1).dtype == "int64"
    np.testing.assert_array_equal(tf.argmax(x).numpy(), [1, 0])  # axis None: along axis 0
    np.testing.assert_array_equal(tf.math.argmin(x, 1, output_type=tf.int64).numpy(), [0, 1])


def test_argmax_refuses_a_float_output_type():
    with pytest.raises(TypeError, match="output_type must be int32 or int64"):
        tf.argmax(tf.constant([1.0, 2.0]), output_type=tf.float32)
