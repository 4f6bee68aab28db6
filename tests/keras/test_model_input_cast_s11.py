"""A model converts its inputs to its Input's dtype, as Keras does: signed integer features (int64 columns from pandas,
timeseries_dataset_from_array windows over them) reach a float Input's layers as floats (keras-io's temperature
LSTM example feeds int64 windows to an LSTM), and integer ids still index an Embedding after the round trip."""

import numpy as np

from chainrule import keras
from chainrule.keras import layers


def test_int64_features_reach_an_lstm_as_float32():
    model = keras.Sequential([layers.Input((10, 3)), layers.LSTM(4), layers.Dense(1)])
    x = np.arange(2 * 10 * 3, dtype="int64").reshape(2, 10, 3) % 7
    np.testing.assert_allclose(model(x).numpy(), model(x.astype("float32")).numpy())
    model.compile(optimizer="adam", loss="mse")
    assert np.isfinite(model.fit(x, np.ones((2, 1)), verbose=0).history["loss"][0])


def test_functional_int_input_is_cast_and_embedding_ids_still_index():
    inputs = keras.Input((3,))  # float32 by default, fed int ids as the keras-io programs do
    outputs = layers.Embedding(10, 2)(inputs)
    model = keras.Model(inputs, outputs)
    ids = np.array([[1, 2, 9]], dtype="int64")
    table = model.layers[-1].embeddings.numpy()
    np.testing.assert_array_equal(model(ids).numpy()[0], table[[1, 2, 9]])
