"""Dense and Conv2D with activation='relu' run one fused node (affine + bias + relu); it must be the same as the
unfused layer followed by tf.nn.relu, on both kernel paths, with gradients of every order (torch as the oracle)."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.backend import kernels
from chainrule.keras import layers
from chainrule.keras.layers.core import LinearRelu
from chainrule.ops.conv import Conv2DBiasAct
from layer_checks import rand


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def path(request):
    before = kernels.enabled()
    kernels.set_enabled(request.param)
    if request.param and not kernels.enabled():
        pytest.skip("numba is not installed")
    yield request.param
    kernels.set_enabled(before)


LAYERS = {
    "dense": (lambda act, **kw: layers.Dense(16, activation=act, **kw), (6, 9)),
    "dense-3d": (lambda act, **kw: layers.Dense(5, activation=act, **kw), (2, 3, 4)),
    "conv-seed": (lambda act, **kw: layers.Conv2D(8, 3, activation=act, **kw), (3, 9, 9, 1)),
    "conv-rgb-same": (lambda act, **kw: layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation=act,
                                                      **kw), (2, 7, 6, 3)),
    "conv-dilated": (lambda act, **kw: layers.Conv2D(4, 3, padding="same", dilation_rate=2, activation=act, **kw),
                    (2, 8, 8, 8)),
}


def _pair(name, use_bias=True, dtype="float32", seed=0):
    """The fused layer and an unfused copy with the same weights, built on an input of the case's shape."""
    make, shape = LAYERS[name]
    x = rand(*shape, seed=seed, dtype=dtype)
    fused, plain = make("relu", use_bias=use_bias, dtype=dtype), make(None, use_bias=use_bias, dtype=dtype)
    fused(x)
    plain(x)
    weights = [rand(*w.shape, seed=seed + 1 + i, dtype=dtype) * 0.5 for i, w in enumerate(fused.get_weights())]
    fused.set_weights(weights)
    plain.set_weights(weights)
    return fused, plain, x


def _grads(layer, x, after=lambda y: y):
    xt = cr.Tensor(x, requires_grad=True)
    with cr.GradientTape() as tape:
        y = after(layer(xt))
        g = rand(*y.shape, seed=7, dtype=x.dtype)
        loss = cr.reduce_sum(y * g)
    return [y] + tape.gradient(loss, [xt] + layer.trainable_variables)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("name", list(LAYERS))
def test_fused_relu_equals_layer_then_relu(path, name, use_bias):
    fused, plain, x = _pair(name, use_bias)
    mine, ref = _grads(fused, x), _grads(plain, x, cr.nn.relu)
    node = mine[0].node
    assert type(node) is (LinearRelu if name.startswith("dense") else Conv2DBiasAct)  # one node, relu inside
    assert getattr(node, "relu", True)
    for a, b in zip(mine, ref):
        assert a.dtype == np.float32 and a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(mine[0].numpy() == 0, ref[0].numpy() == 0)


@pytest.mark.parametrize("name", ["dense", "conv-seed", "conv-rgb-same"])
def test_second_order_through_the_fused_layer_matches_torch(path, name):
    """penalty = Σ (d loss / dx)² with loss = Σ y² · u; its gradient w.r.t. x, kernel and bias, as torch has it."""
    fused, _, x = _pair(name, dtype="float64", seed=3)
    kernel, bias = fused.get_weights()
    u = None

    def ours():
        nonlocal u
        xt = cr.Tensor(x, requires_grad=True)
        y = fused(xt)
        u = rand(*y.shape, seed=11, dtype="float64")
        (dx,) = cr.grad((y * y * u).sum(), [xt], create_graph=True)
        return [g.numpy() for g in cr.grad((dx * dx).sum(), [xt, fused.kernel, fused.bias])]

    def theirs():
        xt = torch.tensor(x, requires_grad=True)
        kt, bt = torch.tensor(kernel, requires_grad=True), torch.tensor(bias, requires_grad=True)
        if name.startswith("dense"):
            y = torch.relu(xt @ kt + bt)
        else:
            stride, pad = ((1, 1), (0, 0, 0, 0)) if name == "conv-seed" else ((2, 1), (0, 1, 1, 1))
            xc = F.pad(xt.permute(0, 3, 1, 2), pad)  # TF 'same' for (3, 2) kernel, stride (2, 1) on 7x6
            y = torch.relu(F.conv2d(xc, kt.permute(3, 2, 0, 1), bt, stride=stride)).permute(0, 2, 3, 1)
        (dx,) = torch.autograd.grad((y * y * torch.tensor(u)).sum(), [xt], create_graph=True)
        return [g.numpy() for g in torch.autograd.grad((dx * dx).sum(), [xt, kt, bt])]

    for a, b in zip(ours(), theirs()):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "elu", "softmax", None])
@pytest.mark.parametrize("name", ["dense", "conv-seed"])
def test_other_activations_are_unchanged(path, name, activation):
    make, shape = LAYERS[name]
    x = rand(*shape)
    layer, linear = make(activation), make(None)
    layer(x)
    linear(x)
    linear.set_weights(layer.get_weights())
    y = layer(cr.Tensor(x))
    assert getattr(y.node, "relu", False) is False and type(y.node) is not LinearRelu
    expected = linear(x) if activation is None else cr.keras.activations.get(activation)(linear(x))
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


def test_relu_with_options_is_not_fused():
    layer = layers.Dense(4, activation=lambda t: cr.keras.activations.relu(t, max_value=1.0))
    y = layer(cr.Tensor(rand(3, 5) * 4))
    assert type(y.node) is not LinearRelu and y.numpy().max() <= 1.0


@pytest.mark.parametrize("name", ["dense", "conv-seed"])
def test_config_round_trip_still_says_relu(name):
    fused, _, x = _pair(name)
    config = json.loads(json.dumps(fused.get_config()))
    assert config["activation"] == "relu"
    clone = type(fused).from_config(config)
    clone(x)
    clone.set_weights(fused.get_weights())
    assert clone._fused_relu
    np.testing.assert_array_equal(clone(x).numpy(), fused(x).numpy())


def test_the_tf_nn_relu_op_as_activation_is_fused_and_serializes_as_relu():
    layer = layers.Conv2D(4, 3, activation=cr.nn.relu)
    y = layer(cr.Tensor(rand(2, 6, 6, 1)))
    assert type(y.node) is Conv2DBiasAct and y.node.relu
    assert layer.get_config()["activation"] == "relu"


def test_nan_stays_nan_through_the_fused_relu(path):
    """TerminateOnNaN and the NaN-loss stop need a NaN input to reach the loss, as with np.maximum."""
    for name in ("dense", "conv-seed"):
        fused, plain, x = _pair(name)
        x[0] = np.nan
        out = fused(x).numpy()
        assert np.isnan(out[0]).all() and not np.isnan(out[1:]).any()
        np.testing.assert_array_equal(out, cr.nn.relu(plain(x)).numpy())


def test_float64_layer_stays_float64(path):
    for name in ("dense", "conv-seed"):
        fused, _, x = _pair(name, dtype="float64")
        y, *grads = _grads(fused, x)
        assert y.dtype == np.float64 and all(g.dtype == np.float64 for g in grads)
