"""Text through functional models: a Sequential first called on a string keras.Input builds a string input, a
StringLookup with num_oov_indices=0 can be called symbolically (its output comes from its rules, not from looking up
made-up values), and keras.activations functions take symbolic tensors (keras-io's recommendation examples)."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def test_sequential_of_string_lookup_and_embedding_on_a_string_input():
    vocabulary = ["u1", "u2", "u3"]
    encoder = keras.Sequential([layers.StringLookup(vocabulary=vocabulary, mask_token=None, num_oov_indices=0),
                                layers.Embedding(input_dim=3, output_dim=4)])
    inputs = layers.Input(name="user_id", shape=(), dtype=tf.string)
    outputs = encoder(inputs)
    assert outputs.shape == (None, 4)
    assert encoder.inputs[0].dtype == tf.string
    model = keras.Model(inputs, outputs)
    table = encoder.layers[1].embeddings.numpy()
    np.testing.assert_allclose(model(tf.constant(["u3", "u1"])).numpy(), table[[2, 0]])
    # the made-up values of the symbolic call were not the user's: real unknown ones are still refused
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        model(tf.constant(["nobody"]))


def test_lookup_layers_give_their_symbolic_output_from_their_rules():
    text = layers.Input(shape=(2,), dtype="string")
    ids = layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=0)(text)
    assert (ids.shape, ids.dtype) == ((None, 2), "int64")
    multi_hot = layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")(text)
    assert multi_hot.shape == (None, 3) and multi_hot.dtype == "float32"
    back = layers.StringLookup(vocabulary=["a", "b"], invert=True)(layers.Input(shape=(2,), dtype="int64"))
    assert back.shape == (None, 2) and back.dtype == tf.string
    integers = layers.IntegerLookup(vocabulary=[7, 9], num_oov_indices=0)(layers.Input(shape=(), dtype="int64"))
    assert integers.shape == (None,) and integers.dtype == "int64"


def test_a_sequential_first_called_on_numbers_keeps_a_float_input():
    model = keras.Sequential([layers.Dense(2)])
    model(np.zeros((3, 4), "uint8"))
    assert model.inputs[0].dtype == "float32"


def test_activations_on_symbolic_tensors_become_layers():
    inputs = keras.Input(shape=(3,))
    logits = layers.Dense(1)(inputs)
    prediction = keras.activations.sigmoid(logits) * 5
    model = keras.Model(inputs, prediction)
    x = np.random.rand(4, 3).astype("float32")
    kernel, bias = model.layers[1].get_weights()
    np.testing.assert_allclose(model(x).numpy(), 5 / (1 + np.exp(-(x @ kernel + bias))), rtol=1e-5)
    relu6 = keras.activations.relu(inputs, max_value=6.0)
    assert keras.Model(inputs, relu6)(np.full((1, 3), 9.0, "float32")).numpy().tolist() == [[6.0, 6.0, 6.0]]


def test_activations_still_serialize_and_fuse_by_name():
    assert keras.activations.serialize(keras.activations.sigmoid) == "sigmoid"
    assert keras.activations.get("relu") is keras.activations.get(keras.activations.relu)
    dense = layers.Dense(2, activation=keras.activations.relu)
    assert dense.get_config()["activation"] == "relu"
    assert keras.activations.sigmoid(tf.constant([0.0])).numpy().tolist() == [0.5]
