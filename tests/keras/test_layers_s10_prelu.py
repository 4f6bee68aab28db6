"""keras.layers.PReLU: Keras's formula, weight shapes with shared_axes, gradients against PyTorch's PReLU, training,
the config round trip and bad arguments."""
import numpy as np
import pytest
import torch

from chainrule import keras
import chainrule as cr


def test_prelu_formula_and_default_zero_slope():
    x = np.array([[-2.0, -0.5, 0.0, 3.0]], "float32")
    np.testing.assert_array_equal(keras.layers.PReLU()(x).numpy(), np.maximum(x, 0))
    layer = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, 0.25 * x))
    assert layer.alpha.shape == (4,)


def test_shared_axes_give_one_slope_per_channel_and_match_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 6, 3))
    layer = keras.layers.PReLU(shared_axes=[1, 2], alpha_initializer="random_uniform", dtype="float64")
    xt = cr.Variable(x)
    with cr.GradientTape() as tape:
        y = layer(xt)
        loss = cr.reduce_sum(y * y)
    dx, dalpha = tape.gradient(loss, [xt, layer.alpha])
    assert layer.alpha.shape == (1, 1, 3)
    tx = torch.tensor(x, requires_grad=True)
    talpha = torch.tensor(layer.alpha.numpy().reshape(3), requires_grad=True)
    ty = torch.nn.functional.prelu(tx.permute(0, 3, 1, 2), talpha).permute(0, 2, 3, 1)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dalpha.numpy().reshape(3), talpha.grad.numpy(), rtol=1e-12)


def test_prelu_in_a_model_trains_and_round_trips(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.PReLU(
        alpha_regularizer="l2", alpha_constraint="non_neg"), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(32, 4)), rng.normal(size=(32, 1)), epochs=1, verbose=0)
    layer = model.layers[1]
    config = layer.get_config()
    assert config["shared_axes"] is None and config["alpha_initializer"]["class_name"] == "Zeros"
    again = keras.layers.PReLU.from_config(config)
    assert again.get_config() == config
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="shared_axes"):
        keras.layers.PReLU(shared_axes=[0])
    with pytest.raises(ValueError, match="shared_axes"):
        keras.layers.PReLU(shared_axes=[3])(np.zeros((1, 2), "float32"))
    with pytest.raises(ValueError, match="PReLU needs"):
        keras.layers.PReLU()(keras.Input((None, 3)))
    assert keras.layers.PReLU(shared_axes=1)(keras.Input((None, 3))).shape[1:] == (None, 3)
