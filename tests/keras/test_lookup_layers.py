"""StringLookup, IntegerLookup and Hashing against Keras 3's documented outputs (its docstrings' examples), the
hashes against reference values, and the errors for bad vocabularies and inputs."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers.preprocessing.hash_functions import fingerprint64, hash_bucket, siphash24

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
COUNT_DATA = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def values(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


# --- hashes: FarmHash Fingerprint64 (values from the pyfarmhash bindings of Google's C++) and SipHash-2-4 ----------
@pytest.mark.parametrize("text, expected", [
    ("", 0x9AE16A3B2F90404F), ("a", 0xB3454265B6DF75E3), ("hello world", 0x588FB7478BD6B01B),
    ("The quick brown fox jumps over", 0xE75880B807DFB05A),  # 17-32 bytes
    ("The quick brown fox jumps over the lazy dog, twice over!", 0x4CCF076054CC441C),  # 33-64 bytes
    ("x" * 65, 0x447CB9FD96F25F39), ("lorem ipsum dolor sit amet " * 10, 0x537AE822AEC42967),  # > 64 bytes
])
def test_fingerprint64_equals_farmhash(text, expected):
    assert fingerprint64(text.encode()) == expected


def test_siphash24_reference_vectors():
    key = bytes(range(16))
    assert siphash24(key, b"") == 0x726FDB47DD0E0E31
    assert siphash24(key, bytes(range(15))) == 0xA129CA6149BE45E5
    assert siphash24(key, bytes(range(8))) == 0x93F5F5799A932462


# --- StringLookup ---------------------------------------------------------------------------------------------------
def test_string_lookup_known_vocabulary():
    layer = layers.StringLookup(vocabulary=VOCAB)
    out = layer(DATA)
    np.testing.assert_array_equal(values(out), [[1, 3, 4], [4, 0, 2]])
    assert values(out).dtype == np.int64
    assert layer.get_vocabulary() == ["[UNK]", *VOCAB] and layer.vocabulary_size() == 5
    assert layer.get_vocabulary(include_special_tokens=False) == VOCAB


def test_string_lookup_adapt_orders_by_count_then_token_descending():
    layer = layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(values(layer(DATA)), [[5, 3, 1], [1, 2, 4]])
    capped = layers.StringLookup(max_tokens=3)
    capped.adapt(np.array(DATA))
    assert capped.get_vocabulary() == ["[UNK]", "d", "z"]


def test_string_lookup_several_oov_indices_hash_like_keras():
    layer = layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    np.testing.assert_array_equal(values(layer([["a", "c", "d"], ["m", "z", "b"]])), [[2, 4, 5], [0, 1, 3]])


def test_string_lookup_encodings():
    one_hot = layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(values(one_hot), np.eye(5)[[1, 2, 3, 4, 0]])
    multi_hot = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(COUNT_DATA)
    np.testing.assert_array_equal(values(multi_hot), [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = layers.StringLookup(vocabulary=VOCAB, output_mode="count")(COUNT_DATA)
    np.testing.assert_array_equal(values(count), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    padded = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True)
    assert values(padded(COUNT_DATA)).shape == (2, 8)


def test_string_lookup_tf_idf_given_and_adapted():
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])  # OOV weight: their mean, 0.5
    np.testing.assert_allclose(values(layer(COUNT_DATA)), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]],
                               rtol=1e-6)
    layer.set_vocabulary(["[UNK]", *VOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(values(layer(COUNT_DATA))[1], [1.8, 0, 0.75, 0, 0.4], rtol=1e-6)
    adapted = layers.StringLookup(output_mode="tf_idf")
    adapted.adapt([["x", "y"], ["x", "x"], ["z", "x"]])  # x in 3 documents, y and z in 1
    idf_x, idf_y = np.log(1 + 3 / 4), np.log(1 + 3 / 2)
    assert adapted.get_vocabulary() == ["[UNK]", "x", "z", "y"]
    np.testing.assert_allclose(values(adapted([["x", "x", "y"]]))[0],
                               [0, 2 * idf_x, 0, idf_y], rtol=1e-6)


def test_string_lookup_invert_and_round_trip():
    forward = layers.StringLookup(vocabulary=VOCAB)
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(values(inverse(forward(DATA))), [[b"a", b"c", b"d"], [b"d", b"[UNK]", b"b"]])
    np.testing.assert_array_equal(values(inverse([[9, -3]])), [[b"[UNK]", b"[UNK]"]])


def test_string_lookup_mask_token():
    layer = layers.StringLookup(vocabulary=VOCAB, mask_token="[MASK]")
    assert layer.get_vocabulary()[:2] == ["[MASK]", "[UNK]"]
    np.testing.assert_array_equal(values(layer([["a", "[MASK]", "q"]])), [[2, 0, 1]])
    multi = layers.StringLookup(vocabulary=VOCAB, mask_token="[MASK]", output_mode="multi_hot")
    np.testing.assert_array_equal(values(multi([["a", "[MASK]"]])), [[0, 1, 0, 0, 0]])  # the mask counts nowhere


def test_string_lookup_accepts_bytes_objects_and_tensors():
    layer = layers.StringLookup(vocabulary=["café", "b"])
    np.testing.assert_array_equal(values(layer(np.array([b"caf\xc3\xa9", b"b"]))), [1, 2])
    np.testing.assert_array_equal(values(layer(np.array(["café", "x"], dtype=object))), [1, 0])
    np.testing.assert_array_equal(values(layer(tf.constant(["b"]))), [2])


def test_string_lookup_errors():
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="reserved mask token at unexpected location"):
        layers.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="larger than the maximum vocab size"):
        layers.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="Cannot set an empty vocabulary"):
        layers.StringLookup(vocabulary=[])
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="the `idf_weights` argument must also be provided"):
        layers.StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        layers.StringLookup(vocabulary=VOCAB).adapt(["a"])
    with pytest.raises(ValueError, match=r"found OOV values \['z'\], consider setting `num_oov_indices=1`"):
        layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(["a", "z"])
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary before calling it"):
        layers.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(TypeError, match=r"Layer 'words' \(StringLookup\) expects strings.*float64"):
        layers.StringLookup(vocabulary=VOCAB, name="words")(np.ones(3))
    with pytest.raises(ValueError, match="`sparse=True` can only be used with the TensorFlow backend"):
        layers.StringLookup(sparse=True)


def test_string_lookup_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    with pytest.raises(ValueError, match="does not exist"):
        layers.StringLookup(vocabulary=str(tmp_path / "missing.txt"))


def test_string_lookup_config_round_trip_keeps_adapted_vocabulary():
    layer = layers.StringLookup(output_mode="tf_idf", name="lookup")
    layer.adapt([["x", "y"], ["x", "x"]])
    config = layer.get_config()
    clone = layers.StringLookup.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_allclose(values(clone([["x", "y", "q"]])), values(layer([["x", "y", "q"]])))
    clone.adapt([["p", "q"], ["p", "p"]])  # adapted, not given: it may adapt again, to a vocabulary of one size
    assert clone.get_vocabulary() == ["[UNK]", "p", "q"]
    with pytest.raises(RuntimeError, match="the vocabulary size cannot be changed"):
        clone.adapt([["p", "p"]])


# --- IntegerLookup --------------------------------------------------------------------------------------------------
def test_integer_lookup_like_keras():
    vocab = [12, 36, 1138, 42]
    data = [[12, 1138, 42], [42, 1000, 36]]
    layer = layers.IntegerLookup(vocabulary=vocab)
    np.testing.assert_array_equal(values(layer(np.array(data))), [[1, 3, 4], [4, 0, 2]])
    assert layer.get_vocabulary() == [-1, *vocab]
    two = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=2)  # floormod: 37 -> 1, 1000 -> 0
    np.testing.assert_array_equal(values(two([[12, 1138, 42], [37, 1000, 36]])), [[2, 4, 5], [1, 0, 3]])
    adapted = layers.IntegerLookup()
    adapted.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    inverse = layers.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(values(inverse([[1, 3, 4], [4, 0, 2]])), [[12, 1138, 42], [42, -1, 36]])


def test_integer_lookup_mask_and_config():
    layer = layers.IntegerLookup(vocabulary=[12, 36], mask_token=0, output_mode="int")
    np.testing.assert_array_equal(values(layer([[12, 0, 5]])), [[2, 0, 1]])
    config = layer.get_config()
    assert config["mask_token"] == 0 and config["vocabulary"] == [0, -1, 12, 36]
    assert layers.IntegerLookup.from_config(config).get_vocabulary() == [0, -1, 12, 36]
    with pytest.raises(TypeError, match=r"expects integer inputs"):
        layer(np.array([["a"]]))
    with pytest.raises(ValueError, match="Only `vocabulary_dtype='int64'`"):
        layers.IntegerLookup(vocabulary_dtype="int32")


# --- Hashing --------------------------------------------------------------------------------------------------------
LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("kwargs, inputs, expected", [
    ({}, LETTERS, [1, 0, 1, 1, 2]),  # FarmHash64
    ({"mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [1, 1, 0, 2, 2]),
    ({"salt": [133, 137]}, LETTERS, [1, 2, 1, 0, 2]),  # SipHash64
    ({"salt": 133}, LETTERS, [0, 0, 2, 1, 0]),
])
def test_hashing_bins_equal_keras(kwargs, inputs, expected):
    out = layers.Hashing(num_bins=3, **kwargs)(inputs)
    np.testing.assert_array_equal(values(out).ravel(), expected)
    assert values(out).shape == (5, 1) and values(out).dtype == np.int64


def test_hashing_integers_and_encodings():
    ints = np.array([[1], [2], [3], [2]])
    bins = values(layers.Hashing(num_bins=5)(ints)).ravel()
    assert bins.tolist() == [hash_bucket(str(v), 5) for v in (1, 2, 3, 2)]
    np.testing.assert_array_equal(values(layers.Hashing(num_bins=5)(np.array([[1.7]]))),
                                  values(layers.Hashing(num_bins=5)(np.array([[1]]))))  # floats: cast to int64
    one_hot = values(layers.Hashing(num_bins=5, output_mode="one_hot")(ints))
    np.testing.assert_array_equal(one_hot, np.eye(5)[bins])
    multi = values(layers.Hashing(num_bins=5, output_mode="count")(np.array([[1, 2, 2]])))
    assert multi.shape == (1, 5) and multi.sum() == 3 and multi[0, bins[1]] >= 2
    with pytest.raises(ValueError, match="cannot be `None` or non-positive"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(num_bins=2, salt="x")
    config = layers.Hashing(num_bins=4, salt=7, mask_value="").get_config()
    assert layers.Hashing.from_config(config).salt == [7, 7]


def test_lookup_as_the_first_layer_of_a_model():
    lookup = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    inputs = keras.Input(shape=(3,), dtype="string")
    model = keras.Model(inputs, layers.Dense(2)(lookup(inputs)))
    assert model.output_shape == (None, 2)
    assert values(model(np.array(DATA))).shape == (2, 2)


# --- CategoryEncoding -----------------------------------------------------------------------------------------------
def test_category_encoding_like_keras():
    np.testing.assert_array_equal(values(layers.CategoryEncoding(4, output_mode="one_hot")([3, 2, 0, 1])),
                                  np.eye(4)[[3, 2, 0, 1]])
    multi = values(layers.CategoryEncoding(4)([[0, 1], [0, 0], [1, 2], [3, 1]]))
    np.testing.assert_array_equal(multi, [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    assert multi.dtype == np.float32
    counts = layers.CategoryEncoding(4, output_mode="count")
    np.testing.assert_array_equal(values(counts([[0, 1], [0, 0], [1, 2], [3, 1]])),
                                  [[1, 1, 0, 0], [2, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    weighted = counts([[0, 1], [0, 0]], count_weights=np.array([[0.1, 0.2], [0.1, 0.4]]))
    np.testing.assert_allclose(values(weighted), [[0.1, 0.2, 0, 0], [0.5, 0, 0, 0]], rtol=1e-6)
    inputs = keras.Input(shape=(2,), dtype="int64")
    assert layers.CategoryEncoding(5)(inputs).shape == (None, 5)
    assert layers.CategoryEncoding.from_config(counts.get_config()).output_mode == "count"


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"input values must be in the range 0 <= values < num_tokens"):
        layers.CategoryEncoding(3)([[0, 3]])
    with pytest.raises(ValueError, match=r"input values must be in the range"):
        layers.CategoryEncoding(3)([[-1]])
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="Unknown arg for output_mode"):
        layers.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        layers.CategoryEncoding(3)([[0]], count_weights=[[1.0]])
