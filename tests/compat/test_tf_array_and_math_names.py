"""TensorFlow names real programs reach for: tf.math.reduce_prod/reduce_std/top_k/l2_normalize/divide_no_nan and
friends, tf.sort/argsort (direction), reverse, roll, unstack, repeat, meshgrid, tensordot, boolean_mask; values as
TensorFlow documents them, gradients where TensorFlow has them."""

import numpy as np
import pytest

import chainrule as tf


def test_math_reductions_and_elementwise():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert float(tf.math.reduce_prod(x)) == 24.0 and float(tf.reduce_prod(x)) == 24.0
    np.testing.assert_allclose(tf.math.reduce_prod(x, axis=1).numpy(), [2.0, 12.0])
    np.testing.assert_allclose(float(tf.math.reduce_std(x)), np.std([1, 2, 3, 4]), rtol=1e-6)
    np.testing.assert_allclose(float(tf.math.reduce_euclidean_norm(x)), np.sqrt(30.0), rtol=1e-6)
    np.testing.assert_allclose(tf.math.l2_normalize(x, axis=1).numpy(),
                               x.numpy() / np.linalg.norm(x.numpy(), axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(tf.math.squared_difference(x, 1.0).numpy(), [[0, 1], [4, 9]])
    np.testing.assert_allclose(tf.math.softmax(x).numpy().sum(axis=-1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(tf.round([0.5, 1.5, 2.5]).numpy(), [0.0, 2.0, 2.0])  # half to even, as TF
    np.testing.assert_array_equal(tf.math.is_nan(tf.constant([np.nan, 1.0])).numpy(), [True, False])
    np.testing.assert_array_equal(tf.sign(tf.constant([-2.0, 0.0, 3.0])).numpy(), [-1.0, 0.0, 1.0])


def test_top_k_is_a_named_pair():
    result = tf.math.top_k(tf.constant([[1.0, 3.0, 2.0]]), k=2)
    np.testing.assert_array_equal(result.values.numpy(), [[3.0, 2.0]])
    assert result.indices.dtype == "int32"
    np.testing.assert_array_equal(result.indices.numpy(), [[1, 2]])


def test_divide_no_nan_is_zero_where_the_divisor_is_and_its_gradient_finite():
    v = tf.Variable([1.0, 2.0])
    d = tf.Variable([0.0, 4.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.math.divide_no_nan(v, d))
    np.testing.assert_allclose(tf.math.divide_no_nan(v, d).numpy(), [0.0, 0.5])
    gv, gd = tape.gradient(y, [v, d])
    np.testing.assert_allclose(gv.numpy(), [0.0, 0.25])
    np.testing.assert_allclose(gd.numpy(), [0.0, -2.0 / 16.0])


def test_sort_argsort_directions():
    np.testing.assert_array_equal(tf.sort([3.0, 1.0, 2.0], direction="DESCENDING").numpy(), [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(tf.argsort([3.0, 1.0, 2.0]).numpy(), [1, 2, 0])
    assert tf.argsort([3.0, 1.0]).dtype == "int32"
    with pytest.raises(ValueError, match="direction"):
        tf.sort([1.0], direction="UP")


def test_array_functions():
    np.testing.assert_array_equal(tf.reverse([[1, 2], [3, 4]], [1]).numpy(), [[2, 1], [4, 3]])
    np.testing.assert_array_equal(tf.roll([1, 2, 3], shift=1, axis=0).numpy(), [3, 1, 2])
    rows = tf.unstack(tf.constant([[1, 2], [3, 4]]))
    assert len(rows) == 2 and rows[1].numpy().tolist() == [3, 4]
    np.testing.assert_array_equal(tf.repeat([1, 2], 2).numpy(), [1, 1, 2, 2])
    xx, yy = tf.meshgrid([1, 2], [3, 4, 5])
    assert xx.shape == (3, 2) and yy.shape == (3, 2)
    assert tf.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape == (2, 4)


def test_boolean_mask_values_gradient_and_shape_check():
    np.testing.assert_array_equal(tf.boolean_mask([[1, 2], [3, 4], [5, 6]], [True, False, True]).numpy(),
                                  [[1, 2], [5, 6]])
    np.testing.assert_array_equal(tf.boolean_mask(tf.constant([[1, 2], [3, 4]]), [[True, False], [False, True]])
                                  .numpy(), [1, 4])
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.boolean_mask(v, [True, False, True]) * tf.constant([2.0, 5.0]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [2.0, 0.0, 5.0])
    with pytest.raises(ValueError, match="mask shape"):
        tf.boolean_mask([1, 2, 3], [True, False])


def test_tensorflow_initializer_names():
    # as Keras's guide "Introduction to Keras for researchers" builds a layer's weights
    w = tf.Variable(initial_value=tf.random_normal_initializer()(shape=(200, 50), dtype="float32"), trainable=True)
    b = tf.Variable(initial_value=tf.zeros_initializer()(shape=(50,), dtype="float32"), trainable=True)
    assert w.shape == (200, 50) and w.dtype == "float32"
    assert abs(float(tf.math.reduce_std(w)) - 0.05) < 0.005  # TensorFlow 2's stddev=0.05
    np.testing.assert_array_equal(b.numpy(), np.zeros(50))
    np.testing.assert_array_equal(np.asarray(tf.ones_initializer()(shape=(2,))), [1.0, 1.0])
    u = np.asarray(tf.random_uniform_initializer(minval=-1.0, maxval=1.0)(shape=(1000,)))
    assert -1.0 <= u.min() and u.max() <= 1.0 and u.std() > 0.5


def test_nn_activation_names():
    x = tf.constant([-8.0, -1.0, 0.0, 2.0, 7.0])
    xs = x.numpy()
    np.testing.assert_allclose(tf.nn.relu6(x).numpy(), np.clip(xs, 0, 6))
    np.testing.assert_allclose(tf.nn.softsign(x).numpy(), xs / (1 + np.abs(xs)), rtol=1e-6)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(tf.nn.selu(x).numpy(), scale * np.where(xs > 0, xs, alpha * np.expm1(xs)), rtol=1e-5)
    np.testing.assert_allclose(tf.nn.swish(x, beta=2.0).numpy(), xs / (1 + np.exp(-2 * xs)), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(tf.nn.swish(x).numpy(), tf.nn.silu(x).numpy())
    np.testing.assert_array_equal(tf.nn.top_k(x, k=2).values.numpy(), [7.0, 2.0])
    np.testing.assert_allclose(np.linalg.norm(tf.nn.l2_normalize(x).numpy()), 1.0, rtol=1e-6)
    v = tf.Variable([1.0, -2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.silu(v))
    s = 1 / (1 + np.exp(-v.numpy()))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), s + v.numpy() * s * (1 - s), rtol=1e-5)
