"""keras-io example "Timeseries classification from scratch" (FordA), run on chainrule.

Source: https://keras.io/examples/timeseries/timeseries_classification_from_scratch/
(keras-team/keras-io, examples/timeseries/timeseries_classification_from_scratch.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`;
- `readucr` reads no TSV from GitHub: it returns synthetic univariate series of the same form
  (176 float64 steps, labels -1/1 as ints; the two classes are sines of different frequency
  plus noise), 120 for training and 40 for testing; sklearn's `accuracy_score` is computed with
  NumPy;
- `epochs = 500` is 3; the checkpoint file is written in the test's temporary folder; the plots
  draw on matplotlib's Agg backend without `plt.show()`;
- `keras.utils.plot_model` (which in Keras needs pydot and graphviz; chainrule draws with
  matplotlib where they are missing) is in a section of its own, writing model.png in the test's
  temporary folder;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import matplotlib.pyplot as plt

import chainrule as tf
from chainrule import keras


def readucr(filename):
    """test: stands in for np.loadtxt of FordA_TRAIN.tsv / FordA_TEST.tsv."""
    n, seed = (120, 0) if filename.endswith("TRAIN.tsv") else (40, 1)
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 1], size=n)
    t = np.linspace(0, 6, 176)
    x = np.sin(t[None, :] * (2 + y[:, None])) + rng.normal(scale=0.3, size=(n, 176))
    return x, y.astype(int)


def make_model(input_shape, num_classes):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def test_timeseries_classification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: best_model.h5 in a temporary folder
    root_url = "https://raw.githubusercontent.com/hfawaz/cd-diagram/master/FordA/"

    x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
    x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

    classes = np.unique(np.concatenate((y_train, y_test), axis=0))

    plt.figure()
    for c in classes:
        c_x_train = x_train[y_train == c]
        plt.plot(c_x_train[0], label="class " + str(c))
    plt.legend(loc="best")
    plt.close()

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    num_classes = len(np.unique(y_train))

    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    model = make_model(input_shape=x_train.shape[1:], num_classes=num_classes)

    epochs = 3
    batch_size = 32

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            "best_model.h5", save_best_only=True, monitor="val_loss"
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
    ]
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=1,
    )
    assert (tmp_path / "best_model.h5").exists()  # test
    assert len(history.history["val_loss"]) == 3  # test

    model = keras.models.load_model("best_model.h5")

    y_pred = model.predict(x_test).argmax(axis=1)

    print("Test accuracy", np.mean(y_pred == y_test))  # test: instead of sklearn's accuracy_score
    assert y_pred.shape == (40,)  # test

    metric = "accuracy"
    plt.figure()
    plt.plot(history.history[metric])
    plt.plot(history.history["val_" + metric])
    plt.title("model " + metric)
    plt.close()


def test_plot_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: model.png in a temporary folder
    model = make_model(input_shape=(176, 1), num_classes=2)
    keras.utils.plot_model(model, show_shapes=True)
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # test
