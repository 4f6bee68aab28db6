"""tf.random.Generator and tf.random.split."""

import numpy as np
import pytest

import chainrule as tf


def test_generator_from_seed_repeats_and_moves_on():
    a, b = tf.random.Generator.from_seed(123, alg="philox"), tf.random.Generator.from_seed(123)
    first = a.make_seeds(3)
    assert first.shape == (2, 3) and first.dtype == np.int64
    assert (first.numpy() == b.make_seeds(3).numpy()).all()
    assert (a.make_seeds(3).numpy() != first.numpy()).any()


def test_generator_draws():
    g = tf.random.Generator.from_seed(0)
    normal = g.normal([4000])
    assert normal.dtype == np.float32 and abs(float(tf.reduce_mean(normal))) < 0.1
    uniform = g.uniform([1000], minval=2.0, maxval=3.0)
    assert 2.0 <= float(tf.reduce_min(uniform)) and float(tf.reduce_max(uniform)) < 3.0
    assert g.uniform([5], 0, 10, dtype=tf.int32).dtype == np.int32
    assert float(tf.reduce_max(tf.abs(g.truncated_normal([1000])))) <= 2.0
    with pytest.raises(ValueError, match="maxval"):
        g.uniform([2], dtype=tf.int64)
    assert tf.random.Generator.from_non_deterministic_state().normal([2]).shape == (2,)
    with pytest.raises(ValueError, match="algorithm"):
        tf.random.Generator.from_seed(1, alg="mt19937")


def test_split_gives_new_seeds_the_same_each_time():
    seeds = tf.random.split([1, 2], num=3)
    assert seeds.shape == (3, 2) and seeds.dtype == np.int64
    assert (seeds.numpy() == tf.random.split(tf.constant([1, 2]), num=3).numpy()).all()
    assert (tf.random.split([1, 3]).numpy() != tf.random.split([1, 2]).numpy()).any()
    new_seed = tf.random.split([4, 0], num=1)[0, :]
    assert tf.image.stateless_random_brightness(np.zeros((2, 2, 3), "float32"), 0.5, seed=new_seed).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="shape \\[2\\]"):
        tf.random.split([1, 2, 3])
