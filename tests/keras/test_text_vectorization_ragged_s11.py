"""TextVectorization(ragged=True): int output as a tf.RaggedTensor of each text's token ids, without padding
(TensorFlow's NMT-with-attention tutorial pads its rows itself with ``.to_tensor()``); output_sequence_length still
truncates; other output modes refuse ragged as Keras does."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers


def _adapted(**kwargs):
    layer = layers.TextVectorization(ragged=True, **kwargs)
    layer.adapt(["the cat sat", "the dog", "a cat and the dog ran"])
    return layer


def test_ragged_output_has_one_row_of_ids_per_text():
    layer = _adapted()
    dense = layers.TextVectorization(vocabulary=layer.get_vocabulary())
    texts = tf.constant(["the cat", "a dog ran far away", ""])
    out = layer(texts)
    assert isinstance(out, tf.RaggedTensor)
    assert out.row_lengths().numpy().tolist() == [2, 5, 0]
    assert out.dtype == tf.int64
    # the same ids as the padded output, without the padding
    np.testing.assert_array_equal(out.to_tensor().numpy(), dense(texts).numpy())
    assert out[1].numpy().tolist()[-1] == 1  # an unknown word is [UNK]


def test_ragged_rows_slice_and_pad_as_the_nmt_tutorial_does():
    target = _adapted()(tf.constant(["the cat sat", "the dog"]))
    targ_in, targ_out = target[:, :-1].to_tensor(), target[:, 1:].to_tensor()
    ids = target.to_list()
    assert targ_in.numpy().tolist() == [ids[0][:-1], ids[1][:-1] + [0]]
    assert targ_out.numpy().tolist() == [ids[0][1:], ids[1][1:] + [0]]


def test_output_sequence_length_truncates_ragged_rows():
    out = _adapted(output_sequence_length=2)(tf.constant(["the cat sat", "dog"]))
    assert out.row_lengths().numpy().tolist() == [2, 1]


def test_ragged_in_a_non_int_mode_is_refused_and_config_keeps_it():
    with pytest.raises(ValueError, match="Received: ragged=True and output_mode=count"):
        layers.TextVectorization(ragged=True, output_mode="count")
    layer = _adapted()
    config = layer.get_config()
    assert config["ragged"] is True
    assert isinstance(layers.TextVectorization.from_config(config)(tf.constant(["the cat"])), tf.RaggedTensor)
