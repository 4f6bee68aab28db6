"""keras-io example "Using pre-trained word embeddings", run on chainrule.

Source: https://keras.io/examples/nlp/pretrained_word_embeddings/ (keras-team/keras-io,
examples/nlp/pretrained_word_embeddings.py, the Keras 3 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow.data as tf_data` -> `import chainrule.data as tf_data`,
  `import keras` -> `from chainrule import keras`, `from keras import layers` -> `from chainrule.keras import
  layers`, `from keras.layers import Embedding` -> `from chainrule.keras.layers import Embedding` (the
  `KERAS_BACKEND` line is left out);
- the Newsgroup20 archive (`keras.utils.get_file(..., untar=True)`) is replaced by a synthetic `20_newsgroup` folder
  in the test's temporary folder: the 20 real folder names, `FILES_PER_CLASS` = 12 files each (about 1000) of 10
  header lines and a body of words drawn mostly from the class's own words; the GloVe file
  (`glove.6B.100d.txt`, an 822 MB zip) is replaced by a synthetic one with 100-dimensional vectors for most of those
  words (the others are misses, as in the real file);
- `epochs=20` is 2;
- lines marked `# test:` check what the program produces.
"""

import os
import pathlib

import numpy as np

import chainrule.data as tf_data
from chainrule import keras
from chainrule.keras import layers

FILES_PER_CLASS = 12  # test: about 1000 files per folder in Newsgroup20
CLASS_NAMES = ["alt.atheism", "comp.graphics", "comp.os.ms-windows.misc", "comp.sys.ibm.pc.hardware",
               "comp.sys.mac.hardware", "comp.windows.x", "misc.forsale", "rec.autos", "rec.motorcycles",
               "rec.sport.baseball", "rec.sport.hockey", "sci.crypt", "sci.electronics", "sci.med", "sci.space",
               "soc.religion.christian", "talk.politics.guns", "talk.politics.mideast", "talk.politics.misc",
               "talk.religion.misc"]


def news20_like(root: pathlib.Path, seed=0) -> pathlib.Path:
    """test: stands in for get_file("news20.tar.gz", ..., untar=True): the archive's path, next to 20_newsgroup/."""
    rng = np.random.default_rng(seed)
    common = [f"common{i}" for i in range(60)] + ["the", "cat", "sat", "on", "mat", "this", "is", "about"]
    for c, name in enumerate(CLASS_NAMES):
        own = [f"{name.split('.')[-1]}word{i}" for i in range(15)]
        folder = root / "20_newsgroup" / name
        folder.mkdir(parents=True)
        for k in range(FILES_PER_CLASS):
            header = [f"Newsgroups: {name}", "Path: cantaloupe.srv.cs.cmu.edu", f"From: user{k}@example.edu",
                      f"Subject: message {k}", "Message-ID: <1@example.edu>", "Sender: news@example.edu",
                      "Organization: Example University", "Date: 6 Apr 1993 00:00:00 GMT", "Lines: 20", ""]
            words = [own[i] if rng.random() < 0.5 else common[j]
                     for i, j in zip(rng.integers(0, 15, 120), rng.integers(0, len(common), 120))]
            body = "\n".join(" ".join(words[i:i + 12]) for i in range(0, 120, 12))
            file_name = "38987" if (name == "comp.graphics" and k == 0) else str(50000 + 100 * c + k)
            (folder / file_name).write_text("\n".join(header) + "\n" + body, encoding="latin-1")
    return root / "news20.tar.gz"


def glove_like(path: pathlib.Path, words, seed=0) -> None:
    """test: stands in for glove.6B.100d.txt: one "word v1 ... v100" line per word."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for word in words:
            f.write(word + " " + " ".join(f"{v:.5f}" for v in rng.normal(0, 0.4, 100)) + "\n")


def test_pretrained_word_embeddings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: glove.6B.100d.txt in the working folder, as the example expects
    data_path = news20_like(tmp_path)

    data_dir = pathlib.Path(data_path).parent / "20_newsgroup"
    dirnames = os.listdir(data_dir)
    print("Number of directories:", len(dirnames))
    print("Directory names:", dirnames)

    fnames = os.listdir(data_dir / "comp.graphics")
    print("Number of files in comp.graphics:", len(fnames))
    print("Some example filenames:", fnames[:5])

    print(open(data_dir / "comp.graphics" / "38987").read())

    samples = []
    labels = []
    class_names = []
    class_index = 0
    for dirname in sorted(os.listdir(data_dir)):
        class_names.append(dirname)
        dirpath = data_dir / dirname
        fnames = os.listdir(dirpath)
        print("Processing %s, %d files found" % (dirname, len(fnames)))
        for fname in fnames:
            fpath = dirpath / fname
            f = open(fpath, encoding="latin-1")
            content = f.read()
            lines = content.split("\n")
            lines = lines[10:]
            content = "\n".join(lines)
            samples.append(content)
            labels.append(class_index)
        class_index += 1

    print("Classes:", class_names)
    print("Number of samples:", len(samples))

    # Shuffle the data
    seed = 1337
    rng = np.random.RandomState(seed)
    rng.shuffle(samples)
    rng = np.random.RandomState(seed)
    rng.shuffle(labels)

    # Extract a training & validation split
    validation_split = 0.2
    num_validation_samples = int(validation_split * len(samples))
    train_samples = samples[:-num_validation_samples]
    val_samples = samples[-num_validation_samples:]
    train_labels = labels[:-num_validation_samples]
    val_labels = labels[-num_validation_samples:]

    vectorizer = layers.TextVectorization(max_tokens=20000, output_sequence_length=200)
    text_ds = tf_data.Dataset.from_tensor_slices(train_samples).batch(128)
    vectorizer.adapt(text_ds)

    vectorizer.get_vocabulary()[:5]

    output = vectorizer([["the cat sat on the mat"]])
    output.numpy()[0, :6]

    voc = vectorizer.get_vocabulary()
    word_index = dict(zip(voc, range(len(voc))))

    test = ["the", "cat", "sat", "on", "the", "mat"]
    [word_index[w] for w in test]

    # test: index 0 pads, 1 is the OOV token; the test sentence's ids are its words' vocabulary indices
    assert voc[:2] == ["", "[UNK]"]
    assert output.numpy()[0, :6].tolist() == [word_index[w] for w in test]
    assert output.shape == (1, 200) and (output.numpy()[0, 6:] == 0).all()

    glove_like(tmp_path / "glove.6B.100d.txt", [w for w in voc[2:] if hash(w) % 10])  # test: ~90% of the words
    path_to_glove_file = "glove.6B.100d.txt"

    embeddings_index = {}
    with open(path_to_glove_file) as f:
        for line in f:
            word, coefs = line.split(maxsplit=1)
            coefs = np.fromstring(coefs, "f", sep=" ")
            embeddings_index[word] = coefs

    print("Found %s word vectors." % len(embeddings_index))

    num_tokens = len(voc) + 2
    embedding_dim = 100
    hits = 0
    misses = 0

    # Prepare embedding matrix
    embedding_matrix = np.zeros((num_tokens, embedding_dim))
    for word, i in word_index.items():
        embedding_vector = embeddings_index.get(word)
        if embedding_vector is not None:
            # Words not found in embedding index will be all-zeros.
            # This includes the representation for "padding" and "OOV"
            embedding_matrix[i] = embedding_vector
            hits += 1
        else:
            misses += 1
    print("Converted %d words (%d misses)" % (hits, misses))

    from chainrule.keras.layers import Embedding

    embedding_layer = Embedding(
        num_tokens,
        embedding_dim,
        trainable=False,
    )
    embedding_layer.build((1,))
    embedding_layer.set_weights([embedding_matrix])

    int_sequences_input = keras.Input(shape=(None,), dtype="int32")
    embedded_sequences = embedding_layer(int_sequences_input)
    x = layers.Conv1D(128, 5, activation="relu")(embedded_sequences)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(128, 5, activation="relu")(x)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(128, 5, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    preds = layers.Dense(len(class_names), activation="softmax")(x)
    model = keras.Model(int_sequences_input, preds)
    model.summary()

    x_train = vectorizer(np.array([[s] for s in train_samples])).numpy()
    x_val = vectorizer(np.array([[s] for s in val_samples])).numpy()

    y_train = np.array(train_labels)
    y_val = np.array(val_labels)

    model.compile(
        loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["acc"]
    )
    history = model.fit(x_train, y_train, batch_size=128, epochs=2, validation_data=(x_val, y_val))

    # test: the frozen embeddings stayed the GloVe matrix, the other weights trained; the logs the example shows
    np.testing.assert_array_equal(embedding_layer.get_weights()[0], embedding_matrix.astype("float32"))
    assert len(model.trainable_weights) == 10 and len(model.non_trainable_weights) == 1
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert history.history["loss"][-1] < history.history["loss"][0]

    string_input = keras.Input(shape=(1,), dtype="string")
    x = vectorizer(string_input)
    preds = model(x)
    end_to_end_model = keras.Model(string_input, preds)

    probabilities = end_to_end_model(
        keras.ops.convert_to_tensor(
            [["this message is about computer graphics and 3D modeling"]]
        )
    )

    print(class_names[np.argmax(probabilities[0])])

    # test: the end-to-end model computes what the model does on the vectorized text
    assert probabilities.shape == (1, 20)
    direct = model.predict(vectorizer([["this message is about computer graphics and 3D modeling"]]), verbose=0)
    np.testing.assert_allclose(np.asarray(probabilities), direct, rtol=1e-5)
    assert class_names[np.argmax(probabilities[0])] in capsys.readouterr().out
