"""A text tensor (chainrule holds str) compared with bytes, as TensorFlow programs write it (`steps != b''`)."""

import numpy as np

import chainrule as tf


def test_bytes_scalar_and_lists():
    t = tf.constant([["Open"], [""], ["Read"]])
    np.testing.assert_array_equal((t != b"").numpy(), [[True], [False], [True]])
    np.testing.assert_array_equal((t == [[b"Open"], [b""], [b"x"]]).numpy(), [[True], [True], [False]])
    np.testing.assert_array_equal((t == np.array([[b"Open"]])).numpy(), [[True], [False], [False]])
    assert bool(tf.constant("é") == "é".encode("utf-8"))


def test_numbers_and_text_unchanged():
    assert (tf.constant([1, 2]) == 2).numpy().tolist() == [False, True]
    assert (tf.constant(["a", "b"]) != "a").numpy().tolist() == [False, True]
