"""Ragged batches of text, as the character-level tutorials use them: StringLookup on a RaggedTensor (its rows kept,
forward and inverted) and tf.strings.reduce_join along the ragged axis."""

import pytest

import chainrule as tf


def test_string_lookup_maps_a_ragged_batch_and_back():
    chars = tf.strings.unicode_split(["abc", "xa"], input_encoding="UTF-8")
    ids_from_chars = tf.keras.layers.StringLookup(vocabulary=list("abc"), mask_token=None)
    ids = ids_from_chars(chars)
    assert isinstance(ids, tf.RaggedTensor) and ids.to_list() == [[1, 2, 3], [0, 1]]
    chars_from_ids = tf.keras.layers.StringLookup(vocabulary=ids_from_chars.get_vocabulary(), invert=True,
                                                  mask_token=None)
    assert chars_from_ids(ids).to_list() == [[b"a", b"b", b"c"], [b"[UNK]", b"a"]]
    assert ids.to_tensor().numpy().tolist() == [[1, 2, 3], [0, 1, 0]]


def test_string_lookup_multi_hot_encodes_each_row_of_a_ragged_batch():
    # as TensorFlow's: one multi-hot row per ragged row (a one-hot of ragged rows is still refused)
    layer = tf.keras.layers.StringLookup(vocabulary=list("ab"), output_mode="multi_hot")
    assert layer(tf.strings.unicode_split(["ab", "a"], "UTF-8")).numpy().tolist() == [[0, 1, 1], [0, 1, 0]]


def test_reduce_join_along_the_ragged_axis():
    chars = tf.strings.unicode_split(["héllo", "", "ab"], "UTF-8")
    assert tf.strings.reduce_join(chars, axis=-1).numpy().tolist() == ["héllo".encode("utf-8"), b"", b"ab"]
    assert tf.strings.reduce_join(chars, axis=1, separator="-", keepdims=True).shape == (3, 1)
    assert tf.strings.reduce_join(chars).numpy() == "hélloab".encode("utf-8")
    with pytest.raises(ValueError, match="ragged axis"):
        tf.strings.reduce_join(chars, axis=0)
