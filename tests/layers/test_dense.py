import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.keras import layers
from chainrule.ops.activation import Softmax
from layer_checks import (check_config_round_trip, check_gradients_reach_weights, check_weights_round_trip, rand)


def test_shapes_and_lazy_build():
    layer = layers.Dense(5)
    assert not layer.built and layer.weights == []
    y = layer(rand(3, 4))
    assert layer.built and y.shape == (3, 5) and y.dtype == np.float32
    assert [w.shape for w in layer.get_weights()] == [(4, 5), (5,)]
    assert layer.compute_output_shape((None, 4)) == (None, 5)
    assert layer.compute_output_shape((7, 2, 4)) == (7, 2, 5)
    assert layer(rand(2, 6, 4)).shape == (2, 6, 5)  # acts on the last axis


def test_keras_default_initializers():
    layer = layers.Dense(300)
    layer(rand(2, 200))
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6 / (200 + 300))  # glorot_uniform
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    np.testing.assert_array_equal(bias, 0)
    assert [v.name.split("/")[-1] for v in layer.weights] == ["kernel", "bias"]


def test_input_dim_and_input_shape_arguments():
    assert layers.Dense(3, input_dim=4).input_shape_arg == (4,)
    assert layers.Dense(3, input_shape=(4,)).input_shape_arg == (4,)


@pytest.mark.parametrize("activation,torch_fn", [(None, lambda t: t), ("relu", torch.relu),
                                                 ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
                                                 ("softmax", lambda t: torch.softmax(t, -1))])
def test_matches_torch_linear(activation, torch_fn):
    x = rand(6, 4, dtype="float64")
    layer = layers.Dense(3, activation=activation, dtype="float64")
    layer(x)
    kernel, bias = rand(4, 3, seed=1, dtype="float64"), rand(3, seed=2, dtype="float64")
    layer.set_weights([kernel, bias])
    xt = cr.Tensor(x, requires_grad=True)
    g = rand(6, 3, seed=3, dtype="float64")
    with cr.GradientTape() as tape:
        y = layer(xt)
        loss = cr.reduce_sum(y * g)
    dx, dk, db = tape.gradient(loss, [xt, layer.kernel, layer.bias])

    lin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(kernel.T))
        lin.bias.copy_(torch.tensor(bias))
    x_t = torch.tensor(x, requires_grad=True)
    ref = torch_fn(lin(x_t))
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dk.numpy(), lin.weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db.numpy(), lin.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_output_is_the_softmax_op():
    y = layers.Dense(4, activation="softmax")(rand(2, 3))
    assert isinstance(y.node, Softmax)  # the losses fuse cross-entropy with it


def test_activation_by_callable_and_name_in_config():
    layer = layers.Dense(2, activation=cr.nn.relu)
    assert layer.get_config()["activation"] == "relu"
    assert layers.Dense(2).get_config()["activation"] == "linear"
    assert np.all(layer(rand(5, 3)).numpy() >= 0)


def test_weights_round_trip():
    layer = layers.Dense(3)
    layer(rand(2, 4))
    check_weights_round_trip(layer)


def test_config_round_trip():
    layer = layers.Dense(3, activation="relu", use_bias=True, kernel_initializer="he_normal",
                         bias_initializer="ones", kernel_regularizer="l2", bias_regularizer=cr.regularizers.L1(0.1),
                         activity_regularizer="l1", name="my_dense")
    config = layer.get_config()
    for key in ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "activity_regularizer", "name", "trainable", "dtype"):
        assert key in config
    assert config["units"] == 3 and config["activation"] == "relu" and config["name"] == "my_dense"
    check_config_round_trip(layer, rand(2, 4))


def test_no_bias():
    layer = layers.Dense(3, use_bias=False)
    layer(rand(2, 4))
    assert [w.shape for w in layer.get_weights()] == [(4, 3)] and layer.bias is None
    check_gradients_reach_weights(layer, rand(2, 4))


def test_gradients_reach_every_weight():
    layer = layers.Dense(3, activation="tanh")
    check_gradients_reach_weights(layer, rand(5, 4))


def test_regularizer_losses():
    layer = layers.Dense(2, kernel_regularizer=cr.regularizers.L2(0.1), bias_regularizer=cr.regularizers.L1(0.5),
                         bias_initializer="ones", activity_regularizer=cr.regularizers.L2(0.01))
    assert layer.losses == []
    x = rand(3, 4)
    y = layer(x)
    losses = [float(v) for v in layer.losses]
    kernel, bias = layer.get_weights()
    assert len(losses) == 3  # Keras's order: the call's losses (the activity penalty), then the weights'
    np.testing.assert_allclose(losses[0], 0.01 * np.sum(y.numpy() ** 2) / 3, rtol=1e-5)  # per sample, as Keras
    np.testing.assert_allclose(losses[1], 0.1 * np.sum(kernel ** 2), rtol=1e-5)
    np.testing.assert_allclose(losses[2], 0.5 * np.sum(np.abs(bias)), rtol=1e-5)
    with cr.GradientTape() as tape:  # the penalties are differentiable
        penalty = layer.losses[1]
    np.testing.assert_allclose(tape.gradient(penalty, layer.kernel).numpy(), 0.2 * kernel, rtol=1e-5)


def test_wrong_input_shape_names_layer_and_shapes():
    layer = layers.Dense(3, name="head")
    layer(rand(2, 4))
    with pytest.raises(ValueError) as e:
        layer(rand(2, 5))
    assert "'head'" in str(e.value) and "4" in str(e.value) and "(2, 5)" in str(e.value)
    with pytest.raises(ValueError, match="min_ndim=2"):
        layers.Dense(3)(rand(4))


def test_freezing_stops_gradients():
    layer = layers.Dense(2)
    layer(rand(1, 3))
    layer.trainable = False
    assert layer.trainable_variables == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.requires_grad
    layer.trainable = True
    assert len(layer.trainable_variables) == 2 and layer.kernel.requires_grad


def test_invalid_arguments():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="activation"):
        layers.Dense(2, activation="nope")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: 3"):
        layers.Dense(2, kernel_constraint=3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(2, unitz=3)


def test_seed_cnn_parameter_counts():
    conv = layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    pool, flat = layers.MaxPooling2D(), layers.Flatten()
    dense, out = layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")
    y = out(dense(flat(pool(conv(rand(2, 28, 28, 1))))))
    assert y.shape == (2, 10)
    counts = [conv.count_params(), dense.count_params(), out.count_params()]
    assert counts == [320, 692_352, 1_290] and sum(counts) == 693_962
    assert flat.compute_output_shape(pool.compute_output_shape(conv.compute_output_shape((None, 28, 28, 1)))) \
        == (None, 5408)
