"""TensorFlow tutorial "Text classification with an RNN" (TextVectorization, masked Embedding, Bidirectional LSTMs
on IMDB reviews), run on chainrule.

Source: https://www.tensorflow.org/text/tutorials/text_classification_rnn
(tensorflow/text, docs/tutorials/text_classification_rnn.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- `tfds.load('imdb_reviews', with_info=True, as_supervised=True)` (a download) is replaced by datasets of the same
  elements, (scalar string, int64 label), made with `tf.data.Dataset.from_tensor_slices` from synthetic reviews
  (tests/programs/aclimdb_like.py): 192 for training and 64 for testing (25000 each); `tfds.disable_progress_bar()`
  is left out;
- `epochs=10` is 2 and `validation_steps=30` is 1 for the first model, the second model (two stacked Bidirectional
  LSTMs) trains for 1 epoch; `plt.show()` is left out;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np

import chainrule as tf

import matplotlib.pyplot as plt

import aclimdb_like


def test_text_classification_rnn(capsys):
    def plot_graphs(history, metric):
      plt.plot(history.history[metric])
      plt.plot(history.history['val_'+metric], '')
      plt.xlabel("Epochs")
      plt.ylabel(metric)
      plt.legend([metric, 'val_'+metric])

    # test: instead of tfds.load('imdb_reviews', with_info=True, as_supervised=True)
    dataset = {"train": tf.data.Dataset.from_tensor_slices(aclimdb_like.load_reviews(192, seed=1)),
               "test": tf.data.Dataset.from_tensor_slices(aclimdb_like.load_reviews(64, seed=2))}
    train_dataset, test_dataset = dataset['train'], dataset['test']

    train_dataset.element_spec
    assert train_dataset.element_spec == (tf.TensorSpec(shape=(), dtype=tf.string),  # test
                                          tf.TensorSpec(shape=(), dtype=tf.int64))

    for example, label in train_dataset.take(1):
      print('text: ', example.numpy())
      print('label: ', label.numpy())

    BUFFER_SIZE = 10000
    BATCH_SIZE = 64

    train_dataset = train_dataset.shuffle(BUFFER_SIZE).batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)
    test_dataset = test_dataset.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)

    for example, label in train_dataset.take(1):
      print('texts: ', example.numpy()[:3])
      print()
      print('labels: ', label.numpy()[:3])

    VOCAB_SIZE = 1000
    encoder = tf.keras.layers.TextVectorization(
        max_tokens=VOCAB_SIZE)
    encoder.adapt(train_dataset.map(lambda text, label: text))

    vocab = np.array(encoder.get_vocabulary())
    vocab[:20]

    encoded_example = encoder(example)[:3].numpy()
    encoded_example

    for n in range(3):
      print("Original: ", example[n].numpy())
      print("Round-trip: ", " ".join(vocab[encoded_example[n]]))
      print()

    model = tf.keras.Sequential([
        encoder,
        tf.keras.layers.Embedding(
            input_dim=len(encoder.get_vocabulary()),
            output_dim=64,
            # Use masking to handle the variable sequence lengths
            mask_zero=True),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(64)),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dense(1)
    ])

    print([layer.supports_masking for layer in model.layers])

    # predict on a sample text without padding.

    sample_text = ('The movie was cool. The animation and the graphics '
                   'were out of this world. I would recommend this movie.')
    predictions = model.predict(np.array([sample_text]))
    print(predictions[0])
    unpadded = predictions[0]  # test

    # predict on a sample text with padding

    padding = "the " * 2000
    predictions = model.predict(np.array([sample_text, padding]))
    print(predictions[0])
    np.testing.assert_allclose(predictions[0], unpadded, rtol=1e-5, atol=1e-6)  # test: the mask hides the padding

    model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(1e-4),
                  metrics=['accuracy'])

    history = model.fit(train_dataset, epochs=2,  # test: 2 (10)
                        validation_data=test_dataset,
                        validation_steps=1)  # test: 1 (30)

    test_loss, test_acc = model.evaluate(test_dataset)

    print('Test Loss:', test_loss)
    print('Test Accuracy:', test_acc)

    plt.figure(figsize=(16, 8))
    plt.subplot(1, 2, 1)
    plot_graphs(history, 'accuracy')
    plt.ylim(None, 1)
    plt.subplot(1, 2, 2)
    plot_graphs(history, 'loss')
    plt.ylim(0, None)

    sample_text = ('The movie was cool. The animation and the graphics '
                   'were out of this world. I would recommend this movie.')
    predictions = model.predict(np.array([sample_text]))

    model = tf.keras.Sequential([
        encoder,
        tf.keras.layers.Embedding(len(encoder.get_vocabulary()), 64, mask_zero=True),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(64,  return_sequences=True)),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(32)),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(1)
    ])

    model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(1e-4),
                  metrics=['accuracy'])

    history = model.fit(train_dataset, epochs=1,  # test: 1 (10)
                        validation_data=test_dataset,
                        validation_steps=1)  # test: 1 (30)

    test_loss, test_acc = model.evaluate(test_dataset)

    print('Test Loss:', test_loss)
    print('Test Accuracy:', test_acc)

    # predict on a sample text without padding.

    sample_text = ('The movie was not good. The animation and the graphics '
                   'were terrible. I would not recommend this movie.')
    predictions = model.predict(np.array([sample_text]))
    print(predictions)

    plt.figure(figsize=(16, 6))
    plt.subplot(1, 2, 1)
    plot_graphs(history, 'accuracy')
    plt.subplot(1, 2, 2)
    plot_graphs(history, 'loss')
    plt.close("all")

    # test: what the program produced
    out = capsys.readouterr().out
    assert "text:  b'" in out and "[False, True, True, True, True]" in out
    assert list(vocab[:4]) == ["", "[UNK]", "a", "was"] and "br" in vocab  # the default standardize keeps "br"
    assert encoded_example.shape[0] == 3 and encoded_example.shape[1] >= 24
    assert predictions.shape == (1, 1) and np.isfinite(test_loss) and 0 <= test_acc <= 1
