import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import layers
from layer_checks import check_config_round_trip, rand


# --- Flatten ----------------------------------------------------------------------------------------------------------
def test_flatten():
    x = rand(2, 3, 4, 5)
    layer = layers.Flatten()
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, -1))
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 60)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    assert layers.Flatten()(rand(3)).shape == (3, 1)
    y = layers.Flatten(data_format="channels_first")(x)  # flattened in channels-last order, as Keras
    np.testing.assert_array_equal(y.numpy(), x.transpose(0, 2, 3, 1).reshape(2, -1))
    check_config_round_trip(layers.Flatten(), x)
    xt = cr.Tensor(x, requires_grad=True)
    (dx,) = cr.grad(cr.reduce_sum(layers.Flatten()(xt) * 2.0), [xt])
    np.testing.assert_array_equal(dx.numpy(), np.full(x.shape, 2.0, np.float32))


# --- Reshape ----------------------------------------------------------------------------------------------------------
def test_reshape():
    x = rand(2, 12)
    layer = layers.Reshape((3, 4))
    np.testing.assert_array_equal(layer(x).numpy(), x.reshape(2, 3, 4))
    assert layer.compute_output_shape((None, 12)) == (None, 3, 4)
    layer = layers.Reshape((-1, 2))
    assert layer(x).shape == (2, 6, 2)
    assert layer.compute_output_shape((None, 12)) == (None, 6, 2)
    assert layer.compute_output_shape((None, None)) == (None, None, 2)
    config = layers.Reshape((3, 4), name="rs").get_config()
    assert config["target_shape"] == (3, 4)
    check_config_round_trip(layers.Reshape((2, -1)), x)


def test_reshape_errors_name_both_shapes():
    with pytest.raises(ValueError) as e:
        layers.Reshape((5, 5), name="rs_bad")(rand(2, 12))
    message = str(e.value)
    assert "'rs_bad'" in message and "(None, 12)" in message and "(5, 5)" in message
    with pytest.raises(ValueError) as e:
        layers.Reshape((-1, 5))(rand(2, 12))
    assert "(None, 12)" in str(e.value) and "(-1, 5)" in str(e.value)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


# --- Dropout ----------------------------------------------------------------------------------------------------------
def test_dropout_inactive_at_inference():
    x = rand(50, 40)
    layer = layers.Dropout(0.5)
    for y in (layer(x), layer(x, training=False)):
        np.testing.assert_array_equal(y.numpy(), x)
    assert layer.compute_output_shape((None, 40)) == (None, 40)


def test_dropout_scales_in_training():
    x = np.ones((200, 100), np.float32)
    layer = layers.Dropout(0.25)
    y = layer(x, training=True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    xt = cr.Tensor(x, requires_grad=True)
    y = layer(xt, training=True)
    (dx,) = cr.grad(cr.reduce_sum(y), [xt])
    np.testing.assert_array_equal(dx.numpy(), y.numpy())  # the gradient goes through the same mask and scale


def test_dropout_seed_and_noise_shape():
    x = np.ones((4, 6, 8), np.float32)
    a, b = layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=3)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())  # same seed, same sequence
    assert not np.array_equal(first, a(x, training=True).numpy())  # but a new mask every call
    y = layers.Dropout(0.5, noise_shape=(None, 1, 8))(x, training=True).numpy()
    assert np.all(y == y[:, :1, :])  # one mask shared along axis 1
    layer = layers.Dropout(0.3, noise_shape=(None, 1, 8), seed=1)
    config = layer.get_config()
    assert config["rate"] == 0.3 and config["noise_shape"] == [None, 1, 8] and config["seed"] == 1
    check_config_round_trip(layer, x)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


# --- Activation -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn", [("relu", lambda x: np.maximum(x, 0)), ("tanh", np.tanh),
                                     ("sigmoid", lambda x: 1 / (1 + np.exp(-x))), ("linear", lambda x: x),
                                     ("softplus", lambda x: np.log1p(np.exp(x))),
                                     ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
                                     ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True))])
def test_activation_layer(name, fn):
    x = rand(3, 4)
    layer = layers.Activation(name)
    np.testing.assert_allclose(layer(x).numpy(), fn(x), rtol=1e-5, atol=1e-6)
    assert layer.get_config()["activation"] == name
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    check_config_round_trip(layer, x)


# --- InputLayer -------------------------------------------------------------------------------------------------------
def test_input_layer():
    layer = layers.InputLayer(shape=(28, 28, 1))
    assert layer.batch_shape == (None, 28, 28, 1) and layer.built
    x = rand(2, 28, 28, 1)
    assert layer(x).numpy() is not None and layer(x).shape == x.shape
    config = layer.get_config()
    assert config["batch_shape"] == [None, 28, 28, 1] and config["dtype"] == "float32"
    clone = layers.InputLayer.from_config(config)
    assert clone.batch_shape == layer.batch_shape and clone.name == layer.name
    assert layers.InputLayer(input_shape=(4,)).batch_shape == (None, 4)  # the Keras 2 name
    assert layers.InputLayer(batch_shape=(8, 4)).batch_shape == (8, 4)
    assert layers.InputLayer(shape=(4,), batch_size=16).batch_shape == (16, 4)
    assert layer.output.shape == (None, 28, 28, 1)
    with pytest.raises(ValueError, match="shape"):
        layers.InputLayer()


# --- Lambda -----------------------------------------------------------------------------------------------------------
def test_lambda():
    def double(x, factor=2.0):
        return x * factor

    layer = layers.Lambda(double, arguments={"factor": 3.0})
    x = rand(2, 3)
    np.testing.assert_allclose(layer(x).numpy(), 3 * x)
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    config = layer.get_config()
    assert config["function"] == "double"
    with pytest.raises(ValueError, match="custom_objects"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, custom_objects={"double": double})
    np.testing.assert_allclose(clone(x).numpy(), 3 * x)


# --- Rescaling --------------------------------------------------------------------------------------------------------
def test_rescaling_scales_and_shifts_in_the_float_dtype():
    pixels = np.array([[0, 128, 255]], np.uint8)
    y = layers.Rescaling(1 / 127.5, offset=-1.0)(pixels)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [[-1.0, 128 / 127.5 - 1.0, 1.0]], atol=1e-6)  # float32 rounding
    model = cr.keras.Sequential([cr.keras.Input((3,)), layers.Rescaling(0.5), layers.Dense(1)])
    assert model(np.ones((2, 3), np.float32)).shape == (2, 1)
    xt = cr.Tensor(rand(2, 3), requires_grad=True)
    (dx,) = cr.grad(cr.reduce_sum(layers.Rescaling(0.25, offset=3.0)(xt)), [xt])
    np.testing.assert_array_equal(dx.numpy(), np.full((2, 3), 0.25, np.float32))
    check_config_round_trip(layers.Rescaling(2.0, offset=1.0), rand(2, 3))
