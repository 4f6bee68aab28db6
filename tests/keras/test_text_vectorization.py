"""TextVectorization: Keras 3's documented outputs, each option (standardize, split, ngrams, output modes, padding),
adapt from lists, arrays, Datasets and generators, tf.data pipelines, string models, config and model files."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

CORPUS = ["The cat sat on the mat.", "The dog ate the cat!", "A cat, a hat."]


def values(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def test_keras_docstring_examples():
    layer = layers.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]])
    np.testing.assert_array_equal(values(out), [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert values(out).dtype == np.int64
    given = layers.TextVectorization(max_tokens=5000, output_sequence_length=4,
                                     vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert given.vocabulary_size() == 6
    assert given.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]


def test_adapt_counts_standardized_words_and_max_tokens_keeps_the_most_frequent():
    layer = layers.TextVectorization()
    layer.adapt(CORPUS)
    vocabulary = layer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "the", "cat"]  # 'the' 4 times, 'cat' 3, punctuation and case gone
    assert set(vocabulary[4:]) == {"a", "sat", "on", "mat", "dog", "ate", "hat"}
    capped = layers.TextVectorization(max_tokens=5)
    capped.adapt(np.array(CORPUS))
    assert capped.get_vocabulary() == ["", "[UNK]", "the", "cat", "a"]


def test_int_output_pads_to_the_longest_string_or_to_output_sequence_length():
    layer = layers.TextVectorization(vocabulary=["a", "b", "c"])
    np.testing.assert_array_equal(values(layer(["a b c a", "c"])), [[2, 3, 4, 2], [4, 0, 0, 0]])
    np.testing.assert_array_equal(values(layer(np.array([["a z"], ["b"]]))), [[2, 1], [3, 0]])
    cut = layers.TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=2)
    np.testing.assert_array_equal(values(cut(["a b c", ""])), [[2, 3], [0, 0]])


@pytest.mark.parametrize("standardize, expected", [
    ("lower_and_strip_punctuation", ["hello", "world"]),
    ("lower", ["hello,", "world!"]),
    ("strip_punctuation", ["Hello", "WORLD"]),
    (None, ["Hello,", "WORLD!"]),
])
def test_standardize_options(standardize, expected):
    layer = layers.TextVectorization(standardize=standardize)
    layer.adapt(["Hello, WORLD!"])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(expected)


def test_lower_is_ascii_only_as_in_tensorflow():
    layer = layers.TextVectorization()
    layer.adapt(["ÉTÉ Été"])
    assert sorted(layer.get_vocabulary()[2:]) == ["ÉtÉ", "Été"]


def test_callable_standardize_may_use_numpy_string_functions():
    layer = layers.TextVectorization(standardize=lambda text: np.char.upper(text))
    layer.adapt(np.array([["a b"], ["b"]]))
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "A"]


def test_callable_standardize_gets_a_string_tensor_and_tf_strings_works_on_it():
    import re
    import string

    def custom_standardization(input_data):
        lowercase = tf.strings.lower(input_data)
        stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
        return tf.strings.regex_replace(stripped_html, f"[{re.escape(string.punctuation)}]", "")

    layer = layers.TextVectorization(standardize=custom_standardization)
    layer.adapt(["Great movie!<br />Loved it."])
    assert sorted(layer.get_vocabulary()[2:]) == ["great", "it", "loved", "movie"]


def test_split_options_and_ngrams():
    chars = layers.TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(values(chars(["cab"])), [[3, 2, 4]])
    whole = layers.TextVectorization(split=None, standardize=None, vocabulary=["New York", "Paris"])
    np.testing.assert_array_equal(values(whole([["Paris"], ["New York"], ["Rome"]])), [[3], [2], [1]])
    comma = layers.TextVectorization(split=lambda text: [t.split(b",") for t in text.numpy().tolist()],
                                     standardize=None, vocabulary=["x", "y z"])
    np.testing.assert_array_equal(values(comma(["x,y z", "q"])), [[2, 3], [1, 0]])
    tf_split = layers.TextVectorization(split=lambda text: tf.strings.split(text, sep=","), standardize=None,
                                        vocabulary=["x", "y z"])  # the TensorFlow way: a RaggedTensor of rows
    np.testing.assert_array_equal(values(tf_split(["x,y z", "q"])), [[2, 3], [1, 0]])
    bigrams = layers.TextVectorization(ngrams=2)
    bigrams.adapt(["a b c"])
    assert set(bigrams.get_vocabulary()[2:]) == {"a", "b", "c", "a b", "b c"}
    np.testing.assert_array_equal(values(bigrams(["a b"])).shape, (1, 3))  # a, b, 'a b'
    only_bigrams = layers.TextVectorization(ngrams=(2,))
    only_bigrams.adapt(["a b c"])
    assert set(only_bigrams.get_vocabulary()[2:]) == {"a b", "b c"}


def test_multi_hot_count_and_tf_idf():
    vocabulary = ["the", "cat", "dog"]
    multi = layers.TextVectorization(output_mode="multi_hot", vocabulary=vocabulary)
    np.testing.assert_array_equal(values(multi(["the cat the bird"])), [[1, 1, 1, 0]])  # [UNK], the, cat, dog
    count = layers.TextVectorization(output_mode="count", vocabulary=vocabulary)
    np.testing.assert_array_equal(values(count(["the cat the bird", ""])), [[1, 2, 1, 0], [0, 0, 0, 0]])
    padded = layers.TextVectorization(output_mode="count", vocabulary=vocabulary, max_tokens=10,
                                      pad_to_max_tokens=True)
    assert values(padded(["dog"])).shape == (1, 10)
    tfidf = layers.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["the cat", "the dog", "the cat sat"])  # the: 3 docs, cat: 2, dog and sat: 1 of 3
    assert tfidf.get_vocabulary() == ["[UNK]", "the", "cat", "sat", "dog"]
    idf = np.log(1 + 3 / (1 + np.array([3, 2, 1, 1])))
    out = values(tfidf(["the the cat zebra"]))[0]
    np.testing.assert_allclose(out, [idf.mean(), 2 * idf[0], idf[1], 0, 0], rtol=1e-6)
    assert out.dtype == np.float32


def test_adapt_from_datasets_generators_and_tensors():
    expected = layers.TextVectorization()
    expected.adapt(CORPUS)
    dataset = tf.data.Dataset.from_tensor_slices(np.array(CORPUS))
    for data in (dataset.batch(2), dataset, (np.array(CORPUS[i:i + 1]) for i in range(3)), tf.constant(CORPUS),
                 np.array(CORPUS)[:, None]):
        layer = layers.TextVectorization()
        layer.adapt(data)
        assert layer.get_vocabulary() == expected.get_vocabulary()
    first_batch_only = layers.TextVectorization()
    first_batch_only.adapt(dataset.batch(1), steps=1)
    assert "dog" not in first_batch_only.get_vocabulary()


def test_runs_in_a_tf_data_pipeline():
    layer = layers.TextVectorization(output_sequence_length=3)
    layer.adapt(CORPUS)
    labels = np.array([0, 1, 0])
    dataset = tf.data.Dataset.from_tensor_slices((np.array(CORPUS), labels)).batch(2)
    mapped = dataset.map(lambda x, y: (layer(tf.expand_dims(x, -1)), y))
    batches = list(mapped)
    assert [values(x).shape for x, _ in batches] == [(2, 3), (1, 3)]
    np.testing.assert_array_equal(values(batches[0][0]), values(layer(CORPUS[:2])))
    only_text = list(tf.data.Dataset.from_tensor_slices(np.array(CORPUS)).batch(3).map(layer))
    np.testing.assert_array_equal(values(only_text[0]), values(layer(CORPUS)))


def test_first_layer_of_a_model_taking_strings_and_its_model_file(tmp_path):
    layer = layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    layer.adapt(CORPUS)
    inputs = keras.Input(shape=(1,), dtype="string")
    assert inputs.dtype.kind == "U"
    indices = layer(inputs)
    assert indices.shape == (None, 6) and indices.dtype == np.int64
    x = layers.GlobalAveragePooling1D()(layers.Reshape((6, 1))(layers.Rescaling(0.1)(indices)))
    model = keras.Model(inputs, layers.Dense(2)(x))
    text = np.array([["the cat"], ["a dog and a hat"]])
    before = values(model(text))
    path = str(tmp_path / "text_model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(values(loaded(text)), before, rtol=1e-6)
    assert loaded.layers[1].get_vocabulary() == layer.get_vocabulary()


def test_config_round_trip_with_a_registered_standardize_function():
    @keras.saving.register_keras_serializable(package="text_test")
    def shout(text):
        return tf.strings.upper(text)

    layer = layers.TextVectorization(standardize=shout, ngrams=(1, 2), output_mode="count", max_tokens=9)
    layer.adapt(["a b", "b c"])
    config = layer.get_config()
    assert config["standardize"] == "text_test>shout" and config["vocabulary"][0] == "[UNK]"
    clone = layers.TextVectorization.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(values(clone(["a b q"])), values(layer(["a b q"])))


def test_errors_say_what_is_wrong():
    with pytest.raises(TypeError, match=r"Layer 'words' \(TextVectorization\) expects strings.*float64"):
        layers.TextVectorization(name="words", vocabulary=["a"])(np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"the input rank must be 1 or the last shape dimension must be 1"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="`output_mode` argument of layer TextVectorization"):
        layers.TextVectorization(output_mode="bag")
    with pytest.raises(ValueError, match="`standardize` argument"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="`ngrams` must be None, an integer, or a tuple of integers"):
        layers.TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="`ragged` must not be true if `output_mode` is `'int'`"):
        layers.TextVectorization(ragged=True, output_mode="multi_hot")  # (ragged int output: test_*_ragged_s11.py)
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary before calling it"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="must return one string per string it is given"):
        layers.TextVectorization(standardize=lambda text: ["one"])(["a", "b"])
    with pytest.raises(TypeError, match="The `standardize` callable of layer .* expects strings"):
        layers.TextVectorization(standardize=lambda text: np.zeros(2))(["a", "b"])
    labelled = tf.data.Dataset.from_tensor_slices((np.array(CORPUS), np.array([0, 1, 0]))).batch(2)
    with pytest.raises(TypeError, match=r"a batch is a tuple of 2 \(texts and labels\?\).*map\(lambda x, y: x\)"):
        layers.TextVectorization().adapt(labelled)


def test_a_model_with_a_string_input_fits_evaluates_and_predicts_on_text_arrays():
    texts = np.array(["good fun", "bad dull", "fun good good", "dull bad", "good", "bad"] * 4)
    labels = np.array([1, 0, 1, 0, 1, 0] * 4, dtype="float32")
    layer = layers.TextVectorization(output_mode="multi_hot")
    layer.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(layer(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts[:, None], labels, epochs=20, batch_size=6, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    assert model.evaluate(texts[:, None], labels, verbose=0)[1] == 1.0
    as_bytes = np.array([[b"good fun"], [b"bad dull"]], dtype=object)
    np.testing.assert_allclose(model.predict(as_bytes, verbose=0), model.predict(texts[:2, None], verbose=0))
    assert model.predict(texts[:2, None], verbose=0).round().ravel().tolist() == [1.0, 0.0]
    sequential = keras.Sequential([layers.TextVectorization(output_mode="multi_hot", vocabulary=["good", "bad"]),
                                   layers.Dense(1, activation="sigmoid")])  # no Input: it starts with a text layer
    sequential.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    sequential.fit(texts, labels, epochs=20, batch_size=6, verbose=0)
    assert sequential.predict(texts[:2], verbose=0).round().ravel().tolist() == [1.0, 0.0]
    numeric = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1)])
    numeric.compile(loss="mse")
    with pytest.raises(TypeError, match="x holds strings"):  # a model without a string input still refuses text
        numeric.fit(texts[:, None], labels, verbose=0)


def test_symbolic_output_keeps_an_unknown_sequence_length():
    layer = layers.TextVectorization(vocabulary=["a", "b"])
    inputs = keras.Input(shape=(1,), dtype="string")
    indices = layer(inputs)
    assert indices.shape == (None, None) and indices.dtype == np.int64  # the longest text of each batch
    model = keras.Model(inputs, indices)
    np.testing.assert_array_equal(values(model(np.array([["a b a"], ["b"]]))), [[2, 3, 2], [3, 0, 0]])
    counts = layers.TextVectorization(vocabulary=["a", "b"], output_mode="count")(inputs)
    assert counts.shape == (None, 3) and counts.dtype == np.float32  # [UNK], a, b
