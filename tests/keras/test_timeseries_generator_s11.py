"""tf.keras.preprocessing.sequence.TimeseriesGenerator: its windows and targets (tf.keras's examples and indexing),
its errors, and fit/evaluate/predict taking it as a PyDataset."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras.preprocessing.sequence import TimeseriesGenerator

DATA = np.arange(50).reshape(50, 1).astype("float32")
TARGETS = np.arange(50).astype("float32")


def test_windows_and_targets_as_tf_keras_documents():
    gen = TimeseriesGenerator(DATA, TARGETS, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, np.array([[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]]))
    np.testing.assert_array_equal(y, np.array([10, 11]))
    x, y = gen[19]  # the last batch: rows 48 and 49
    np.testing.assert_array_equal(y, [48, 49])


def test_stride_start_end_reverse():
    gen = TimeseriesGenerator(DATA, TARGETS, length=3, stride=4, start_index=5, end_index=30, batch_size=3,
                              reverse=True)
    assert len(gen) == 2  # rows 8, 12, 16 | 20, 24, 28
    x, y = gen[1]
    np.testing.assert_array_equal(y, [20, 24, 28])
    np.testing.assert_array_equal(x[0, :, 0], [19, 18, 17])


def test_shuffle_draws_rows_in_range():
    np.random.seed(0)
    x, y = TimeseriesGenerator(DATA, TARGETS, length=5, shuffle=True, batch_size=16)[0]
    assert y.shape == (16,) and (y >= 5).all() and (y <= 49).all()
    np.testing.assert_array_equal(x[:, -1, 0], y - 1)


def test_errors():
    with pytest.raises(ValueError, match="Data and targets have to be of same length. Data length is 50 while "
                                         "target length is 49"):
        TimeseriesGenerator(DATA, TARGETS[:-1], length=3)
    with pytest.raises(ValueError, match=r"`start_index\+length=60 > end_index=49` is disallowed"):
        TimeseriesGenerator(DATA, TARGETS, length=60)


def test_fit_evaluate_predict_take_it():
    gen = TimeseriesGenerator(DATA / 50, TARGETS / 50, length=4, batch_size=8)
    model = tf.keras.Sequential([tf.keras.layers.Input((4, 1)), tf.keras.layers.LSTM(4), tf.keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="adam", metrics=["mae"])
    history = model.fit(gen, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert len(model.evaluate(gen, verbose=0)) == 2
    assert model.predict(gen, verbose=0).shape == (46, 1)
    assert gen.get_config()["length"] == 4 and gen.get_config()["start_index"] == 0
