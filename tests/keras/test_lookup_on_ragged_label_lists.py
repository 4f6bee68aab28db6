"""StringLookup/IntegerLookup on a 2-D RaggedTensor in 'multi_hot', 'count' and 'tf_idf' modes give one row per
list, as TensorFlow's (keras-io's multi-label classification binarizes label lists so); tf.ragged.constant takes a
NumPy object array of lists (a pandas column) as TensorFlow does."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers


def test_ragged_constant_of_an_object_array_of_lists():
    column = np.empty(3, dtype=object)
    column[:] = [["a", "b"], ["c"], ["a", "c", "d"]]
    ragged = tf.ragged.constant(column)
    assert ragged.row_lengths().numpy().tolist() == [2, 1, 3]
    assert tf.ragged.constant(np.array([[1, 2], [3, 4]])).to_tensor().numpy().tolist() == [[1, 2], [3, 4]]


def test_multi_hot_of_ragged_label_lists():
    labels = tf.ragged.constant([["cs.LG", "cs.CV"], ["cs.CV"], ["stat.ML", "cs.LG", "cs.LG"], []])
    lookup = layers.StringLookup(output_mode="multi_hot")
    lookup.adapt(labels)
    vocab = lookup.get_vocabulary()
    assert vocab == ["[UNK]", "cs.LG", "cs.CV", "stat.ML"]
    out = lookup(tf.ragged.constant([["cs.CV", "cs.LG"], ["astro-ph"], []])).numpy()
    np.testing.assert_array_equal(out, [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    assert out.dtype == np.float32
    # a plain list of one label list is one row too
    np.testing.assert_array_equal(lookup([["stat.ML", "cs.LG"]]).numpy(), [[0, 1, 0, 1]])


def test_count_of_ragged_integer_rows_and_int_mode_keeps_the_rows():
    lookup = layers.IntegerLookup(vocabulary=[7, 9], output_mode="count")
    np.testing.assert_array_equal(lookup(tf.ragged.constant([[7, 7, 9], [4]])).numpy(), [[0, 2, 1], [1, 0, 0]])
    ids = layers.StringLookup(vocabulary=["a", "b"])(tf.ragged.constant([["b"], ["a", "z"]]))
    assert ids.to_list() == [[2], [1, 0]]


def test_one_hot_of_ragged_rows_is_refused_with_the_modes_that_work():
    lookup = layers.StringLookup(vocabulary=["a"], output_mode="one_hot")
    with pytest.raises(ValueError, match="multi_hot"):
        lookup(tf.ragged.constant([["a"], ["a", "a"]]))
