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
