"""TensorFlow tutorial "Load text" (Stack Overflow questions from a folder of text files with
text_dataset_from_directory, 'binary' and 'int' TextVectorization models, one exported and reloaded; lines of three
translations of the Iliad labelled and merged with tf.data), run on chainrule up to the part that needs
tensorflow_text.

Source: https://www.tensorflow.org/tutorials/load_data/text (tensorflow/docs, site/en/tutorials/load_data/text.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import ...` ->
  `from chainrule.keras import ...`;
- the program stops before `class MyTokenizer`: the rest uses tensorflow_text's UnicodeScriptTokenizer and
  case_fold_utf8 and tensorflow_datasets, which are neither TensorFlow nor chainrule (so their imports are left
  out too);
- the downloads (stack_overflow_16k.tar.gz, the three Iliad translations) are replaced by synthetic files of the
  same layout in the test's temporary folder (tests/programs/text_like.py): 4 x 40 training and 4 x 16 test
  questions (16000), 150 lines per translation;
- `epochs=10` is 2; the vocabulary indices printed (1289, 313) are 12 and 3 of the smaller vocabulary; the figures
  are drawn on matplotlib's Agg backend;
- the two `tf.keras.utils.plot_model` calls are left out: the models are not built yet (a Sequential whose first
  layer is a TextVectorization gets its input shape at its first call), and Keras 3, as chainrule, refuses to plot
  a model that is not built;
- lines marked `# test:` check what the program produces.
"""

import collections
import pathlib

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers
from chainrule.keras import losses
from chainrule.keras import utils
from chainrule.keras.layers import TextVectorization

import text_like


@pytest.mark.slow
def test_load_text(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data_url = 'https://storage.googleapis.com/download.tensorflow.org/data/stack_overflow_16k.tar.gz'
    dataset_dir = text_like.stack_overflow("stack_overflow") / "README.md"  # test: instead of utils.get_file(..., untar=True)
    dataset_dir = pathlib.Path(dataset_dir).parent
    list(dataset_dir.iterdir())
    train_dir = dataset_dir/'train'
    list(train_dir.iterdir())
    sample_file = train_dir/'python/1755.txt'
    with open(sample_file) as f:
      print(f.read())
    batch_size = 32
    seed = 42
    raw_train_ds = utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset='training',
        seed=seed)
    for text_batch, label_batch in raw_train_ds.take(1):
      for i in range(10):
        print("Question: ", text_batch.numpy()[i])
        print("Label:", label_batch.numpy()[i])
    for i, label in enumerate(raw_train_ds.class_names):
      print("Label", i, "corresponds to", label)
    # Create a validation set.
    raw_val_ds = utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset='validation',
        seed=seed)
    test_dir = dataset_dir/'test'
    # Create a test set.
    raw_test_ds = utils.text_dataset_from_directory(
        test_dir,
        batch_size=batch_size)
    raw_train_ds = raw_train_ds.cache().prefetch(buffer_size=tf.data.AUTOTUNE)
    raw_val_ds = raw_val_ds.cache().prefetch(buffer_size=tf.data.AUTOTUNE)
    raw_test_ds = raw_test_ds.prefetch(buffer_size=tf.data.AUTOTUNE)
    VOCAB_SIZE = 10000
    binary_vectorize_layer = TextVectorization(
        max_tokens=VOCAB_SIZE,
        output_mode='binary')
    MAX_SEQUENCE_LENGTH = 250
    int_vectorize_layer = TextVectorization(
        max_tokens=VOCAB_SIZE,
        output_mode='int',
        output_sequence_length=MAX_SEQUENCE_LENGTH)
    # Make a text-only dataset (without labels), then call `TextVectorization.adapt`.
    train_text = raw_train_ds.map(lambda text, labels: text)
    binary_vectorize_layer.adapt(train_text)
    int_vectorize_layer.adapt(train_text)
    # Retrieve a batch (of 32 reviews and labels) from the dataset.
    text_batch, label_batch = next(iter(raw_train_ds))
    first_question, first_label = text_batch[0], label_batch[0]
    print("Question:", first_question)
    print("Label:", first_label)
    print("'binary' vectorized question:",
          list(binary_vectorize_layer(first_question).numpy()))
    plt.plot(binary_vectorize_layer(first_question).numpy())
    plt.xlim(0,1000)
    print("'int' vectorized question:",
          int_vectorize_layer(first_question).numpy())
    print("1289 ---> ", int_vectorize_layer.get_vocabulary()[12])  # test: 12 (1289)
    print("313 ---> ", int_vectorize_layer.get_vocabulary()[3])  # test: 3 (313)
    print("Vocabulary size: {}".format(len(int_vectorize_layer.get_vocabulary())))
    binary_model = tf.keras.Sequential([
        binary_vectorize_layer,
        layers.Dense(4)])
    binary_model.compile(
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer='adam',
        metrics=['accuracy'])
    # tf.keras.utils.plot_model(binary_model, show_shapes=True)  # test: left out (see the module's docstring)
    bin_history = binary_model.fit(
        raw_train_ds, validation_data=raw_val_ds, epochs=2)  # test: 2 (10)
    print()
    def create_model(vocab_size, num_labels, vectorizer=None):
      my_layers =[]
      if vectorizer is not None:
        my_layers = [vectorizer]
      my_layers.extend([
          layers.Embedding(vocab_size, 64, mask_zero=True),
          layers.Dropout(0.5),
          layers.Conv1D(64, 5, padding="valid", activation="relu", strides=2),
          layers.GlobalMaxPooling1D(),
          layers.Dense(num_labels)
      ])
      model = tf.keras.Sequential(my_layers)
      return model
    # `vocab_size` is `VOCAB_SIZE + 1` since `0` is used additionally for padding.
    int_model = create_model(vocab_size=VOCAB_SIZE + 1, num_labels=4, vectorizer=int_vectorize_layer)
    # tf.keras.utils.plot_model(int_model, show_shapes=True)  # test: left out (see the module's docstring)
    int_model.compile(
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer='adam',
        metrics=['accuracy'])
    int_history = int_model.fit(raw_train_ds, validation_data=raw_val_ds, epochs=2)  # test: 2 (10)
    loss = plt.plot(bin_history.epoch, bin_history.history['loss'], label='bin-loss')
    plt.plot(bin_history.epoch, bin_history.history['val_loss'], '--', color=loss[0].get_color(), label='bin-val_loss')
    loss = plt.plot(int_history.epoch, int_history.history['loss'], label='int-loss')
    plt.plot(int_history.epoch, int_history.history['val_loss'], '--', color=loss[0].get_color(), label='int-val_loss')
    plt.legend()
    plt.xlabel('Epoch')
    plt.ylabel('CE/token')
    binary_train_ds = raw_train_ds.map(lambda x,y: (binary_vectorize_layer(x), y))
    binary_val_ds = raw_val_ds.map(lambda x,y: (binary_vectorize_layer(x), y))
    binary_test_ds = raw_test_ds.map(lambda x,y: (binary_vectorize_layer(x), y))
    int_train_ds = raw_train_ds.map(lambda x,y: (int_vectorize_layer(x), y))
    int_val_ds = raw_val_ds.map(lambda x,y: (int_vectorize_layer(x), y))
    int_test_ds = raw_test_ds.map(lambda x,y: (int_vectorize_layer(x), y))
    binary_model.export('bin.tf')
    loaded = tf.saved_model.load('bin.tf')
    binary_model.predict(['How do you sort a list?'])
    loaded.serve(tf.constant(['How do you sort a list?'])).numpy()
    DIRECTORY_URL = 'https://storage.googleapis.com/download.tensorflow.org/data/illiad/'
    FILE_NAMES = ['cowper.txt', 'derby.txt', 'butler.txt']
    for name in FILE_NAMES:
      text_dir = text_like.iliad_translation(name)  # test: instead of utils.get_file(name, origin=DIRECTORY_URL + name)
    parent_dir = pathlib.Path(text_dir).parent
    list(parent_dir.iterdir())
    def labeler(example, index):
      return example, tf.cast(index, tf.int64)
    labeled_data_sets = []
    for i, file_name in enumerate(FILE_NAMES):
      lines_dataset = tf.data.TextLineDataset(str(parent_dir/file_name))
      labeled_dataset = lines_dataset.map(lambda ex: labeler(ex, i))
      labeled_data_sets.append(labeled_dataset)
    BUFFER_SIZE = 50000
    BATCH_SIZE = 64
    VALIDATION_SIZE = 5000
    all_labeled_data = labeled_data_sets[0]
    for labeled_dataset in labeled_data_sets[1:]:
      all_labeled_data = all_labeled_data.concatenate(labeled_dataset)
    all_labeled_data = all_labeled_data.shuffle(
        BUFFER_SIZE, reshuffle_each_iteration=False)
    for text, label in all_labeled_data.take(10):
      print("Sentence: ", text.numpy())
      print("Label:", label.numpy())

    plt.close("all")

    # test: what the program produced
    out = capsys.readouterr().out
    assert "Found 160 files belonging to 4 classes." in out and "Using 128 files for training." in out
    assert "Label 3 corresponds to python" in out and "Saved artifact at 'bin.tf'" in out
    assert len(bin_history.history["loss"]) == 2 and int_history.history["loss"][-1] < int_history.history["loss"][0]
    served = loaded.serve(tf.constant(['How do you sort a list?'])).numpy()
    np.testing.assert_allclose(served, binary_model.predict(['How do you sort a list?']), rtol=1e-5, atol=1e-6)
    assert "Sentence:  b'" in out and {int(l) for _, l in all_labeled_data} == {0, 1, 2}
    assert len(list(all_labeled_data)) == 450
