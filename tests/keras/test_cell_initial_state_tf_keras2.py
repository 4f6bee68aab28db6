"""An RNN cell's get_initial_state takes tf.keras 2's forms too: batch_size as a tensor with a dtype, or the inputs
(TensorFlow's "Effective TensorFlow 2" guide: cell.get_initial_state(batch_size=tf.shape(x)[1], dtype=tf.float32))."""

import numpy as np

import chainrule as tf


def test_forms():
    cell = tf.keras.layers.LSTMCell(4)
    h, c = cell.get_initial_state(batch_size=tf.shape(tf.zeros((7, 3, 2)))[1], dtype=tf.float64)
    assert h.shape == (3, 4) and c.dtype == tf.float64 and not np.any(h.numpy())
    assert [s.shape for s in cell.get_initial_state(2)] == [(2, 4), (2, 4)]
    assert [s.shape for s in tf.keras.layers.GRUCell(5).get_initial_state(inputs=tf.zeros((6, 2)))] == [(6, 5)]
    assert tf.keras.layers.SimpleRNNCell(3).get_initial_state(tf.zeros((2, 9)))[0].shape == (2, 3)
