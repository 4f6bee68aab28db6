"""TensorFlow tutorial "Word embeddings" (an Embedding trained on IMDB sentiment, exported for the projector), run on
chainrule.

Source: https://www.tensorflow.org/text/guide/word_embeddings (tensorflow/text, docs/tutorials/word_embeddings.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import ...` ->
  `from chainrule.keras import ...`;
- the download of the IMDB reviews (`tf.keras.utils.get_file("aclImdb_v1.tar.gz", url, untar=True, ...)`) is
  replaced by a synthetic folder of the same layout (tests/programs/aclimdb_like.py), 80 reviews per class;
- `batch_size = 1024` is 32 and `epochs=15` is 3, so that a few batches make an epoch;
- the TensorBoard magics (`%load_ext`, `%tensorboard`) and Colab's file download are left out; the TensorBoard
  callback writes its logs into the test's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import io
import os
import re
import shutil
import string

import numpy as np

import chainrule as tf

from chainrule.keras import Sequential
from chainrule.keras.layers import Dense, Embedding, GlobalAveragePooling1D
from chainrule.keras.layers import TextVectorization

import aclimdb_like


def test_word_embeddings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    dataset = aclimdb_like.write_archive(".") + ".tar.gz"  # test: instead of get_file(...)

    dataset_dir = os.path.join(os.path.dirname(dataset), 'aclImdb')
    os.listdir(dataset_dir)

    train_dir = os.path.join(dataset_dir, 'train')
    os.listdir(train_dir)

    remove_dir = os.path.join(train_dir, 'unsup')
    shutil.rmtree(remove_dir)

    batch_size = 32  # test: 32 (1024)
    seed = 123
    train_ds = tf.keras.utils.text_dataset_from_directory(
        'aclImdb/train', batch_size=batch_size, validation_split=0.2,
        subset='training', seed=seed)
    val_ds = tf.keras.utils.text_dataset_from_directory(
        'aclImdb/train', batch_size=batch_size, validation_split=0.2,
        subset='validation', seed=seed)

    for text_batch, label_batch in train_ds.take(1):
      for i in range(5):
        print(label_batch[i].numpy(), text_batch.numpy()[i])

    AUTOTUNE = tf.data.AUTOTUNE

    train_ds = train_ds.cache().prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)

    # Embed a 1,000 word vocabulary into 5 dimensions.
    embedding_layer = tf.keras.layers.Embedding(1000, 5)

    result = embedding_layer(tf.constant([1, 2, 3]))
    result.numpy()
    assert result.numpy().shape == (3, 5)  # test

    result = embedding_layer(tf.constant([[0, 1, 2], [3, 4, 5]]))
    result.shape
    assert result.shape == (2, 3, 5)  # test

    # Create a custom standardization function to strip HTML break tags '<br />'.
    def custom_standardization(input_data):
      lowercase = tf.strings.lower(input_data)
      stripped_html = tf.strings.regex_replace(lowercase, '<br />', ' ')
      return tf.strings.regex_replace(stripped_html,
                                      '[%s]' % re.escape(string.punctuation), '')


    # Vocabulary size and number of words in a sequence.
    vocab_size = 10000
    sequence_length = 100

    # Use the text vectorization layer to normalize, split, and map strings to
    # integers. Note that the layer uses the custom standardization defined above.
    # Set maximum_sequence length as all samples are not of the same length.
    vectorize_layer = TextVectorization(
        standardize=custom_standardization,
        max_tokens=vocab_size,
        output_mode='int',
        output_sequence_length=sequence_length)

    # Make a text-only dataset (no labels) and call adapt to build the vocabulary.
    text_ds = train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(text_ds)

    embedding_dim=16

    model = Sequential([
      vectorize_layer,
      Embedding(vocab_size, embedding_dim, name="embedding"),
      GlobalAveragePooling1D(),
      Dense(16, activation='relu'),
      Dense(1)
    ])

    tensorboard_callback = tf.keras.callbacks.TensorBoard(log_dir="logs")

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    history = model.fit(  # test: history = (not kept)
        train_ds,
        validation_data=val_ds,
        epochs=3,  # test: 3 (15)
        callbacks=[tensorboard_callback])

    model.summary()

    weights = model.get_layer('embedding').get_weights()[0]
    vocab = vectorize_layer.get_vocabulary()

    out_v = io.open('vectors.tsv', 'w', encoding='utf-8')
    out_m = io.open('metadata.tsv', 'w', encoding='utf-8')

    for index, word in enumerate(vocab):
      if index == 0:
        continue  # skip 0, it's padding.
      vec = weights[index]
      out_v.write('\t'.join([str(x) for x in vec]) + "\n")
      out_m.write(word + "\n")
    out_v.close()
    out_m.close()

    # test: what the program produced
    out = capsys.readouterr().out
    assert "Found 160 files belonging to 2 classes." in out and "Using 128 files for training." in out
    assert weights.shape == (vocab_size, embedding_dim) and vocab[:2] == ["", "[UNK]"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    lines = open("vectors.tsv").read().splitlines()
    assert len(lines) == len(vocab) - 1 and all(len(line.split("\t")) == 16 for line in lines)
    assert open("metadata.tsv").read().splitlines() == vocab[1:]
    assert os.path.isdir("logs/train") and os.listdir("logs/train")
