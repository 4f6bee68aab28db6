"""keras-io example "Multivariate Time Series Forecasting using LSTM", run on chainrule.

Source: https://keras.io/examples/timeseries/multivariate_timeseries_forecasting_using_lstm/ (keras-team/keras-io,
examples/timeseries/multivariate_timeseries_forecasting_using_lstm.py, "Last modified: 2021/07/17", tf.keras).

The example's code is kept as written (inside the test function), except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras.preprocessing.sequence import TimeseriesGenerator` ->
  `from chainrule.keras.preprocessing.sequence import TimeseriesGenerator`; scikit-learn is not installed, so
  `train_test_split` and `StandardScaler` come from the stand-in tests/programs/sklearn_like.py;
- the download of GOOG.csv (`pd.read_csv(url)`) reads a synthetic file of the same columns (400 trading days of a
  random walk, instead of 4006);
- the 50 epochs are SHRUNK to EPOCHS = 1; plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import os

import numpy as np
import pandas as pd
import matplotlib as mpl
import matplotlib.pyplot as plt
from chainrule.keras.preprocessing.sequence import TimeseriesGenerator
import chainrule as tf

import pytest

from sklearn_like import StandardScaler, train_test_split  # test: instead of scikit-learn's

EPOCHS = 1  # SHRUNK from 50


def _write_goog_like(path, n=400, seed=0):
    """test: GOOG.csv's columns: Date, Open, High, Low, Close, Adj Close, Volume, a random walk of prices."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = close + rng.normal(0, 0.5, n)
    high, low = np.maximum(open_, close) + rng.uniform(0, 1, n), np.minimum(open_, close) - rng.uniform(0, 1, n)
    dates = pd.bdate_range("2004-08-19", periods=n).strftime("%Y-%m-%d")
    pd.DataFrame({"Date": dates, "Open": open_, "High": high, "Low": low, "Close": close, "Adj Close": close,
                  "Volume": rng.integers(10**5, 10**7, n)}).to_csv(path, index=False)
    return str(path)


@pytest.mark.slow  # three LSTM layers over 60-step windows: ~15 s on a shared CPU
def test_multivariate_timeseries_forecasting_lstm(tmp_path, capsys):
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

    df = pd.read_csv(
        _write_goog_like(tmp_path / "GOOG.csv")  # test: instead of the GitHub download
    )

    df.head()

    df.dtypes

    df["Date"] = pd.to_datetime(df["Date"], infer_datetime_format=True)

    df.describe()  # concise summary of the dataframe

    mpl.rcParams["figure.figsize"] = (10, 8)
    mpl.rcParams["axes.grid"] = False
    df.set_index("Date")[["Open", "High", "Low", "Close", "Adj Close"]].plot(subplots=True)

    df_input = df[["Open", "High", "Low", "Close", "Adj Close",]]

    scaler = StandardScaler()
    data_scaled = scaler.fit_transform(df_input)
    data_scaled

    features = data_scaled
    target = data_scaled[:, 0]  # Target Column - Open Price

    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.25, random_state=123, shuffle=False
    )

    print(x_train.shape)

    print(x_test.shape)

    # This code block is for the understanding the output of TimeseriesGenerator
    print("Input Features\n", data_scaled[0:3])
    print("\nTimeseriesGenerator")
    print(TimeseriesGenerator(features, target, length=2, sampling_rate=1, batch_size=1)[0])

    win_length = 60  # window length
    batch_size = 62
    num_features = 5
    train_generator = TimeseriesGenerator(
        x_train, y_train, length=win_length, sampling_rate=1, batch_size=batch_size
    )
    test_generator = TimeseriesGenerator(
        x_test, y_test, length=win_length, sampling_rate=1, batch_size=batch_size
    )

    model = tf.keras.Sequential()
    model.add(
        tf.keras.layers.LSTM(
            128, input_shape=(win_length, num_features), return_sequences=True
        )
    )
    model.add(tf.keras.layers.LeakyReLU(alpha=0.5))
    model.add(tf.keras.layers.LSTM(128, return_sequences=True))
    model.add(tf.keras.layers.LeakyReLU(alpha=0.5))
    model.add(tf.keras.layers.Dropout(0.3))
    model.add(tf.keras.layers.LSTM(64, return_sequences=False))
    model.add(tf.keras.layers.Dropout(0.3))
    model.add(tf.keras.layers.Dense(1))

    model.summary()

    model.compile(
        loss=tf.losses.MeanSquaredError(),
        optimizer=tf.optimizers.Adam(),
        metrics=[tf.metrics.MeanAbsoluteError()],
    )

    history = model.fit(
        train_generator, epochs=EPOCHS, validation_data=test_generator, shuffle=False
    )

    plt.plot(history.history["mean_absolute_error"], label="Training MAE")
    plt.plot(history.history["val_mean_absolute_error"], label="Validation MAE")
    plt.legend()
    plt.show()

    test_loss, test_mae = model.evaluate(test_generator, verbose=0)
    print("Test Loss:", test_loss)
    print("Test MAE:", test_mae)

    predictions = model.predict(test_generator)

    print(predictions.shape[0])

    # Consider only the 942 values after the first 60 values
    print(x_test[:, 1:][win_length:])

    df_pred = pd.concat(
        [pd.DataFrame(predictions), pd.DataFrame(x_test[:, 1:][win_length:])], axis=1
    )

    df_pred

    # To get the original values, the inverse_transform has to be performed.
    in_trans = scaler.inverse_transform(df_pred)

    print(in_trans)

    df_final = df_input[predictions.shape[0] * -1 :]

    # Add the Predicted Open price into the final dataframe
    predicted_open = in_trans[:, 0].tolist()
    df_final.insert(5, "Predicted Open", predicted_open)

    df_final

    df_final[["Open", "Predicted Open"]].plot()

    # test: what the program produced
    assert x_train.shape == (300, 5) and x_test.shape == (100, 5)
    assert predictions.shape == (100 - win_length, 1)
    assert list(df_final.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Predicted Open"]
    assert np.isfinite(test_loss) and np.isfinite(history.history["val_mean_absolute_error"][0])
