"""keras-io example "Text classification from scratch", run on chainrule.

Source: https://keras.io/examples/nlp/text_classification_from_scratch/
(keras-team/keras-io, examples/nlp/text_classification_from_scratch.py).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `import tensorflow as tf` -> `import chainrule
  as tf`, `from keras import layers` -> `from chainrule.keras import layers`;
- the download of the IMDB reviews (`keras.utils.get_file("aclImdb_v1.tar.gz", ..., extract=True)`, 80 MB) is
  replaced by a synthetic folder of the same layout, `aclImdb/{train,test}/{pos,neg}/*.txt` and
  `aclImdb/train/unsup/`, with short reviews whose words carry the sentiment and contain the `<br />` tags the
  example strips; the shell cells (`ls`, `cat`, `rm -r aclImdb/train/unsup`) are done in Python;
- lines marked `# test:` check what the program produces.
"""

import os
import shutil

import numpy as np
import pytest

POSITIVE = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "enjoyable", "fantastic"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "dull", "waste", "poor", "worst"]
NEUTRAL = ["the", "movie", "film", "plot", "actors", "story", "was", "and", "a", "scene", "director", "music"]


def write_reviews(root, split, label, count, rng):
    """test: stands in for the extracted aclImdb folder: reviews named like the real ones (id_rating.txt)."""
    folder = os.path.join(root, "aclImdb", split, label)
    os.makedirs(folder)
    words = POSITIVE if label == "pos" else NEGATIVE if label == "neg" else POSITIVE + NEGATIVE
    for i in range(count):
        body = list(rng.choice(NEUTRAL, size=20)) + list(rng.choice(words, size=4))
        rng.shuffle(body)
        text = " ".join(body[:12]).capitalize() + ".<br /><br />" + " ".join(body[12:]) + "!"
        with open(os.path.join(folder, f"{i}_{rng.integers(1, 11)}.txt"), "w", encoding="utf-8") as f:
            f.write(text)


@pytest.fixture
def download_folder(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 80), ("test", 32)):
        for label in ("pos", "neg"):
            write_reviews(tmp_path, split, label, count, rng)
    write_reviews(tmp_path, "train", "unsup", 10, rng)
    return tmp_path


def test_text_classification_from_scratch(download_folder):
    os.environ["KERAS_BACKEND"] = "tensorflow"

    from chainrule import keras
    import chainrule as tf
    import numpy as np
    from chainrule.keras import layers

    dataset_dir = os.path.join(download_folder, "aclImdb")  # test: instead of keras.utils.get_file(...)

    print(sorted(os.listdir(dataset_dir)))  # ls aclImdb
    print(sorted(os.listdir(os.path.join(dataset_dir, "test"))))  # ls aclImdb/test
    print(sorted(os.listdir(os.path.join(dataset_dir, "train"))))  # ls aclImdb/train
    first = sorted(os.listdir(os.path.join(dataset_dir, "train", "pos")))[0]
    print(open(os.path.join(dataset_dir, "train", "pos", first)).read())  # cat aclImdb/train/pos/6248_7.txt
    shutil.rmtree(os.path.join(dataset_dir, "train", "unsup"))  # rm -r aclImdb/train/unsup

    batch_size = 32
    train_dir = os.path.join(dataset_dir, "train")
    test_dir = os.path.join(dataset_dir, "test")

    raw_train_ds = keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset="training",
        seed=1337,
        class_names=["pos", "neg"],
    )
    raw_val_ds = keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset="validation",
        seed=1337,
        class_names=["pos", "neg"],
    )
    raw_test_ds = keras.utils.text_dataset_from_directory(test_dir, batch_size=batch_size)

    print(f"Number of batches in raw_train_ds: {raw_train_ds.cardinality()}")
    print(f"Number of batches in raw_val_ds: {raw_val_ds.cardinality()}")
    print(f"Number of batches in raw_test_ds: {raw_test_ds.cardinality()}")
    assert int(raw_train_ds.cardinality()) == 4 and int(raw_val_ds.cardinality()) == 1  # test: 128 and 32 reviews
    assert int(raw_test_ds.cardinality()) == 2  # test

    for text_batch, label_batch in raw_train_ds.take(1):
        for i in range(5):
            print(text_batch.numpy()[i])
            print(label_batch.numpy()[i])
    first_word = str(text_batch.numpy()[0]).lower()  # test: pos is class 0 here (class_names=["pos", "neg"])
    assert "<br />" in str(text_batch.numpy()[0])  # test

    import string
    import re

    def custom_standardization(input_data):
        lowercase = tf.strings.lower(input_data)
        stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
        return tf.strings.regex_replace(
            stripped_html, f"[{re.escape(string.punctuation)}]", ""
        )

    max_features = 20000
    embedding_dim = 128
    sequence_length = 500

    vectorize_layer = keras.layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )

    text_ds = raw_train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(text_ds)

    vocabulary = vectorize_layer.get_vocabulary()  # test
    assert vocabulary[:2] == ["", "[UNK]"] and "br" not in vocabulary  # test: the tags are gone
    assert set(POSITIVE + NEGATIVE + NEUTRAL) <= set(vocabulary)  # test: every word seen in training

    def vectorize_text(text, label):
        text = tf.expand_dims(text, -1)
        return vectorize_layer(text), label

    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    test_ds = raw_test_ds.map(vectorize_text)

    train_ds = train_ds.cache().prefetch(buffer_size=10)
    val_ds = val_ds.cache().prefetch(buffer_size=10)
    test_ds = test_ds.cache().prefetch(buffer_size=10)

    x_batch, y_batch = next(iter(train_ds))  # test
    assert x_batch.numpy().shape == (32, sequence_length) and x_batch.numpy().dtype == np.int64  # test

    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

    model = keras.Model(inputs, predictions)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    epochs = 3
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()  # test

    results = model.evaluate(test_ds)
    assert len(results) == 2 and 0.0 <= results[1] <= 1.0  # test

    # A string input
    inputs = keras.Input(shape=(1,), dtype="string")
    # Turn strings into vocab indices
    indices = vectorize_layer(inputs)
    # Turn vocab indices into predictions
    outputs = model(indices)

    end_to_end_model = keras.Model(inputs, outputs)
    end_to_end_model.compile(
        loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    assert end_to_end_model.output_shape == (None, 1)  # test
    texts, labels = next(iter(raw_test_ds))  # test: the end-to-end model equals the two steps
    np.testing.assert_allclose(end_to_end_model(tf.expand_dims(texts, -1)).numpy(),  # test
                               model(vectorize_layer(tf.expand_dims(texts, -1))).numpy(), rtol=1e-5)  # test

    end_to_end_results = end_to_end_model.evaluate(raw_test_ds)
    np.testing.assert_allclose(end_to_end_results, results, rtol=1e-5)  # test: same test data, same weights
