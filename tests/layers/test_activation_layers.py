import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.keras import activations
from chainrule.keras import layers
from chainrule.ops.activation import Softmax as SoftmaxOp
from layer_checks import check_config_round_trip, rand


def _torch_check(layer, torch_fn, x):
    """Same output and input gradient as ``torch_fn`` (float64)."""
    xt = cr.Tensor(x, requires_grad=True)
    y = layer(xt)
    g = rand(*y.shape, seed=3, dtype="float64")
    (dx,) = cr.grad(cr.reduce_sum(y * g), [xt])
    x_t = torch.tensor(x, requires_grad=True)
    ref = torch_fn(x_t)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-12)


X = rand(4, 7, dtype="float64") * 3


def test_relu_variants():
    _torch_check(layers.ReLU(dtype="float64"), torch.relu, X)
    _torch_check(layers.ReLU(max_value=1.0, dtype="float64"), lambda t: torch.clamp(t, 0, 1), X)
    _torch_check(layers.ReLU(negative_slope=0.1, dtype="float64"), lambda t: torch.nn.functional.leaky_relu(t, 0.1), X)
    y = layers.ReLU(max_value=2.0, negative_slope=0.5, threshold=1.0)(np.float32([-1, 0.5, 1.5, 3]))
    np.testing.assert_allclose(y.numpy(), [-1.0, -0.25, 1.5, 2.0])  # Keras's formula
    layer = layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="r6")
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (6.0, 0.1, 0.5)
    check_config_round_trip(layer, rand(2, 3))
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)


def test_leaky_relu_keras3_default():
    layer = layers.LeakyReLU()
    assert layer.negative_slope == 0.3 and layer.get_config()["negative_slope"] == 0.3
    _torch_check(layers.LeakyReLU(dtype="float64"), lambda t: torch.nn.functional.leaky_relu(t, 0.3), X)
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1  # the Keras 2 argument name
    check_config_round_trip(layers.LeakyReLU(0.2), rand(2, 3))


def test_elu():
    _torch_check(layers.ELU(alpha=0.7, dtype="float64"), lambda t: torch.nn.functional.elu(t, 0.7), X)
    check_config_round_trip(layers.ELU(alpha=0.5), rand(2, 3))


def test_softmax_layer():
    _torch_check(layers.Softmax(dtype="float64"), lambda t: torch.softmax(t, -1), X)
    _torch_check(layers.Softmax(axis=0, dtype="float64"), lambda t: torch.softmax(t, 0), X)
    assert isinstance(layers.Softmax()(cr.Tensor(rand(2, 3), requires_grad=True)).node, SoftmaxOp)
    y = layers.Softmax()(np.float32([[1, 2, 3]]), mask=np.array([[1, 0, 1]]))
    np.testing.assert_allclose(y.numpy(), [[np.exp(1) / (np.exp(1) + np.exp(3)), 0, np.exp(3) / (np.exp(1) + np.exp(3))]],
                               rtol=1e-6)
    check_config_round_trip(layers.Softmax(axis=1), rand(2, 3, 4))


@pytest.mark.parametrize("name,torch_fn", [
    ("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("elu", torch.nn.functional.elu),
    ("selu", torch.selu), ("gelu", torch.nn.functional.gelu), ("softplus", torch.nn.functional.softplus),
    ("leaky_relu", lambda t: torch.nn.functional.leaky_relu(t, 0.2)), ("linear", lambda t: t),
    ("softmax", lambda t: torch.softmax(t, -1)), ("silu", torch.nn.functional.silu),
    ("swish", torch.nn.functional.silu), ("relu6", torch.nn.functional.relu6),
    ("hard_sigmoid", lambda t: torch.nn.functional.relu6(t + 3) / 6), ("mish", torch.nn.functional.mish),
    ("softsign", torch.nn.functional.softsign), ("exponential", torch.exp),
    ("log_softmax", lambda t: torch.log_softmax(t, -1)), ("log_sigmoid", torch.nn.functional.logsigmoid),
    ("hard_silu", torch.nn.functional.hardswish),
])
def test_activations_get_matches_torch(name, torch_fn):
    fn = activations.get(name)
    _torch_check(lambda x: fn(x), torch_fn, X)
    assert activations.get(activations.serialize(fn)) is fn


def test_activations_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.serialize(None) == "linear"
    assert activations.get("relu") is activations.relu
    assert activations.serialize(cr.nn.relu) == "relu" and activations.serialize(cr.nn.softmax) == "softmax"
    assert activations.get({"class_name": "function", "config": "tanh"}) is activations.tanh

    def custom(x):
        return x

    assert activations.get(custom) is custom and activations.serialize(custom) == "custom"
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("relux")
    with pytest.raises(TypeError):
        activations.get(3)
    assert isinstance(activations.softmax(cr.Tensor(rand(2, 3), requires_grad=True)).node, SoftmaxOp)
