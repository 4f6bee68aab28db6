"""tf.RaggedTensor and tf.ragged: construction, rows, padding, arithmetic, as TensorFlow documents them."""
import numpy as np
import pytest

import chainrule as tf

ROWS = [[3, 1, 4, 1], [], [5, 9, 2], [6], []]


def test_the_constructors_agree():
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    expected = tf.ragged.constant(ROWS).to_list()
    assert expected == ROWS
    for rt in (tf.RaggedTensor.from_row_splits(values, [0, 4, 4, 7, 8, 8]),
               tf.RaggedTensor.from_row_lengths(values, [4, 0, 3, 1, 0]),
               tf.RaggedTensor.from_row_starts(values, [0, 4, 4, 7, 8]),
               tf.RaggedTensor.from_row_limits(values, [4, 4, 7, 8, 8]),
               tf.RaggedTensor.from_value_rowids(values, [0, 0, 0, 0, 2, 2, 2, 3], nrows=5)):
        assert rt.to_list() == expected
    padded = tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0]], padding=0)
    assert padded.to_list() == [[1, 2], [3]]
    assert tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0]], lengths=[3, 1]).to_list() == [[1, 2, 0], [3]]


def test_rows_shape_and_padding():
    rt = tf.ragged.constant(ROWS)
    assert rt.shape.as_list() == [5, None] and rt.ragged_rank == 1 and rt.nrows() == 5
    assert rt.row_lengths().numpy().tolist() == [4, 0, 3, 1, 0]
    assert rt.value_rowids().numpy().tolist() == [0, 0, 0, 0, 2, 2, 2, 3]
    assert rt[2].numpy().tolist() == [5, 9, 2] and rt[-2].numpy().tolist() == [6]
    assert rt[1:3].to_list() == [[], [5, 9, 2]] and rt[0, 2].numpy() == 4
    np.testing.assert_array_equal(rt.to_tensor(default_value=-1).numpy(),
                                  [[3, 1, 4, 1], [-1] * 4, [5, 9, 2, -1], [6, -1, -1, -1], [-1] * 4])
    assert rt.to_tensor(shape=[2, 2]).numpy().tolist() == [[3, 1], [0, 0]]
    assert [r.tolist() for r in rt.numpy()] == ROWS
    with pytest.raises(IndexError, match="row 5 is out of range"):
        rt[5]


def test_two_ragged_dimensions():
    rt = tf.ragged.constant([[[1, 2], [3]], [], [[4, 5, 6]]])
    assert rt.ragged_rank == 2 and rt.shape.as_list() == [3, None, None]
    assert rt.bounding_shape().numpy().tolist() == [3, 2, 3]
    assert rt.to_tensor().numpy().tolist() == [[[1, 2, 0], [3, 0, 0]], [[0, 0, 0], [0, 0, 0]],
                                               [[4, 5, 6], [0, 0, 0]]]
    assert rt[0].to_list() == [[1, 2], [3]] and rt.flat_values.numpy().tolist() == [1, 2, 3, 4, 5, 6]
    assert [s.numpy().tolist() for s in rt.nested_row_splits] == [[0, 2, 2, 3], [0, 2, 3, 6]]
    assert tf.ragged.stack([tf.ragged.constant([[1], [2, 3]]), tf.ragged.constant([[4]])]).to_list() == \
        [[[1], [2, 3]], [[4]]]


def test_arithmetic_keeps_the_rows_and_the_gradient():
    values = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        rt = tf.RaggedTensor.from_row_lengths(values, [2, 1])
        out = (rt * 3.0 + 1.0) - rt
        loss = tf.reduce_sum(out.flat_values ** 2)
    assert out.to_list() == [[3.0, 5.0], [7.0]]
    np.testing.assert_allclose(tape.gradient(loss, values).numpy(), 2 * np.array([3.0, 5.0, 7.0]) * 2)
    doubled = tf.ragged.map_flat_values(tf.multiply, rt, 2.0)
    assert doubled.to_list() == [[2.0, 4.0], [6.0]]
    with pytest.raises(ValueError, match="different row lengths"):
        rt + tf.RaggedTensor.from_row_lengths([1.0, 2.0, 3.0], [1, 2])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="row_splits must start at 0"):
        tf.RaggedTensor.from_row_splits([1, 2], [0, 3])
    with pytest.raises(ValueError, match="value_rowids must be sorted"):
        tf.RaggedTensor.from_value_rowids([1, 2], [1, 0])
    with pytest.raises(ValueError, match="expected a nested list"):
        tf.ragged.constant(3)
