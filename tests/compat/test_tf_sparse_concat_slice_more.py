"""tf.sparse.concat, slice, map_values, transpose and reduce_max (TensorFlow's sparse-tensor guide), and tf.data's
clear refusal of SparseTensor / RaggedTensor slices."""

import numpy as np
import pytest

import chainrule as tf


def _dense(sp):
    return tf.sparse.to_dense(sp).numpy()


def test_concat_along_each_axis_and_expanding():
    a = tf.sparse.SparseTensor([[0, 1], [1, 0]], [1.0, 2.0], [2, 2])
    b = tf.sparse.SparseTensor([[0, 0]], [3.0], [2, 3])
    np.testing.assert_array_equal(_dense(tf.sparse.concat(1, [a, b])), np.concatenate([_dense(a), _dense(b)], 1))
    np.testing.assert_array_equal(_dense(tf.sparse.concat(0, [a, a])), np.concatenate([_dense(a), _dense(a)], 0))
    with pytest.raises(ValueError, match="sizes off axis 0 must agree"):
        tf.sparse.concat(0, [a, b])
    wide = tf.sparse.concat(0, [a, b], expand_nonconcat_dims=True)
    assert wide.shape.as_list() == [4, 3] and _dense(wide)[2, 0] == 3.0
    indices = tf.sparse.concat(-1, [a, b]).indices.numpy().tolist()
    assert indices == sorted(indices)  # row-major order


def test_slice_transpose_map_values():
    st = tf.sparse.SparseTensor([[0, 0], [1, 2], [2, 3]], [1, 2, 3], [3, 4])
    np.testing.assert_array_equal(_dense(tf.sparse.slice(st, [1, 1], [5, 2])), _dense(st)[1:, 1:3])
    np.testing.assert_array_equal(_dense(tf.sparse.transpose(st)), _dense(st).T)
    cube = tf.sparse.SparseTensor([[0, 1, 2]], [7], [1, 2, 3])
    np.testing.assert_array_equal(_dense(tf.sparse.transpose(cube, [2, 0, 1])), _dense(cube).transpose(2, 0, 1))
    np.testing.assert_array_equal(_dense(tf.sparse.map_values(tf.multiply, st, st)), _dense(st) ** 2)
    with pytest.raises(ValueError, match="same indices"):
        tf.sparse.map_values(tf.add, st, tf.sparse.SparseTensor([[0, 1]], [1], [3, 4]))
    with pytest.raises(ValueError, match="not a permutation"):
        tf.sparse.transpose(st, [0, 0])


def test_reduce_max_ignores_the_implicit_zeros():
    st = tf.sparse.SparseTensor([[0, 0], [0, 2], [1, 1]], [-4.0, -1.0, -7.0], [3, 3])
    assert float(tf.sparse.reduce_max(st)) == -1.0
    rows = tf.sparse.reduce_max(st, axis=1).numpy()
    assert rows[:2].tolist() == [-1.0, -7.0] and rows[2] == -np.inf  # a row without values


def test_datasets_refuse_sparse_and_ragged_slices_clearly():
    with pytest.raises(TypeError, match="dense arrays only, got a SparseTensor"):
        tf.data.Dataset.from_tensor_slices(tf.sparse.SparseTensor([[0, 0]], [1], [2, 2]))
    with pytest.raises(TypeError, match="got a RaggedTensor"):
        tf.data.Dataset.from_tensor_slices({"x": tf.ragged.constant([[1], [2, 3]])})
