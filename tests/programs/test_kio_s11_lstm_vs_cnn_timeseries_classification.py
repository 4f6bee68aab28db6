"""keras-io example "Timeseries Classification with LSTM and CNN Models", run on chainrule.

Source: https://keras.io/examples/timeseries/lstm_vs_cnn_timeseries_classification/ (keras-team/keras-io,
examples/timeseries/lstm_vs_cnn_timeseries_classification.py, "Last modified: 2025/06/05").

The example's code is kept as written (inside the test function, so that its checkpoint files go to a temporary
folder), except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers` ->
  `from chainrule.keras import layers`;
- `root_url` (GitHub's FordA files) is a temporary folder holding synthetic FordA_TRAIN.tsv / FordA_TEST.tsv of the
  real form (label -1 or 1, then 500 z-normalized values per line; 80 and 40 lines), read by the program's own
  `readucr`; plots go to matplotlib's Agg backend;
- `epochs` is SHRUNK from 100 to 2;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
from chainrule import keras
from chainrule.keras import layers
import matplotlib.pyplot as plt

import pytest

EPOCHS = 2  # SHRUNK from 100


def _write_forda_like(path, n, seed):
    """test: FordA's TSV form: a -1/1 label, then 500 z-normalized values; faults oscillate faster."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([-1, 1], n)
    t = np.arange(500)
    series = np.sin(t[None, :] * np.where(labels == 1, 0.3, 0.1)[:, None] + rng.uniform(0, 6, (n, 1)))
    series += rng.normal(0, 0.3, series.shape)
    series = (series - series.mean(axis=1, keepdims=True)) / series.std(axis=1, keepdims=True)
    np.savetxt(path, np.concatenate([labels[:, None], series], axis=1), delimiter="\t", fmt="%.6g")


@pytest.mark.slow  # two recurrent layers over 500 steps: ~20 s on a shared CPU
def test_lstm_vs_cnn_timeseries_classification(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_forda_like(tmp_path / "FordA_TRAIN.tsv", 80, 0)  # test: instead of the download
    _write_forda_like(tmp_path / "FordA_TEST.tsv", 40, 1)  # test: instead of the download

    def readucr(filename):
        """Read UCR timeseries dataset from a TSV file."""
        data = np.loadtxt(filename, delimiter="\t")
        y = data[:, 0].astype(int)
        x = data[:, 1:].astype(np.float32)
        return x, y

    root_url = f"{tmp_path}/"  # test: the tutorial's GitHub folder

    x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
    x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

    classes = np.unique(np.concatenate((y_train, y_test), axis=0))

    plt.figure(figsize=(8, 4))
    for c in classes:
        c_x_train = x_train[y_train == c]
        plt.plot(c_x_train[0], label=f"class {c}")
    plt.title("Sample Time Series from Each Class")
    plt.xlabel("Timestep")
    plt.ylabel("Amplitude")
    plt.legend(loc="best")
    plt.show()
    plt.close()

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    # Standardize labels: map {-1, 1} to {0, 1}
    y_train = np.where(y_train == -1, 0, y_train)
    y_test = np.where(y_test == -1, 0, y_test)

    # Shuffle training data for validation split
    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    num_classes = len(np.unique(y_train))

    def build_lstm_model(input_shape, num_classes):
        """Build an LSTM-based model for timeseries classification."""
        model = keras.Sequential([
            layers.Input(shape=input_shape),
            layers.LSTM(64, return_sequences=True, dropout=0.3, recurrent_dropout=0.3),
            layers.LSTM(32, dropout=0.3, recurrent_dropout=0.3),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax")
        ])
        return model

    def build_cnn_model(input_shape, num_classes):
        """Build a 1D CNN-based model for timeseries classification."""
        model = keras.Sequential([
            layers.Input(shape=input_shape),
            layers.Conv1D(filters=64, kernel_size=7, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.Conv1D(filters=128, kernel_size=5, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax")
        ])
        return model

    input_shape = x_train.shape[1:]
    lstm_model = build_lstm_model(input_shape, num_classes)
    cnn_model = build_cnn_model(input_shape, num_classes)

    epochs = EPOCHS
    batch_size = 32

    def train_model(model, model_name, x_train, y_train, x_test, y_test):
        """Train and evaluate a model, return history and test metrics."""
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["sparse_categorical_accuracy"]
        )

        history = model.fit(
            x_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=0.2,
            callbacks=[
                keras.callbacks.ModelCheckpoint(
                    f"best_{model_name}_model.keras",
                    save_best_only=True,
                    monitor="val_loss"
                ),
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=20,
                    restore_best_weights=True
                )
            ],
            verbose=1
        )

        # Load best model for evaluation
        best_model = keras.models.load_model(f"best_{model_name}_model.keras")
        test_loss, test_acc = best_model.evaluate(x_test, y_test, verbose=0)
        print(f"{model_name} Test Accuracy: {test_acc:.4f}, Loss: {test_loss:.4f}")

        return history, test_acc, test_loss

    # Train LSTM model
    print("Training LSTM model...")
    lstm_history, lstm_test_acc, lstm_test_loss = train_model(lstm_model, "LSTM", x_train, y_train, x_test, y_test)

    # Train CNN model
    print("Training CNN model...")
    cnn_history, cnn_test_acc, cnn_test_loss = train_model(cnn_model, "CNN", x_train, y_train, x_test, y_test)

    def plot_training_metrics(histories, model_names):
        """Plot training and validation accuracy/loss for multiple models."""
        plt.figure(figsize=(12, 4))

        # Accuracy plot
        plt.subplot(1, 2, 1)
        for history, name in zip(histories, model_names):
            plt.plot(history.history["sparse_categorical_accuracy"], label=f"{name} Train")
            plt.plot(history.history["val_sparse_categorical_accuracy"], linestyle="--", label=f"{name} Val")
        plt.title("Model Accuracy")
        plt.xlabel("Epoch")
        plt.ylabel("Accuracy")
        plt.legend()

        # Loss plot
        plt.subplot(1, 2, 2)
        for history, name in zip(histories, model_names):
            plt.plot(history.history["loss"], label=f"{name} Train")
            plt.plot(history.history["val_loss"], linestyle="--", label=f"{name} Val")
        plt.title("Model Loss")
        plt.xlabel("Epoch")
        plt.ylabel("Loss")
        plt.legend()

        plt.tight_layout()
        plt.show()

    plot_training_metrics([lstm_history, cnn_history], ["LSTM", "CNN"])

    print("\nModel Comparison:")
    print(f"LSTM Test Accuracy: {lstm_test_acc:.4f}, Loss: {lstm_test_loss:.4f}")
    print(f"CNN Test Accuracy: {cnn_test_acc:.4f}, Loss: {cnn_test_loss:.4f}")

    printed = capsys.readouterr().out
    assert "LSTM Test Accuracy:" in printed and "CNN Test Accuracy:" in printed  # test
    assert len(cnn_history.history["val_loss"]) == EPOCHS  # test
    assert (tmp_path / "best_LSTM_model.keras").exists() and (tmp_path / "best_CNN_model.keras").exists()  # test
    assert 0.0 <= lstm_test_acc <= 1.0 and np.isfinite(cnn_test_loss)  # test
