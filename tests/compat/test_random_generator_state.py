"""tf.random.Generator's state Variable (checkpointed with tf.train.Checkpoint), split, the global generator, and
Variable.read_value (TensorFlow's random-numbers guide)."""

import numpy as np
import pytest

import chainrule as tf


def test_checkpoint_restores_the_stream(tmp_path):
    g = tf.random.Generator.from_seed(1)
    g.normal([3])
    checkpoint = tf.train.Checkpoint(generator=g)
    path = checkpoint.write(str(tmp_path / "ckpt"))
    after_save = [g.normal([2]).numpy() for _ in range(2)]
    checkpoint.restore(path)
    np.testing.assert_array_equal(np.stack([g.normal([2]).numpy() for _ in range(2)]), np.stack(after_save))
    other = tf.random.Generator.from_seed(99)
    tf.train.Checkpoint(generator=other).restore(path)  # a fresh generator takes the saved stream too
    np.testing.assert_array_equal(other.normal([2]).numpy(), after_save[0])


def test_state_is_an_int64_variable_that_moves():
    g = tf.random.Generator.from_seed(5)
    before = g.state.numpy().copy()
    g.uniform([4])
    assert g.state.dtype == tf.int64 and not np.array_equal(before, g.state.numpy())
    g.reset_from_seed(5)
    np.testing.assert_array_equal(g.state.numpy(), before)


def test_split_gives_independent_generators():
    g = tf.random.Generator.from_seed(1)
    children = g.split(3)
    draws = [c.normal([4]).numpy() for c in children]
    assert len({d.tobytes() for d in draws}) == 3
    again = tf.random.Generator.from_seed(1).split(3)
    np.testing.assert_array_equal(again[1].normal([4]).numpy(), draws[1])  # repeatable from the seed


def test_global_generator_and_read_value():
    tf.random.set_seed(3)
    tf.random.set_global_generator(tf.random.Generator.from_seed(7))
    first = tf.random.get_global_generator().normal([2]).numpy()
    tf.random.set_global_generator(tf.random.Generator.from_seed(7))
    np.testing.assert_array_equal(tf.random.get_global_generator().normal([2]).numpy(), first)
    with pytest.raises(TypeError, match="expects a tf.random.Generator"):
        tf.random.set_global_generator(7)
    v = tf.Variable([1.0, 2.0])
    snapshot = v.read_value()
    v.assign([5.0, 5.0])
    assert snapshot.numpy().tolist() == [1.0, 2.0]
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v.read_value() * 3.0)
    assert tape.gradient(y, v).numpy().tolist() == [3.0, 3.0]
