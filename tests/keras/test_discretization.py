"""keras.layers.Discretization: given boundaries, adapt's quantiles, the output modes, errors, configs, and use in a
model."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

X = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])


def test_bin_boundaries_as_keras():
    layer = layers.Discretization(bin_boundaries=[0., 1., 2.])
    out = layer(X)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    np.testing.assert_array_equal(out.numpy(), np.digitize(X, [0., 1., 2.]))
    assert layer(np.array([[5, -3]])).numpy().tolist() == [[3, 0]]  # integer inputs too


def test_output_modes():
    bounds = [0., 1., 2.]
    ids = np.digitize(X, bounds)
    one_hot = layers.Discretization(bin_boundaries=bounds, output_mode="one_hot")(X[:, :1]).numpy()
    np.testing.assert_array_equal(one_hot, np.eye(4, dtype="float32")[ids[:, 0]])
    assert one_hot.dtype == np.float32
    multi = layers.Discretization(bin_boundaries=bounds, output_mode="multi_hot")(X).numpy()
    count = layers.Discretization(bin_boundaries=bounds, output_mode="count")(X).numpy()
    expected = np.stack([np.bincount(row, minlength=4) for row in ids]).astype("float32")
    np.testing.assert_array_equal(count, expected)
    np.testing.assert_array_equal(multi, np.minimum(expected, 1))
    layer = layers.Discretization(bin_boundaries=bounds, output_mode="one_hot")
    assert layer.compute_output_shape((None, 1)) == (None, 4)
    assert layer.compute_output_shape((None, 3)) == (None, 3, 4)
    assert layers.Discretization(num_bins=5, output_mode="count").compute_output_shape((None, 3)) == (None, 5)
    assert layers.Discretization(bin_boundaries=bounds).compute_output_shape((None, 3)) == (None, 3)


def test_adapt_learns_keras_quantile_boundaries():
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(X)
    np.testing.assert_array_equal(layer(X).numpy(), [[0, 2, 3, 2], [1, 3, 3, 1]])  # Keras's docstring example
    data = np.random.default_rng(0).uniform(size=(5000, 1)).astype("float32")
    layer = layers.Discretization(num_bins=5, epsilon=0.001)
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.2, 0.4, 0.6, 0.8]), atol=0.01)
    counts = np.bincount(layer(data).numpy().ravel(), minlength=5)
    np.testing.assert_allclose(counts / len(data), 0.2, atol=0.02)
    batched = layers.Discretization(num_bins=5, epsilon=0.001)
    batched.adapt(tf.data.Dataset.from_tensor_slices(data).batch(500))
    np.testing.assert_allclose(batched.bin_boundaries, layer.bin_boundaries, atol=0.02)
    stepped = layers.Discretization(num_bins=5, epsilon=0.001)
    stepped.adapt(tf.data.Dataset.from_tensor_slices(data).batch(500), steps=2)  # only the first 1000 values
    np.testing.assert_allclose(stepped.bin_boundaries, np.quantile(data[:1000], [0.2, 0.4, 0.6, 0.8]), atol=0.02)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="Both `num_bins` and `bin_boundaries` should not be set"):
        layers.Discretization(bin_boundaries=[0.], num_bins=3)
    with pytest.raises(ValueError, match="You need to set either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="`num_bins` must be greater than or equal to 0"):
        layers.Discretization(num_bins=-1)
    with pytest.raises(ValueError, match="`sparse=True` cannot be used with backend chainrule"):
        layers.Discretization(num_bins=3, output_mode="one_hot", sparse=True)
    with pytest.raises(ValueError, match="Unknown value for `output_mode` argument of Discretization"):
        layers.Discretization(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="must be sorted"):
        layers.Discretization(bin_boundaries=[1., 0.])
    with pytest.raises(ValueError, match=r"call `adapt\(dataset\)` before"):
        layers.Discretization(num_bins=3)(X)
    with pytest.raises(ValueError, match="Cannot adapt a Discretization layer that has been initialized with "
                                         "`bin_boundaries`"):
        layers.Discretization(bin_boundaries=[0.]).adapt(X)


def test_config_round_trip_after_adapt():
    layer = layers.Discretization(num_bins=3, epsilon=0.05, output_mode="count")
    layer.adapt(np.arange(30.0))
    config = layer.get_config()
    assert config["num_bins"] == 3 and len(config["bin_boundaries"]) == 2 and config["epsilon"] == 0.05
    again = layers.Discretization.from_config(config)
    assert again.bin_boundaries == layer.bin_boundaries and again.output_mode == "count"
    np.testing.assert_array_equal(again(X).numpy(), layer(X).numpy())
    assert layers.deserialize(layers.serialize(layer)).bin_boundaries == layer.bin_boundaries
    assert keras.layers.experimental.preprocessing.Discretization is layers.Discretization


def test_in_a_model_that_trains():
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, size=(64, 1)).astype("float32")
    y = (np.abs(x[:, 0]) > 1.5).astype("float32")
    model = keras.Sequential([keras.Input((1,)), layers.Discretization(bin_boundaries=[-1.5, 0.0, 1.5]),
                              layers.Embedding(4, 3), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
