"""Keras guide "Working with preprocessing layers", run on chainrule.

Source: https://keras.io/guides/preprocessing_layers/ (keras-team/keras-io, guides/preprocessing_layers.py).

The guide's code is kept as written, section by section (one test each), except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- `keras.datasets.cifar10.load_data()` (a 170 MB download) is replaced by 256 random images of the same shape and
  dtype with labels 0..9;
- lines marked `# test:` check what the program produces; they follow Keras 3 where it differs from the guide's
  prose, written for Keras 2 (IntegerLookup has no mask token by default now, so 0 is a value like the others).
"""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def cifar10_like(n=256, seed=0):
    """test: stands in for keras.datasets.cifar10.load_data() (uint8 images, (n, 1) uint8 labels)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, (n, 1), dtype=np.uint8)
    return (x, y), (x[:32], y[:32])


def test_the_adapt_method():
    data = np.array(
        [
            [0.1, 0.2, 0.3],
            [0.8, 0.9, 1.0],
            [1.5, 1.6, 1.7],
        ]
    )
    layer = layers.Normalization()
    layer.adapt(data)
    normalized_data = layer(data)

    print("Features mean: %.2f" % (normalized_data.numpy().mean()))
    print("Features std: %.2f" % (normalized_data.numpy().std()))
    assert abs(normalized_data.numpy().mean()) < 1e-6 and abs(normalized_data.numpy().std() - 1) < 1e-4  # test

    data = [
        "ξεῖν᾽, ἦ τοι μὲν ὄνειροι ἀμήχανοι ἀκριτόμυθοι",
        "γίγνοντ᾽, οὐδέ τι πάντα τελείεται ἀνθρώποισι.",
        "δοιαὶ γάρ τε πύλαι ἀμενηνῶν εἰσὶν ὀνείρων:",
        "αἱ μὲν γὰρ κεράεσσι τετεύχαται, αἱ δ᾽ ἐλέφαντι:",
        "τῶν οἳ μέν κ᾽ ἔλθωσι διὰ πριστοῦ ἐλέφαντος,",
        "οἵ ῥ᾽ ἐλεφαίρονται, ἔπε᾽ ἀκράαντα φέροντες:",
        "οἱ δὲ διὰ ξεστῶν κεράων ἔλθωσι θύραζε,",
        "οἵ ῥ᾽ ἔτυμα κραίνουσι, βροτῶν ὅτε κέν τις ἴδηται.",
    ]
    layer = layers.TextVectorization()
    layer.adapt(data)
    vectorized_text = layer(data)
    print(vectorized_text)
    assert vectorized_text.numpy().shape == (8, 9)  # test: the longest line has 9 words
    assert layer.get_vocabulary()[:5] == ["", "[UNK]", "ῥ᾽", "ἔλθωσι", "οἵ"]  # test: twice each, ties descending
    np.testing.assert_array_equal(vectorized_text.numpy()[0], [37, 12, 25, 5, 9, 20, 21, 0, 0])  # test: as printed

    vocab = ["a", "b", "c", "d"]
    data = tf.constant([["a", "c", "d"], ["d", "z", "b"]])
    layer = layers.StringLookup(vocabulary=vocab)
    vectorized_data = layer(data)
    print(vectorized_data)
    np.testing.assert_array_equal(vectorized_data.numpy(), [[1, 3, 4], [4, 0, 2]])  # test


def test_image_data_augmentation():
    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
            layers.RandomZoom(0.1),
        ]
    )

    (x_train, y_train), _ = cifar10_like()
    input_shape = x_train.shape[1:]
    classes = 10

    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.batch(16).map(lambda x, y: (data_augmentation(x), y))

    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)  # Rescale inputs
    outputs = keras.applications.ResNet50(  # Add the rest of the model
        weights=None, input_shape=input_shape, classes=classes
    )(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    model.fit(train_dataset, steps_per_epoch=5)


def test_normalizing_numerical_features():
    (x_train, y_train), _ = cifar10_like()
    x_train = x_train.reshape((len(x_train), -1))
    input_shape = x_train.shape[1:]
    classes = 10

    normalizer = layers.Normalization()
    normalizer.adapt(x_train)

    inputs = keras.Input(shape=input_shape)
    x = normalizer(inputs)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x_train, y_train)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])  # test


def test_encoding_categorical_features():
    data = tf.constant([["a"], ["b"], ["c"], ["b"], ["c"], ["a"]])

    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(data)

    test_data = tf.constant([["a"], ["b"], ["c"], ["d"], ["e"], [""]])
    encoded_data = lookup(test_data)
    print(encoded_data)
    assert lookup.get_vocabulary() == ["[UNK]", "c", "b", "a"]  # test: by count, ties by the token descending
    np.testing.assert_array_equal(encoded_data.numpy(), np.eye(4)[[3, 2, 1, 0, 0, 0]])  # test

    data = tf.constant([[10], [20], [20], [10], [30], [0]])

    lookup = layers.IntegerLookup(output_mode="one_hot")
    lookup.adapt(data)

    test_data = tf.constant([[10], [10], [20], [50], [60], [0]])
    encoded_data = lookup(test_data)
    print(encoded_data)
    assert lookup.get_vocabulary() == [-1, 20, 10, 30, 0]  # test: Keras 3 (no mask token: 0 is a value)
    np.testing.assert_array_equal(encoded_data.numpy(), np.eye(5)[[2, 2, 1, 0, 0, 4]])  # test


def test_hashing_trick():
    data = np.random.randint(0, 100000, size=(10000, 1))

    hasher = layers.Hashing(num_bins=64, salt=1337)

    encoder = layers.CategoryEncoding(num_tokens=64, output_mode="multi_hot")
    encoded_data = encoder(hasher(data))
    print(encoded_data.shape)
    assert tuple(encoded_data.shape) == (10000, 64)  # test
    assert encoded_data.numpy().sum() == 10000  # test: one bin per value


def test_encoding_text_as_a_sequence_of_token_indices():
    adapt_data = tf.constant(
        [
            "The Brain is wider than the Sky",
            "For put them side by side",
            "The one the other will contain",
            "With ease and You beside",
        ]
    )

    text_vectorizer = layers.TextVectorization(output_mode="int")
    text_vectorizer.adapt(adapt_data)

    print(
        "Encoded text:\n",
        text_vectorizer(["The Brain is deeper than the sea"]).numpy(),
    )
    encoded = text_vectorizer(["The Brain is deeper than the sea"]).numpy()  # test
    assert encoded.shape == (1, 7) and encoded[0, 0] == 2 and encoded[0, 3] == 1  # test: 'the' first, 'deeper' OOV

    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(input_dim=text_vectorizer.vocabulary_size(), output_dim=16)(inputs)
    x = layers.GRU(8)(x)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    train_dataset = tf.data.Dataset.from_tensor_slices(
        (["The Brain is deeper than the sea", "for if they are held Blue to Blue"], [1, 0])
    )

    train_dataset = train_dataset.batch(2).map(lambda x, y: (text_vectorizer(x), y))
    print("\nTraining model...")
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(train_dataset)

    inputs = keras.Input(shape=(1,), dtype="string")
    x = text_vectorizer(inputs)
    outputs = model(x)
    end_to_end_model = keras.Model(inputs, outputs)

    print("\nCalling end-to-end model on test string...")
    test_data = tf.constant(["The one the other will absorb"])
    test_output = end_to_end_model(test_data)
    print("Model output:", test_output)
    np.testing.assert_allclose(test_output.numpy(), model(text_vectorizer(test_data)).numpy(), rtol=1e-6)  # test


@pytest.mark.parametrize("output_mode", ["multi_hot", "tf-idf"])
def test_encoding_text_as_a_dense_matrix_of_ngrams(output_mode):
    adapt_data = tf.constant(
        [
            "The Brain is wider than the Sky",
            "For put them side by side",
            "The one the other will contain",
            "With ease and You beside",
        ]
    )
    text_vectorizer = layers.TextVectorization(output_mode=output_mode, ngrams=2)
    text_vectorizer.adapt(adapt_data)

    print(
        "Encoded text:\n",
        text_vectorizer(["The Brain is deeper than the sea"]).numpy(),
    )
    encoded = text_vectorizer(["The Brain is deeper than the sea"]).numpy()  # test
    assert encoded.shape == (1, text_vectorizer.vocabulary_size()) and encoded[0, 0] > 0  # test: OOV words seen

    inputs = keras.Input(shape=(text_vectorizer.vocabulary_size(),))
    outputs = layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)

    train_dataset = tf.data.Dataset.from_tensor_slices(
        (["The Brain is deeper than the sea", "for if they are held Blue to Blue"], [1, 0])
    )

    train_dataset = train_dataset.batch(2).map(lambda x, y: (text_vectorizer(x), y))
    print("\nTraining model...")
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(train_dataset)

    inputs = keras.Input(shape=(1,), dtype="string")
    x = text_vectorizer(inputs)
    outputs = model(x)
    end_to_end_model = keras.Model(inputs, outputs)

    print("\nCalling end-to-end model on test string...")
    test_data = tf.constant(["The one the other will absorb"])
    test_output = end_to_end_model(test_data)
    print("Model output:", test_output)
    assert tuple(test_output.shape) == (1, 1)  # test
