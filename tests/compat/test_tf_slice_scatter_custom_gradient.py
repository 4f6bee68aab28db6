"""tf.slice, tf.tensor_scatter_nd_sub/min/max and tf.custom_gradient (TensorFlow's tensor-slicing and advanced-autodiff
guides)."""

import numpy as np
import pytest

import chainrule as tf


def test_slice_with_minus_one_sizes():
    t = tf.constant(np.arange(24).reshape(2, 3, 4))
    np.testing.assert_array_equal(tf.slice(t, [1, 0, 1], [-1, 2, -1]).numpy(), np.arange(24).reshape(2, 3, 4)[1:, :2, 1:])
    np.testing.assert_array_equal(tf.slice(tf.constant([0, 1, 2, 3, 4]), begin=[1], size=[3]).numpy(), [1, 2, 3])
    with pytest.raises(ValueError, match="one entry per axis"):
        tf.slice(t, [0, 0], [1, 1])
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.slice(x, [1], [2]) * 2.0)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 2.0, 2.0])


def test_scatter_sub_min_max_as_the_guide():
    t11 = tf.constant([[-2, -7, 0], [-9, 0, 1], [0, -3, -8]])
    indices = [[0, 2], [1, 1], [2, 0]]
    assert tf.tensor_scatter_nd_min(t11, indices=indices, updates=[-6, -5, -4]).numpy().tolist() == \
        [[-2, -7, -6], [-9, -5, 1], [-4, -3, -8]]
    assert tf.tensor_scatter_nd_max(t11, indices=indices, updates=[6, 5, 4]).numpy().tolist() == \
        [[-2, -7, 6], [-9, 5, 1], [4, -3, -8]]
    t8 = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tf.tensor_scatter_nd_sub(t8, indices=[[0, 0], [0, 0], [1, 1]], updates=[1.0, 2.0, 4.0]).numpy().tolist() == \
        [[-2.0, 2.0], [3.0, 0.0]]


def test_scatter_max_repeated_indices_rows_and_gradient():
    base = tf.constant([1.0, 5.0, 2.0])
    out = tf.tensor_scatter_nd_max(base, [[0], [0], [2]], [3.0, 4.0, 0.0])
    assert out.numpy().tolist() == [4.0, 5.0, 2.0]
    rows = tf.tensor_scatter_nd_min(tf.zeros((2, 2)), [[1]], [[-1.0, 1.0]])
    assert rows.numpy().tolist() == [[0.0, 0.0], [-1.0, 0.0]]
    t, u = tf.Variable([1.0, 5.0, 2.0]), tf.Variable([3.0, 4.0, 0.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.tensor_scatter_nd_max(t, [[0], [0], [2]], u) * tf.constant([1.0, 2.0, 3.0]))
    dt, du = tape.gradient(y, [t, u])
    np.testing.assert_array_equal(dt.numpy(), [0.0, 2.0, 3.0])  # entry 0 came from an update, 2 kept its own value
    np.testing.assert_array_equal(du.numpy(), [0.0, 1.0, 0.0])


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")  # the guide feeds exp(100) in float32
def test_custom_gradient_as_the_guide():
    clip = tf.custom_gradient(lambda y: (y * 1.0, lambda dy: tf.clip_by_norm(dy, 0.5)))
    w = tf.Variable([3.0, 4.0])
    with tf.GradientTape() as t:
        out = tf.reduce_sum(clip(w * 2.0) * 10.0)
    np.testing.assert_allclose(t.gradient(out, w).numpy(), [2 ** -0.5] * 2, rtol=1e-6)  # (10, 10) clipped to norm 0.5, times 2

    @tf.custom_gradient
    def log1pexp(x):
        e = tf.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))
        return tf.math.log(1 + e), grad

    x = tf.constant(100.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    assert float(tape.gradient(y, x)) == 1.0  # the stable formula's gradient, not exp(100)/inf
