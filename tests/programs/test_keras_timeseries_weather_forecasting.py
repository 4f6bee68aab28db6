"""keras-io example "Timeseries forecasting for weather prediction" (Jena climate, LSTM), run on chainrule.

Source: https://keras.io/examples/timeseries/timeseries_weather_forecasting/
(keras-team/keras-io, examples/timeseries/timeseries_weather_forecasting.py).

The example's Keras code is kept as written, except:
- the import line: `from tensorflow import keras` -> `from chainrule import keras`;
- pandas is not installed here: the Jena climate CSV (a zip download read by `pd.read_csv`) is
  replaced by 1,500 synthetic rows of the 14 feature columns as a float64 NumPy matrix (daily
  cycles plus noise), so the DataFrame selections become NumPy column selections
  (`features[:, [1]]` for `features.iloc[...][[1]]`); the raw and heat-map plots are left out;
- sizes shrunk: past=120 and future=12 steps (720 and 72), batch_size=64 (256), epochs=1 (10);
  the checkpoint file is written in the test's temporary folder, named `model_checkpoint.weights.h5`
  (the example's `model_checkpoint.h5` with `save_weights_only=True` is refused by Keras 3's
  ModelCheckpoint, which asks weights files to end in `.weights.h5`); the plots draw on
  matplotlib's Agg backend without `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np

from chainrule import keras


def jena_like(rows=1500, seed=0):
    """test: stands in for pd.read_csv('jena_climate_2009_2016.csv')[feature_keys].values."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None]
    phase = rng.uniform(0, 2 * np.pi, 14)
    scale = rng.uniform(1, 100, 14)
    return scale * np.sin(2 * np.pi * t / 144 + phase) + rng.normal(0, 1, (rows, 14)) + scale


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


def test_weather_forecasting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the checkpoint in a temporary folder
    df = jena_like()

    split_fraction = 0.715
    train_split = int(split_fraction * int(df.shape[0]))
    step = 6

    past = 120
    future = 12
    learning_rate = 0.001
    batch_size = 64
    epochs = 1

    features = df[:, [0, 1, 5, 7, 8, 10, 11]]  # test: df[selected_features]
    features = normalize(features, train_split)

    train_data = features[0:train_split]
    val_data = features[train_split:]

    start = past + future
    end = start + train_split

    x_train = train_data[:, [i for i in range(7)]]
    y_train = features[start:end][:, [1]]

    sequence_length = int(past / step)

    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    x_end = len(val_data) - past - future

    label_start = train_split + past + future

    x_val = val_data[:x_end][:, [i for i in range(7)]]
    y_val = features[label_start:][:, [1]]

    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train.take(1):
        inputs, targets = batch

    print("Input shape:", inputs.numpy().shape)
    print("Target shape:", targets.numpy().shape)
    assert inputs.numpy().shape == (64, 20, 7) and targets.numpy().shape == (64, 1)  # test

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    model.summary()

    path_checkpoint = "model_checkpoint.weights.h5"  # test: Keras 3 asks weights-only files to end so
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=1,
        save_weights_only=True,
        save_best_only=True,
    )

    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
    )
    assert set(history.history) == {"loss", "val_loss"}  # test
    assert (tmp_path / path_checkpoint).exists()  # test

    def visualize_loss(history, title):
        loss = history.history["loss"]
        val_loss = history.history["val_loss"]
        epochs = range(len(loss))
        plt.figure()
        plt.plot(epochs, loss, "b", label="Training loss")
        plt.plot(epochs, val_loss, "r", label="Validation loss")
        plt.title(title)
        plt.close()

    visualize_loss(history, "Training and Validation Loss")

    def show_plot(plot_data, delta, title):
        labels = ["History", "True Future", "Model Prediction"]
        marker = [".-", "rx", "go"]
        time_steps = list(range(-(plot_data[0].shape[0]), 0))
        if delta:
            future = delta
        else:
            future = 0

        plt.title(title)
        for i, val in enumerate(plot_data):
            if i:
                plt.plot(future, plot_data[i], marker[i], markersize=10, label=labels[i])
            else:
                plt.plot(time_steps, plot_data[i].flatten(), marker[i], label=labels[i])
        plt.legend()
        plt.xlim([time_steps[0], (future + 5) * 2])
        plt.xlabel("Time-Step")
        plt.close()
        return

    shown = 0  # test
    for x, y in dataset_val.take(5):
        show_plot(
            [x[0][:, 1].numpy(), y[0].numpy(), model.predict(x)[0]],
            12,
            "Single Step Prediction",
        )
        shown += 1  # test
    assert shown == 3  # test: the shrunk validation series makes 3 batches
