"""Tensors made from a shape (zeros, ones, fill) and random draws: shapes as NumPy and PyTorch take them, and
TensorFlow's seed rules."""
import numpy as np
import pytest

import chainrule as tf


@pytest.mark.parametrize("make", [tf.zeros, tf.ones, lambda s: tf.fill(s, 2.5), tf.random.normal, tf.random.uniform])
def test_an_int_shape_makes_a_vector(make):
    assert make(3).shape == (3,)
    assert make(np.int64(2)).shape == (2,)
    assert make((2, 3)).shape == (2, 3)


@pytest.mark.parametrize("draw", [tf.random.normal, tf.random.uniform])
def test_an_op_seed_draws_its_next_values_per_call_and_repeats_per_run(draw):
    tf.random.set_seed(1)
    a1, a2 = draw([4], seed=7).numpy(), draw([4], seed=7).numpy()
    assert (a1 != a2).any()  # TensorFlow: the same op seed gives A1, then A2
    tf.random.set_seed(1)
    np.testing.assert_array_equal(draw([4], seed=7).numpy(), a1)
    np.testing.assert_array_equal(draw([4], seed=7).numpy(), a2)
    assert (draw([4], seed=8).numpy() != a1).any()


def test_tensorflow_datatype_numbers_are_dtypes():
    # the Keras subclassing guide calls tf.zeros(1, 1): TensorFlow reads the 1 as its DataType number for float32
    assert tf.zeros(1, 1).dtype == np.float32
    assert tf.ones((2,), 3).dtype == np.int32
    with pytest.raises(TypeError, match="'flot' is not a dtype"):
        tf.zeros(2, "flot")
    with pytest.raises(TypeError, match="99 is not a dtype"):
        tf.zeros(2, 99)


def test_keras_backend_random_normal_follows_the_seeded_generator():
    tf.keras.utils.set_random_seed(3)
    a = tf.keras.backend.random_normal(shape=(4, 2), mean=1.0, stddev=0.5).numpy()
    tf.keras.utils.set_random_seed(3)
    b = tf.keras.backend.random_normal(shape=(4, 2), mean=1.0, stddev=0.5).numpy()
    assert a.shape == (4, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert tf.keras.backend.int_shape(tf.keras.Input((None, 3))) == (None, None, 3)
