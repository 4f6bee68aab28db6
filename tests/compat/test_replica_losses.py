"""tf.nn.compute_average_loss / scale_regularization_loss (TensorFlow's custom-loop helpers for tf.distribute)."""

import numpy as np
import pytest

import chainrule as tf


def test_average_over_this_replicas_batch_times_the_replicas():
    loss = tf.nn.compute_average_loss(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert float(loss) == pytest.approx(10.0 / 2)  # summed over all entries, over the batch of 2


def test_sample_weight_and_global_batch_size():
    loss = tf.nn.compute_average_loss(tf.constant([1.0, 2.0, 3.0]), sample_weight=tf.constant([1.0, 0.0, 2.0]),
                                      global_batch_size=6)
    assert float(loss) == pytest.approx(7.0 / 6)
    assert loss.dtype == tf.float32


def test_gradient_flows_to_the_per_example_losses():
    x = tf.Variable([1.0, 2.0, 3.0, 4.0])
    with tf.GradientTape() as tape:
        loss = tf.nn.compute_average_loss(x * x)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 2 * np.array([1.0, 2.0, 3.0, 4.0]) / 4)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.compute_average_loss(tf.constant(1.0))
    with pytest.raises(TypeError, match="global_batch_size must be an integer"):
        tf.nn.compute_average_loss(tf.constant([1.0]), global_batch_size=2.5)
    with pytest.raises(ValueError, match="global_batch_size must be positive"):
        tf.nn.compute_average_loss(tf.constant([1.0]), global_batch_size=0)


def test_in_a_strategy_called_in_replica_context_only():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        with pytest.raises(RuntimeError, match="cross replica context"):
            tf.nn.compute_average_loss(tf.constant([1.0, 2.0]))
        with pytest.raises(RuntimeError, match="cross replica context"):
            tf.nn.scale_regularization_loss(tf.constant(1.0))
        loss = strategy.run(tf.nn.compute_average_loss, args=(tf.constant([1.0, 3.0]),))
        reg = strategy.run(tf.nn.scale_regularization_loss, args=(tf.add_n([tf.constant(1.0), tf.constant(2.0)]),))
    assert float(loss) == 2.0 and float(reg) == 3.0

