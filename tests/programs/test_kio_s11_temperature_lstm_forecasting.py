"""keras-io example "Timeseries forecasting with LSTM for temperature prediction", run on chainrule.

Source: keras-team/keras-io, examples/timeseries/timeseries_forecasting_with_lstm_for_temperature_prediction.py
("Last modified: 2020/06/28", tf.keras).

The example's code is kept as written (inside the test function, so that its CSV goes to a temporary folder), except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`, `import tensorflow as tf` ->
  `import chainrule as tf`;
- the `! wget` line (a shell command) is replaced by writing a synthetic austin_weather.csv: a daily Date and a
  seasonal TempAvgF from 2014-01-01 to 2017-06-30 (the real file spans 2013-12-21 to 2017-07-31);
- the 200 epochs are SHRUNK to EPOCHS = 2; plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

from matplotlib import pyplot as plt
from chainrule import keras
from chainrule.keras import layers

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import chainrule as tf

EPOCHS = 2  # SHRUNK from 200


def _write_austin_weather_like(path, seed=0):
    """test: austin_weather.csv's Date and TempAvgF columns, a yearly cycle with day-to-day noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2014-01-01", "2017-06-30", freq="D")
    temp = 70 - 18 * np.cos(2 * np.pi * (dates.dayofyear - 15) / 365.25) + rng.normal(0, 4, len(dates))
    pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "TempHighF": np.round(temp + 10).astype(int),
                  "TempAvgF": np.round(temp).astype(int), "TempLowF": np.round(temp - 10).astype(int)}
                 ).to_csv(path, index=False)


def test_temperature_lstm_forecasting(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_austin_weather_like("austin_weather.csv")  # test: instead of `! wget .../austin_weather.csv`

    # Load the data
    df = pd.read_csv("austin_weather.csv")
    df["Date"] = pd.to_datetime(df["Date"])
    print(df.head(5))

    df["month"] = df["Date"].dt.month
    df["day"] = df["Date"].dt.day

    fig, ax = plt.subplots(figsize=[16, 9])
    ax.plot("Date", "TempAvgF", data=df)
    ax.grid(True)
    ax.set_xlabel("Date")
    ax.set_ylabel("Avg. Temperature (F)")
    ax.set_title("Austin temperature pattern")

    # Monthly x axis labels
    months = mdates.MonthLocator()  # every month
    months_fmt = mdates.DateFormatter("%Y-%m")
    ax.xaxis.set_major_locator(months)
    ax.xaxis.set_major_formatter(months_fmt)

    # rotates and right aligns the x labels, and moves the bottom of the
    # axes up to make room for them
    fig.autofmt_xdate(rotation=90)

    data_df = df[["Date", "TempAvgF", "month", "day"]]
    data_df["Target"] = df["TempAvgF"].shift(-10)
    data_df.dropna(inplace=True)
    print(data_df.head())

    # Train and validation split
    data_train = data_df[data_df["Date"].dt.year < 2016]
    data_validation = data_df[data_df["Date"].dt.year > 2016]

    # Extract the required features and target from the dataframe
    feature_list = ["TempAvgF", "month", "day"]
    X_train = data_train[feature_list].values
    y_train = data_train["Target"].values
    X_validation = data_validation[feature_list].values
    y_validation = data_validation["Target"].values

    dataset_train = tf.keras.preprocessing.timeseries_dataset_from_array(
        X_train, y_train, sequence_length=10, sequence_stride=1
    )
    dataset_validation = tf.keras.preprocessing.timeseries_dataset_from_array(
        X_validation,
        y_validation,
        sequence_length=10,
        batch_size=X_validation.shape[0] - 10,
        sequence_stride=1,
    )

    # A sneak peek at the data
    for batch in dataset_train:
        inputs, targets = batch
        break
    inp_arr = inputs.numpy()
    print("Input shape:  {}".format(inp_arr.shape))
    print("Target shape: {}".format(targets.numpy().shape))

    print("Sample of input:")
    print(inp_arr[0], "\n\n", inp_arr[1])

    print("Targets: \n {}".format(targets))

    model = keras.Sequential(
        [
            layers.Input(shape=(inputs.shape[1], inputs.shape[2])),
            # Uncomment below line if you want to use intermediate layers.
            # layers.LSTM(20, return_sequences=True),
            layers.LSTM(20, return_sequences=False),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.summary()

    history = model.fit(dataset_train, epochs=EPOCHS, validation_data=dataset_validation)

    plt.figure()
    plt.plot(history.history["loss"], label="Training Loss")
    plt.plot(history.history["val_loss"], label="Validation Loss")
    plt.legend()

    input_validation, target_validation = next(iter(dataset_validation))
    output_validation = model.predict(input_validation)

    # Plot overlay plots for comparison
    plt.figure(figsize=[12, 8])
    plt.plot(target_validation.numpy())
    plt.plot(output_validation)
    plt.legend(["Target", "Predicted"])
    plt.title("Predictions and ground truth on validation data")

    # test: what the program produced
    printed = capsys.readouterr().out
    assert "Input shape:  (128, 10, 3)" in printed and "Target shape: (128,)" in printed
    np.testing.assert_array_equal(inp_arr[1][:-1], inp_arr[0][1:])  # windows one day apart
    assert output_validation.shape == (X_validation.shape[0] - 10, 1)  # the first batch: batch_size windows
    assert len(history.history["val_loss"]) == EPOCHS and np.isfinite(history.history["val_loss"][-1])
