"""keras-io example "Timeseries anomaly detection using an Autoencoder", run on chainrule.

Source: https://keras.io/examples/timeseries/timeseries_anomaly_detection/ (keras-team/keras-io,
examples/timeseries/timeseries_anomaly_detection.py, "Last modified: 2020/05/31").

The example's Keras code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- pandas is not installed here: the two NAB CSV files (`art_daily_small_noise.csv`, `art_daily_jumpsup.csv`,
  read from GitHub by `pd.read_csv`) are replaced by synthetic series of the same form (one value every 5 minutes,
  288 a day: a low night level, a high day level, small noise; the test series with one day that jumps up), as
  (steps, 1) NumPy arrays, so the DataFrame lines become NumPy lines (`df.mean()` -> `.mean(axis=0)`,
  `df.std()` -> `.std(axis=0, ddof=1)`, `df.values` -> the array, `df.iloc[i]` -> `array[i]`);
  `TRAIN_DAYS` = 3 and `TEST_DAYS` = 4 days (14 each), `EPOCHS` = 8 (50);
- the plots draw on matplotlib's Agg backend without `plt.show()` (the DataFrame plots become `plt.plot`);
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
from matplotlib import pyplot as plt

from chainrule import keras
from chainrule.keras import layers

TRAIN_DAYS, TEST_DAYS = 3, 4  # test: the NAB files hold 14 days each
EPOCHS = 8  # test: the example's 50
JUMP_DAY = 2  # test: the day of the test series whose day level jumps up


def art_daily(days, jump_day=None, seed=0):
    """test: stands in for the NAB 'art_daily' series: (days * 288, 1) values, ~20 at night and ~80 by day."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 288)
    hour = (t % 288) / 12.0
    day_level = np.where((hour >= 8) & (hour < 20), 80.0, 20.0)
    if jump_day is not None:
        jump = (t // 288 == jump_day) & (hour >= 8) & (hour < 20)
        day_level = np.where(jump, 160.0, day_level)
    return (day_level + rng.normal(0, 2.0, t.shape))[:, None]


TIME_STEPS = 288


# Generated training sequences for use in the model.
def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i : (i + time_steps)])
    return np.stack(output)


def test_timeseries_anomaly_detection():
    df_small_noise = art_daily(TRAIN_DAYS, seed=1)
    df_daily_jumpsup = art_daily(TEST_DAYS, jump_day=JUMP_DAY, seed=2)

    print(df_small_noise[:5])
    print(df_daily_jumpsup[:5])

    # Normalize and save the mean and std we get,
    # for normalizing test data.
    training_mean = df_small_noise.mean(axis=0)
    training_std = df_small_noise.std(axis=0, ddof=1)
    df_training_value = (df_small_noise - training_mean) / training_std
    print("Number of training samples:", len(df_training_value))

    x_train = create_sequences(df_training_value)
    print("Training input shape: ", x_train.shape)
    assert x_train.shape == (TRAIN_DAYS * 288 - TIME_STEPS + 1, TIME_STEPS, 1)  # test

    model = keras.Sequential(
        [
            layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
            layers.Conv1D(
                filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1D(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1DTranspose(
                filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    model.summary()
    # test: the example's summary: 288 -> 144 -> 72 -> 144 -> 288 steps, 9,505 parameters
    assert model.output_shape == (None, 288, 1)
    assert [layer.output.shape[1] for layer in model.layers if "conv" in layer.name] == [144, 72, 144, 288, 288]
    assert model.count_params() == 9505

    history = model.fit(
        x_train,
        x_train,
        epochs=EPOCHS,
        batch_size=128,
        validation_split=0.1,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")
        ],
    )
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]  # test: it learned to reconstruct

    plt.plot(history.history["loss"], label="Training Loss")
    plt.plot(history.history["val_loss"], label="Validation Loss")
    plt.legend()

    # Get train MAE loss.
    x_train_pred = model.predict(x_train)
    train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)

    plt.hist(train_mae_loss, bins=50)
    plt.xlabel("Train MAE loss")
    plt.ylabel("No of samples")

    # Get reconstruction loss threshold.
    threshold = np.max(train_mae_loss)
    print("Reconstruction error threshold: ", threshold)

    # Checking how the first sequence is learnt
    plt.plot(x_train[0])
    plt.plot(x_train_pred[0])

    df_test_value = (df_daily_jumpsup - training_mean) / training_std
    fig, ax = plt.subplots()
    ax.plot(df_test_value)

    # Create sequences from test values.
    x_test = create_sequences(df_test_value)
    print("Test input shape: ", x_test.shape)

    # Get test MAE loss.
    x_test_pred = model.predict(x_test)
    test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1)
    test_mae_loss = test_mae_loss.reshape((-1))

    plt.hist(test_mae_loss, bins=50)
    plt.xlabel("test MAE loss")
    plt.ylabel("No of samples")

    # Detect all the samples which are anomalies.
    anomalies = test_mae_loss > threshold
    print("Number of anomaly samples: ", np.sum(anomalies))
    print("Indices of anomaly samples: ", np.where(anomalies))

    # data i is an anomaly if samples [(i - timesteps + 1) to (i)] are anomalies
    anomalous_data_indices = []
    for data_idx in range(TIME_STEPS - 1, len(df_test_value) - TIME_STEPS + 1):
        if np.all(anomalies[data_idx - TIME_STEPS + 1 : data_idx]):
            anomalous_data_indices.append(data_idx)

    df_subset = df_daily_jumpsup[anomalous_data_indices]
    fig, ax = plt.subplots()
    ax.plot(df_daily_jumpsup)
    ax.plot(anomalous_data_indices, df_subset, color="r")
    plt.close("all")

    # test: the windows that hold the jump are the anomalies, the day of the jump is found, and no window that
    # ends before the jump begins is flagged
    jump_start, jump_end = JUMP_DAY * 288 + 8 * 12, JUMP_DAY * 288 + 20 * 12
    holds_jump = np.array([i + TIME_STEPS > jump_start and i < jump_end for i in range(len(x_test))])
    assert anomalies[holds_jump].mean() > 0.9
    assert not anomalies[: jump_start - TIME_STEPS].any()
    assert anomalous_data_indices and all(jump_start <= i < jump_end + TIME_STEPS for i in anomalous_data_indices)
