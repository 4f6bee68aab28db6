"""TensorFlow tutorial "Basic text classification" (sentiment of IMDB reviews from text files), run on chainrule.

Source: https://www.tensorflow.org/tutorials/keras/text_classification
(tensorflow/docs, site/en/tutorials/keras/text_classification.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import ...` ->
  `from chainrule.keras import ...`;
- the download of the IMDB reviews (`tf.keras.utils.get_file("aclImdb_v1", url, untar=True, ...)`, 80 MB) is
  replaced by a synthetic folder of the same layout (tests/programs/aclimdb_like.py): 80 reviews per class for
  training, 32 for testing (12500 each);
- `epochs = 10` is 5; `plt.show()` is left out (the figures are drawn on matplotlib's Agg backend);
- the vocabulary indices the tutorial prints (1287, 313) are beyond the synthetic vocabulary: 12 and 3;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import os
import re
import shutil
import string

import numpy as np

import chainrule as tf
from chainrule.keras import layers
from chainrule.keras import losses

import aclimdb_like


def test_text_classification(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    print(tf.__version__)

    dataset = aclimdb_like.write_archive(os.path.join(tmp_path, "aclImdb_v1"))  # test: instead of get_file(...)
    dataset_dir = os.path.dirname(dataset)
    os.listdir(dataset_dir)

    train_dir = os.path.join(dataset_dir, 'aclImdb', 'train')
    test_dir = os.path.join(dataset_dir, 'aclImdb', 'test')
    os.listdir(train_dir)

    sample_file = os.path.join(train_dir, 'pos', '1181_9.txt')
    with open(sample_file) as f:
      print(f.read())

    remove_dir = os.path.join(train_dir, 'unsup')
    shutil.rmtree(remove_dir)

    batch_size = 32
    seed = 42

    raw_train_ds = tf.keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset='training',
        seed=seed)

    for text_batch, label_batch in raw_train_ds.take(1):
      for i in range(3):
        print("Review", text_batch.numpy()[i])
        print("Label", label_batch.numpy()[i])
    assert isinstance(text_batch.numpy()[0], bytes)  # test: text comes back as bytes, as in TensorFlow

    print("Label 0 corresponds to", raw_train_ds.class_names[0])
    print("Label 1 corresponds to", raw_train_ds.class_names[1])

    raw_val_ds = tf.keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset='validation',
        seed=seed)

    raw_test_ds = tf.keras.utils.text_dataset_from_directory(
        test_dir,
        batch_size=batch_size)

    def custom_standardization(input_data):
      lowercase = tf.strings.lower(input_data)
      stripped_html = tf.strings.regex_replace(lowercase, '<br />', ' ')
      return tf.strings.regex_replace(stripped_html,
                                      '[%s]' % re.escape(string.punctuation),
                                      '')

    max_features = 10000
    sequence_length = 250

    vectorize_layer = layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode='int',
        output_sequence_length=sequence_length)

    # Make a text-only dataset (without labels), then call adapt
    train_text = raw_train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(train_text)

    def vectorize_text(text, label):
      text = tf.expand_dims(text, -1)
      return vectorize_layer(text), label

    # retrieve a batch (of 32 reviews and labels) from the dataset
    text_batch, label_batch = next(iter(raw_train_ds))
    first_review, first_label = text_batch[0], label_batch[0]
    print("Review", first_review)
    print("Label", raw_train_ds.class_names[first_label])
    print("Vectorized review", vectorize_text(first_review, first_label))

    print("1287 ---> ",vectorize_layer.get_vocabulary()[12])  # test: 12 (1287)
    print(" 313 ---> ",vectorize_layer.get_vocabulary()[3])  # test: 3 (313)
    print('Vocabulary size: {}'.format(len(vectorize_layer.get_vocabulary())))

    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    test_ds = raw_test_ds.map(vectorize_text)

    AUTOTUNE = tf.data.AUTOTUNE

    train_ds = train_ds.cache().prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)
    test_ds = test_ds.cache().prefetch(buffer_size=AUTOTUNE)

    embedding_dim = 16

    model = tf.keras.Sequential([
      layers.Embedding(max_features, embedding_dim),
      layers.Dropout(0.2),
      layers.GlobalAveragePooling1D(),
      layers.Dropout(0.2),
      layers.Dense(1, activation='sigmoid')])

    model.summary()

    model.compile(loss=losses.BinaryCrossentropy(),
                  optimizer='adam',
                  metrics=[tf.metrics.BinaryAccuracy(threshold=0.5)])

    epochs = 5  # test: 5 (10)
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs)

    loss, accuracy = model.evaluate(test_ds)

    print("Loss: ", loss)
    print("Accuracy: ", accuracy)

    history_dict = history.history
    history_dict.keys()

    acc = history_dict['binary_accuracy']
    val_acc = history_dict['val_binary_accuracy']
    loss = history_dict['loss']
    val_loss = history_dict['val_loss']

    epochs = range(1, len(acc) + 1)

    # "bo" is for "blue dot"
    plt.plot(epochs, loss, 'bo', label='Training loss')
    # b is for "solid blue line"
    plt.plot(epochs, val_loss, 'b', label='Validation loss')
    plt.title('Training and validation loss')
    plt.xlabel('Epochs')
    plt.ylabel('Loss')
    plt.legend()

    plt.plot(epochs, acc, 'bo', label='Training acc')
    plt.plot(epochs, val_acc, 'b', label='Validation acc')
    plt.title('Training and validation accuracy')
    plt.xlabel('Epochs')
    plt.ylabel('Accuracy')
    plt.legend(loc='lower right')
    plt.close("all")

    export_model = tf.keras.Sequential([
      vectorize_layer,
      model,
      layers.Activation('sigmoid')
    ])

    export_model.compile(
        loss=losses.BinaryCrossentropy(from_logits=False), optimizer="adam", metrics=['accuracy']
    )

    # Test it with `raw_test_ds`, which yields raw strings
    metrics = export_model.evaluate(raw_test_ds, return_dict=True)
    print(metrics)

    examples = tf.constant([
      "The movie was great!",
      "The movie was okay.",
      "The movie was terrible..."
    ])

    predictions = export_model.predict(examples)

    # test: the program's output
    out = capsys.readouterr().out
    assert "Found 160 files belonging to 2 classes." in out and "Using 128 files for training." in out
    assert "Using 32 files for validation." in out and "Found 64 files belonging to 2 classes." in out
    assert "Label 0 corresponds to neg" in out and "Label 1 corresponds to pos" in out
    assert len(vectorize_layer.get_vocabulary()) == 2 + 28  # '', '[UNK]' and the 28 words of the reviews
    assert history_dict['loss'][-1] < history_dict['loss'][0]
    assert set(metrics) == {"loss", "accuracy"}
    assert predictions.shape == (3, 1) and np.all((predictions > 0.5) & (predictions < 0.74))  # sigmoid twice
    assert predictions[0, 0] > predictions[2, 0]  # "great" reads more positive than "terrible"
