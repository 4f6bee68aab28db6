"""tf.strings' elementwise ops (to_number, lower, upper, strip, regex_replace, length, as_string, substr,
to_hash_bucket_*) keep a RaggedTensor's rows, as TensorFlow dispatches them; a dense tensor stays dense."""

import numpy as np

import chainrule as tf


def test_to_number_of_split_text_stays_ragged():
    ratings = tf.strings.to_number(tf.strings.split(tf.constant(["4.0,5.0", "3.0,1.0,2.0"]), ","), tf.float32)
    assert isinstance(ratings, tf.RaggedTensor)
    assert ratings.to_list() == [[4.0, 5.0], [3.0, 1.0, 2.0]]
    # rows of one length stay ragged too (to_tensor() then gives the matrix)
    equal = tf.strings.to_number(tf.strings.split(["1,2", "3,4"], ","), out_type=tf.int32)
    np.testing.assert_array_equal(equal.to_tensor().numpy(), [[1, 2], [3, 4]])


def test_other_elementwise_ops_keep_rows():
    words = tf.strings.split(["Hello World", " a "])
    assert tf.strings.lower(words).to_list() == [[b"hello", b"world"], [b"a"]]
    assert tf.strings.length(words).to_list() == [[5, 5], [1]]
    assert tf.strings.substr(words, 0, 1).to_list() == [[b"H", b"W"], [b"a"]]
    assert tf.strings.to_hash_bucket_fast(words, 4).to_list() == [
        tf.strings.to_hash_bucket_fast(["Hello", "World"], 4).numpy().tolist(),
        tf.strings.to_hash_bucket_fast(["a"], 4).numpy().tolist()]
    assert tf.strings.as_string(tf.ragged.constant([[1], [2, 3]])).to_list() == [[b"1"], [b"2", b"3"]]


def test_dense_inputs_are_unchanged():
    out = tf.strings.to_number(string_tensor=tf.constant([["1", "2"]]))
    assert isinstance(out, tf.Tensor) and out.numpy().tolist() == [[1.0, 2.0]]
