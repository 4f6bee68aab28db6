"""RaggedTensor indexed by (rows slice, inner slice): rt[:, :n] trims every row (TensorFlow's transformer tutorial
trims its token rows this way); an int into the ragged dimension is refused, as in TensorFlow."""

import pytest

import chainrule as tf


def test_rows_and_inner_slices():
    rt = tf.ragged.constant([[1, 2, 3, 4], [5], [6, 7]])
    assert rt[:, :2].to_list() == [[1, 2], [5], [6, 7]]
    assert rt[:, 1:].to_list() == [[2, 3, 4], [], [7]]
    assert rt[:, :-1].to_list() == [[1, 2, 3], [], [6]]
    assert rt[1:, -1:].to_list() == [[5], [7]]
    assert rt[::2, ::2].to_list() == [[1, 3], [6]]
    assert rt[:].to_list() == rt.to_list() and rt[(slice(None),)].to_list() == rt.to_list()


def test_then_to_tensor_as_the_tutorial():
    en = tf.ragged.constant([[2, 10, 11, 3], [2, 12, 3]], dtype=tf.int64)
    assert en[:, :-1].to_tensor().numpy().tolist() == [[2, 10, 11], [2, 12, 0]]
    assert en[:, 1:].to_tensor().numpy().tolist() == [[10, 11, 3], [12, 3, 0]]


def test_uniform_inner_axes_and_errors():
    rt = tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert rt[:, :1].to_list() == [[[1, 2]], [[5, 6]]]
    assert rt[:, :, 1].to_list() == [[2, 4], [6]]
    with pytest.raises(ValueError, match="Cannot index into an inner ragged dimension"):
        tf.ragged.constant([[1, 2], [3]])[:, 0]
    with pytest.raises(TypeError, match="RaggedTensor indices"):
        tf.ragged.constant([[1, 2], [3]])["a"]
