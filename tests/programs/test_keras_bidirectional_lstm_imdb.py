"""keras-io example "Bidirectional LSTM on IMDB", run on chainrule.

Source: https://keras.io/examples/nlp/bidirectional_lstm_imdb/ (keras-team/keras-io,
examples/nlp/bidirectional_lstm_imdb.py, "Last modified: 2020/05/03").

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- `keras.datasets.imdb` is the synthetic stand-in `imdb_like` (no download): 128 training
  and 64 validation reviews of 20 to 300 words whose sentiment shows in which words occur;
- lines marked `# test:` check what the program produces.
"""

import numpy as np
from chainrule import keras
from chainrule.keras import layers

import imdb_like


def test_bidirectional_lstm_on_imdb(capsys):
    max_features = 20000  # Only consider the top 20k words
    maxlen = 200  # Only consider the first 200 words of each movie review

    # Input for variable-length sequences of integers
    inputs = keras.Input(shape=(None,), dtype="int32")
    # Embed each integer in a 128-dimensional vector
    x = layers.Embedding(max_features, 128)(inputs)
    # Add 2 bidirectional LSTMs
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    # Add a classifier
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.summary()

    (x_train, y_train), (x_val, y_val) = imdb_like.load_data(
        num_words=max_features
    )
    print(len(x_train), "Training sequences")
    print(len(x_val), "Validation sequences")
    # Use pad_sequence to standardize sequence length:
    # this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
    x_train = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.preprocessing.sequence.pad_sequences(x_val, maxlen=maxlen)

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))

    # test: the printed counts, the model's parameters, and the training loss falling in two epochs
    out = capsys.readouterr().out
    assert "128 Training sequences" in out and "64 Validation sequences" in out
    assert x_train.shape == (128, 200) and x_val.shape == (64, 200)
    lstm_1, lstm_2 = 2 * 4 * 64 * (128 + 64 + 1), 2 * 4 * 64 * (128 + 64 + 1)
    assert model.count_params() == max_features * 128 + lstm_1 + lstm_2 + 128 + 1
    print(history.history)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert all(np.isfinite(history.history[key]).all() for key in ("val_loss", "val_accuracy"))
