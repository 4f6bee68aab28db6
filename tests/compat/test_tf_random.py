"""``tf.random``: TensorFlow 2's draws (gamma, poisson, shuffle, categorical, truncated_normal, integer uniform,
the stateless draws), their shapes, dtypes, distributions, seeds and errors."""

import numpy as np
import pytest

import chainrule as tf


def test_uniform_of_an_integer_dtype_draws_integers_in_range_and_needs_maxval():
    x = tf.random.uniform((1000,), minval=3, maxval=7, dtype=tf.int32).numpy()
    assert x.dtype == np.int32 and set(np.unique(x)) == {3, 4, 5, 6}
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random.uniform((2,), dtype=tf.int64)
    f = tf.random.uniform((4000,), minval=-1.0, maxval=3.0).numpy()
    assert f.dtype == np.float32 and f.min() >= -1.0 and f.max() < 3.0 and abs(f.mean() - 1.0) < 0.1


def test_gamma_shape_is_shape_then_the_parameters_and_beta_is_the_rate():
    x = tf.random.gamma([20000], alpha=[1.0, 4.0], beta=[[2.0], [0.5]]).numpy()
    assert x.shape == (20000, 2, 2) and x.dtype == np.float32 and (x >= 0).all()
    # mean alpha / beta
    np.testing.assert_allclose(x.mean(axis=0), [[0.5, 2.0], [2.0, 8.0]], rtol=0.05)
    assert tf.random.gamma([3, 2], alpha=0.5, dtype=tf.float64).dtype == tf.float64
    with pytest.raises(ValueError, match="floating point"):
        tf.random.gamma([3], alpha=1.0, dtype=tf.int32)


def test_poisson_and_truncated_normal():
    p = tf.random.poisson([20000], lam=[1.0, 6.0]).numpy()
    assert p.shape == (20000, 2) and (p == np.round(p)).all()
    np.testing.assert_allclose(p.mean(axis=0), [1.0, 6.0], rtol=0.05)
    t = tf.random.truncated_normal((20000,), mean=1.0, stddev=2.0).numpy()
    assert t.min() >= 1.0 - 4.0 and t.max() <= 1.0 + 4.0 and abs(t.mean() - 1.0) < 0.05


def test_shuffle_permutes_rows_and_categorical_draws_int64_ids():
    x = np.arange(12).reshape(6, 2)
    s = tf.random.shuffle(x).numpy()
    assert sorted(map(tuple, s)) == sorted(map(tuple, x))
    ids = tf.random.categorical(tf.math.log([[0.1, 0.9], [1.0, 1e-12]]), 4000)
    assert ids.dtype == tf.int64 and ids.shape == (2, 4000)
    assert abs(ids.numpy()[0].mean() - 0.9) < 0.03 and (ids.numpy()[1] == 0).all()
    with pytest.raises(ValueError, match="matrix"):
        tf.random.categorical([0.0, 1.0], 3)


def test_op_seeds_follow_tensorflow_rules():
    tf.random.set_seed(5)
    a1, a2 = tf.random.normal((3,), seed=1).numpy(), tf.random.normal((3,), seed=1).numpy()
    tf.random.set_seed(5)
    b1 = tf.random.normal((3,), seed=1).numpy()
    assert not np.array_equal(a1, a2)  # the seed's sequence moves on
    np.testing.assert_array_equal(a1, b1)  # and starts again after set_seed


def test_stateless_draws_repeat_for_a_seed_and_check_it():
    for draw in (lambda s: tf.random.stateless_uniform((5,), seed=s),
                 lambda s: tf.random.stateless_normal((5,), seed=s, mean=2.0),
                 lambda s: tf.random.stateless_truncated_normal((5,), seed=s),
                 lambda s: tf.random.stateless_categorical([[0.0, 0.0, 0.0]], 5, seed=s)):
        np.testing.assert_array_equal(draw([1, 2]).numpy(), draw(tf.constant([1, 2])).numpy())
        assert not np.array_equal(draw([1, 2]).numpy(), draw([2, 1]).numpy())
    ints = tf.random.stateless_uniform((50,), seed=[0, 0], minval=0, maxval=3, dtype=tf.int32).numpy()
    assert ints.dtype == np.int32 and set(np.unique(ints)) <= {0, 1, 2}
    with pytest.raises(ValueError, match=r"shape \[2\] integer"):
        tf.random.stateless_normal((2,), seed=3)


def test_draws_in_a_tf_function_are_new_on_each_call():
    @tf.function
    def noisy(x):
        return x + tf.random.gamma([2], alpha=1.0) + tf.cast(tf.random.uniform([2], maxval=5, dtype=tf.int32), tf.float32)

    first, second = noisy(tf.zeros(2)).numpy(), noisy(tf.zeros(2)).numpy()
    assert not np.array_equal(first, second)
