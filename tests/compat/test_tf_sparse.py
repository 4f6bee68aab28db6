"""tf.sparse.SparseTensor and its functions against dense NumPy, with gradients through the values."""
import numpy as np
import pytest

import chainrule as tf

DENSE = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 0.0], [0.0, 0.0, -3.0]], "float32")


def test_from_dense_to_dense_round_trip_and_shape():
    sp = tf.sparse.from_dense(DENSE)
    assert sp.indices.numpy().tolist() == [[0, 1], [1, 0], [2, 2]] and sp.values.numpy().tolist() == [2, 1.5, -3]
    assert sp.shape.as_list() == [3, 3] and sp.dtype == np.float32
    np.testing.assert_array_equal(tf.sparse.to_dense(sp).numpy(), DENSE)
    filled = tf.sparse.to_dense(sp, default_value=9.0).numpy()
    assert filled[0, 0] == 9 and filled[0, 1] == 2


def test_gradients_reach_the_values_and_the_dense_operand():
    values = tf.Variable([2.0, 1.5, -3.0])
    b = tf.Variable(np.arange(6, dtype="float32").reshape(3, 2))
    with tf.GradientTape() as tape:
        sp = tf.sparse.SparseTensor([[0, 1], [1, 0], [2, 2]], values, [3, 3])
        out = tf.sparse.sparse_dense_matmul(sp, b)
        loss = tf.reduce_sum(out * out)
    np.testing.assert_allclose(out.numpy(), DENSE @ b.numpy())
    g_values, g_b = tape.gradient(loss, [values, b])
    g_dense = 2 * (DENSE @ b.numpy()) @ b.numpy().T
    np.testing.assert_allclose(g_values.numpy(), [g_dense[0, 1], g_dense[1, 0], g_dense[2, 2]], rtol=1e-6)
    np.testing.assert_allclose(g_b.numpy(), DENSE.T @ (2 * DENSE @ b.numpy()), rtol=1e-6)


def test_reorder_add_reduce_retain_and_scalar_product():
    sp = tf.sparse.SparseTensor([[2, 2], [0, 1]], [5.0, 1.0], [3, 3])
    ordered = tf.sparse.reorder(sp)
    assert ordered.indices.numpy().tolist() == [[0, 1], [2, 2]] and ordered.values.numpy().tolist() == [1, 5]
    total = tf.sparse.add(sp, tf.sparse.from_dense(DENSE))
    np.testing.assert_array_equal(tf.sparse.to_dense(total).numpy(), DENSE + tf.sparse.to_dense(sp).numpy())
    np.testing.assert_array_equal(tf.sparse.add(sp, DENSE).numpy(), DENSE + tf.sparse.to_dense(sp).numpy())
    np.testing.assert_array_equal(tf.sparse.reduce_sum(sp, axis=0).numpy(), [0, 1, 5])
    assert tf.sparse.retain(sp, [True, False]).values.numpy().tolist() == [5.0]
    assert (sp * 2.0).values.numpy().tolist() == [10.0, 2.0]


def test_bad_sparse_tensors_name_what_is_wrong():
    with pytest.raises(ValueError, match="values must be a vector of 2 entries"):
        tf.sparse.SparseTensor([[0, 0], [1, 1]], [1.0], [2, 2])
    with pytest.raises(ValueError, match=r"indices\[1\] = \[2, 0\] is out of bounds of dense_shape \[2, 2\]"):
        tf.sparse.SparseTensor([[0, 0], [2, 0]], [1.0, 2.0], [2, 2])
    with pytest.raises(ValueError, match="repeat an entry"):
        tf.sparse.to_dense(tf.sparse.SparseTensor([[0, 0], [0, 0]], [1.0, 2.0], [2, 2]))
    with pytest.raises(TypeError, match="expected a SparseTensor"):
        tf.sparse.to_dense(DENSE)
