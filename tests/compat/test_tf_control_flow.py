"""tf.cond/case/switch_case/while_loop/map_fn/scan/py_function and tf.gather_nd/scatter_nd, with gradients."""
import numpy as np
import pytest

import chainrule as tf


def test_branches():
    x = tf.constant(3.0)
    assert float(tf.cond(x > 2.0, lambda: x * 2, lambda: x)) == 6.0
    assert float(tf.case([(x < 0, lambda: tf.constant(-1.0)), (x > 0, lambda: tf.constant(1.0))])) == 1.0
    assert float(tf.case([(x < 0, lambda: tf.constant(-1.0))], default=lambda: tf.constant(0.0))) == 0.0
    with pytest.raises(ValueError, match="exclusive"):
        tf.case([(x > 0, lambda: 1), (x > 1, lambda: 2)], exclusive=True)
    assert tf.switch_case(1, [lambda: "a", lambda: "b"]) == "b"
    assert tf.switch_case(7, [lambda: "a", lambda: "b"]) == "b"  # out of range: the last branch, as TensorFlow
    assert tf.switch_case(7, {0: lambda: "a"}, default=lambda: "d") == "d"


def test_loops_and_maps_and_their_gradients():
    w = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        i, total = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * w), (tf.constant(0), tf.constant(1.0)))
    assert int(i) == 3 and float(total) == 8.0
    assert float(tape.gradient(total, w)) == 12.0  # d(w^3)/dw
    assert tf.while_loop(lambda v: v < 100, lambda v: v * 3, 1, maximum_iterations=2) == 9
    squares = tf.map_fn(lambda row: tf.reduce_sum(row * row), tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(squares.numpy(), [5.0, 25.0])
    np.testing.assert_array_equal(tf.scan(lambda a, x: a + x, tf.constant([1, 2, 3, 4])).numpy(), [1, 3, 6, 10])
    np.testing.assert_array_equal(tf.scan(lambda a, x: a * x, tf.constant([2.0, 3.0]), initializer=tf.constant(1.0))
                                  .numpy(), [2.0, 6.0])
    out = tf.py_function(lambda a, b: a.numpy() + b.numpy(), [tf.constant(1.0), tf.constant(2.0)], Tout=tf.float32)
    assert float(out) == 3.0


def test_gather_nd_and_scatter_nd_as_tensorflow_documents_them():
    values = tf.Variable(np.arange(8, dtype="float32").reshape(2, 2, 2))
    with tf.GradientTape() as tape:
        rows = tf.gather_nd(values, [[1], [0]])             # whole slices
        points = tf.gather_nd(values, [[0, 1, 1], [1, 0, 0]])
        loss = tf.reduce_sum(rows) + tf.reduce_sum(points * 10)
    np.testing.assert_array_equal(rows.numpy(), values.numpy()[[1, 0]])
    np.testing.assert_array_equal(points.numpy(), [3.0, 4.0])
    expected = np.ones((2, 2, 2), "float32")
    expected[0, 1, 1] += 10
    expected[1, 0, 0] += 10
    np.testing.assert_array_equal(tape.gradient(loss, values).numpy(), expected)
    with pytest.raises(ValueError, match=r"does not index into param shape \[2, 2, 2\]"):
        tf.gather_nd(values, [[2, 0]])
    scattered = tf.scatter_nd([[4], [3], [1], [7]], [9.0, 10.0, 11.0, 12.0], [8])
    np.testing.assert_array_equal(scattered.numpy(), [0, 11, 0, 10, 9, 0, 0, 12])
    base = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_update(base, [[0], [2]], [7.0, 9.0]).numpy(), [7, 2, 9])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_add(base, [[0], [0]], [1.0, 1.0]).numpy(), [3, 2, 3])
