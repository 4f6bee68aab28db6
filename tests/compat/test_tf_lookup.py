"""tf.lookup: StaticHashTable, StaticVocabularyTable, KeyValueTensorInitializer and TextFileInitializer, as
TensorFlow's (keras-io's memory-efficient embeddings example maps movies to blocks with a StaticHashTable)."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras.layers.preprocessing.hash_functions import fingerprint64


def test_static_hash_table_maps_keys_of_any_shape_and_defaults_the_rest():
    table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a", "b", "c"], [10, 20, 30]),
                                      default_value=-1)
    out = table.lookup(tf.constant([["a", "zz"], ["c", "b"]]))
    assert out.dtype == tf.int32  # Python ints are int32, as tf.constant makes them
    np.testing.assert_array_equal(out.numpy(), [[10, -1], [30, 20]])
    np.testing.assert_array_equal(table[tf.constant(["b"])].numpy(), [20])
    assert int(table.size()) == 3 and table.key_dtype == tf.string and table.value_dtype == tf.int32
    keys, values = table.export()
    assert sorted(keys.numpy().tolist()) == [b"a", b"b", b"c"] and sorted(values.numpy().tolist()) == [10, 20, 30]


def test_integer_keys_and_float_values_with_given_dtypes():
    init = tf.lookup.KeyValueTensorInitializer(tf.constant([3, 7], dtype=tf.int64), [0.5, 1.5],
                                               value_dtype=tf.float64)
    table = tf.lookup.StaticHashTable(init, default_value=0.0)
    out = table.lookup(tf.constant([7, 3, 4], dtype=tf.int64))
    assert out.dtype == tf.float64
    np.testing.assert_array_equal(out.numpy(), [1.5, 0.5, 0.0])


def test_a_key_tensor_of_another_dtype_is_refused_as_tensorflow():
    table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a"], [1]), default_value=0)
    with pytest.raises(TypeError, match="Keys must be dtype"):
        table.lookup(tf.constant([1, 2]))


def test_lookup_inside_a_layer_that_a_functional_model_calls_symbolically():
    class Blocks(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["x", "y"], [0, 1]), -1)

        def call(self, inputs):
            return tf.cast(self.table.lookup(inputs) == 1, tf.float32)

    inputs = tf.keras.Input(shape=(), dtype=tf.string)
    model = tf.keras.Model(inputs, Blocks()(inputs))
    np.testing.assert_array_equal(model(tf.constant(["y", "x", "q"])).numpy(), [1.0, 0.0, 0.0])


def test_static_vocabulary_table_sends_unknown_keys_to_hashed_buckets():
    init = tf.lookup.KeyValueTensorInitializer(["emerson", "lake", "palmer"], tf.constant([0, 1, 2], tf.int64))
    table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=5)
    out = table.lookup(tf.constant(["lake", "tarkus"]))
    assert out.dtype == tf.int64
    assert out.numpy()[0] == 1
    assert out.numpy()[1] == 3 + fingerprint64(b"tarkus") % 5  # TensorFlow's to_hash_bucket_fast
    assert int(table.size()) == 8


def test_static_vocabulary_table_errors():
    with pytest.raises(ValueError, match="num_oov_buckets"):
        tf.lookup.StaticVocabularyTable(tf.lookup.KeyValueTensorInitializer(["a"], tf.constant([0], tf.int64)), 0)
    with pytest.raises(TypeError, match="value_dtype"):
        tf.lookup.StaticVocabularyTable(tf.lookup.KeyValueTensorInitializer(["a"], [0]), 1)  # int32 values


def test_initializer_shapes_are_checked():
    with pytest.raises(ValueError, match="same length"):
        tf.lookup.KeyValueTensorInitializer(["a", "b"], [1])


def test_text_file_initializer_reads_columns_lines_and_line_numbers(tmp_path):
    path = tmp_path / "vocab.tsv"
    path.write_text("apple\t5\nbanana\t7\ncherry\t9\n", encoding="utf-8")
    by_column = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(str(path), tf.string, 0, tf.int64, 1), default_value=-1)
    np.testing.assert_array_equal(by_column.lookup(tf.constant(["banana", "kiwi"])).numpy(), [7, -1])
    whole_lines = tf.lookup.TextFileInitializer(str(path), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                                tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
    vocabulary = tf.lookup.StaticVocabularyTable(whole_lines, num_oov_buckets=1)
    np.testing.assert_array_equal(vocabulary.lookup(tf.constant(["cherry\t9", "apple"])).numpy(), [2, 3])
    with pytest.raises(ValueError, match="columns"):
        tf.lookup.TextFileInitializer(str(path), tf.string, 0, tf.int64, 4)
