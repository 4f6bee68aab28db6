"""keras-io example "Timeseries classification with a Transformer model" (FordA), run on chainrule.

Source: https://keras.io/examples/timeseries/timeseries_classification_transformer/ (keras-team/keras-io,
examples/timeseries/timeseries_classification_transformer.py, "Last modified: 2021/08/05").

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- the FordA TSV files (read from GitHub by `readucr`'s `np.loadtxt`) are synthetic TSV files of the same form,
  written in the test's temporary folder and read by the example's `readucr`: a label (-1 or 1) then the series,
  `STEPS` = 100 steps (500), 160 training and 48 test rows (3601 and 1320); the classes are sines of different
  frequency plus noise;
- shrunk through the call's arguments: head_size=32 (256), num_transformer_blocks=2 (4), epochs=3 (200);
- lines marked `# test:` check what the program produces.
"""

import numpy as np

from chainrule import keras
from chainrule.keras import layers

STEPS = 100  # test: FordA's 500 steps


def fordA_like(path, n, seed):
    """test: writes a FordA-like TSV: label (-1/1) then STEPS values per row."""
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 1], size=n)
    t = np.linspace(0, 6, STEPS)
    x = np.sin(t[None, :] * (2 + y[:, None])) + rng.normal(scale=0.3, size=(n, STEPS))
    np.savetxt(path, np.column_stack([y, x]), delimiter="\t", fmt="%.6f")


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def test_timeseries_transformer(tmp_path):
    root_url = str(tmp_path) + "/"  # test: the example's GitHub folder
    fordA_like(root_url + "FordA_TRAIN.tsv", 160, seed=0)
    fordA_like(root_url + "FordA_TEST.tsv", 48, seed=1)

    x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
    x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    n_classes = len(np.unique(y_train))

    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def build_model(
        input_shape,
        head_size,
        num_heads,
        ff_dim,
        num_transformer_blocks,
        mlp_units,
        dropout=0,
        mlp_dropout=0,
    ):
        inputs = keras.Input(shape=input_shape)
        x = inputs
        for _ in range(num_transformer_blocks):
            x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

        x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
        for dim in mlp_units:
            x = layers.Dense(dim, activation="relu")(x)
            x = layers.Dropout(mlp_dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    input_shape = x_train.shape[1:]

    model = build_model(
        input_shape,
        head_size=32,  # test: the example's 256
        num_heads=4,
        ff_dim=4,
        num_transformer_blocks=2,  # test: the example's 4
        mlp_units=[128],
        mlp_dropout=0.4,
        dropout=0.25,
    )

    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    model.summary()

    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

    history = model.fit(
        x_train,
        y_train,
        validation_split=0.2,
        epochs=3,  # test: the example's 200
        batch_size=64,
        callbacks=callbacks,
    )

    score = model.evaluate(x_test, y_test, verbose=1)

    # test: each encoder block is attention (4 heads of 32) + a 1x1-conv feed-forward back to 1 feature
    mha = [layer for layer in model.layers if isinstance(layer, layers.MultiHeadAttention)]
    assert len(mha) == 2 and mha[0].count_params() == 4 * 32 * 3 + 4 * 32 * 3 + 4 * 32 + 1
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}
    assert np.isfinite(history.history["loss"]).all() and 0.0 <= score[1] <= 1.0
