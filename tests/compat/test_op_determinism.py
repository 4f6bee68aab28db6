"""tf.config.experimental.enable_op_determinism / disable_op_determinism / is_op_determinism_enabled: with
determinism on, tf.data's parallel map and read-ahead interleave run their functions in order on the consumer's
thread (TensorFlow's "Determinism and tf.data"), so random draws inside them repeat run to run."""

import threading

import numpy as np
import pytest

import chainrule as tf


@pytest.fixture(autouse=True)
def _off_afterwards():
    yield
    tf.config.experimental.disable_op_determinism()


def test_the_switch():
    assert tf.config.experimental.is_op_determinism_enabled() is False
    tf.config.experimental.enable_op_determinism()
    assert tf.config.experimental.is_op_determinism_enabled() is True
    tf.config.experimental.disable_op_determinism()
    assert tf.config.experimental.is_op_determinism_enabled() is False


def _threads_of_parallel_map() -> set:
    seen = set()

    def record(x):
        seen.add(threading.get_ident())
        return x * 2

    out = [int(x) for x in tf.data.Dataset.range(40).map(record, num_parallel_calls=4, deterministic=False)]
    assert sorted(out) == list(range(0, 80, 2))
    return seen


def test_parallel_map_runs_in_the_consumer_thread_when_determinism_is_on():
    tf.config.experimental.enable_op_determinism()
    assert _threads_of_parallel_map() == {threading.get_ident()}


def test_random_draws_inside_a_parallel_map_repeat_with_determinism():
    def draws():
        tf.config.experimental.enable_op_determinism()
        tf.keras.utils.set_random_seed(3)
        ds = tf.data.Dataset.range(30).map(lambda x: tf.cast(x, tf.float32) + tf.random.uniform(()),
                                           num_parallel_calls=tf.data.AUTOTUNE)
        return [float(v) for v in ds]

    first, second = draws(), draws()
    assert first == second
    noise = np.array(first) - np.arange(30)
    assert ((noise >= 0) & (noise < 1)).all() and len(set(noise.round(6))) == 30  # real draws, one per element


def test_interleave_with_parallel_calls_keeps_its_order_with_determinism():
    tf.config.experimental.enable_op_determinism()
    ds = tf.data.Dataset.range(1, 4).interleave(lambda x: tf.data.Dataset.from_tensors(x).repeat(2), cycle_length=2,
                                                num_parallel_calls=2)
    assert [int(x) for x in ds] == [1, 2, 1, 2, 3, 3]
