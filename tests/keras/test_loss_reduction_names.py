"""tf.keras 2's loss reduction names (tf.keras.losses.Reduction), used by TensorFlow's tf.distribute tutorials."""

import pytest

import chainrule as tf


def test_keras_losses_reduction_names():
    assert tf.keras.losses.Reduction.NONE == "none"
    assert tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE == "sum_over_batch_size"
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=tf.keras.losses.Reduction.NONE)
    assert loss(tf.constant([0, 1]), tf.constant([[2.0, 0.0], [0.0, 2.0]])).shape == (2,)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.keras.losses.Reduction.validate("average")
