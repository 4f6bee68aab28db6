import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.keras import layers
from layer_checks import (check_config_round_trip, check_gradients_reach_weights, check_weights_round_trip, rand)


@pytest.mark.parametrize("kwargs,out_hw", [
    (dict(kernel_size=3), (5, 6)),
    (dict(kernel_size=(3, 2), padding="same"), (7, 8)),
    (dict(kernel_size=3, strides=2), (3, 3)),
    (dict(kernel_size=3, strides=2, padding="same"), (4, 4)),
    (dict(kernel_size=3, dilation_rate=2), (3, 4)),
    (dict(kernel_size=1, padding="SAME"), (7, 8)),
])
def test_output_shapes(kwargs, out_hw):
    layer = layers.Conv2D(4, **kwargs)
    y = layer(rand(2, 7, 8, 3))
    assert y.shape == (2,) + out_hw + (4,) and y.dtype == np.float32
    assert layer.compute_output_shape((None, 7, 8, 3)) == (None,) + out_hw + (4,)
    assert layer.compute_output_shape((None, None, None, 3)) == (None, None, None, 4)
    kh, kw = layer.kernel_size
    assert [w.shape for w in layer.get_weights()] == [(kh, kw, 3, 4), (4,)]


def _torch_conv(x, kernel, bias, strides, padding, dilation):
    """TensorFlow-style conv via torch: NHWC <-> NCHW, HWIO -> OIHW, 'same' as explicit (possibly uneven) pads."""
    xt = x.permute(0, 3, 1, 2)
    if padding == "same":
        pads = []
        for size, k, s, d in zip(xt.shape[2:], kernel.shape[:2], strides, dilation):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        xt = F.pad(xt, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    y = F.conv2d(xt, kernel.permute(3, 2, 0, 1), bias, stride=strides, dilation=dilation)
    return y.permute(0, 2, 3, 1)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, activation="relu"),
    dict(kernel_size=(2, 3), strides=(2, 1), padding="same", activation="tanh"),
    dict(kernel_size=3, dilation_rate=2, padding="same"),
    dict(kernel_size=3, use_bias=False, activation="sigmoid"),
    dict(kernel_size=5, strides=2, padding="same", use_bias=False, activation="relu"),  # fused relu, no bias
    dict(kernel_size=1, strides=(1, 2), activation="relu"),  # fused relu, 1x1 strided
])
def test_matches_torch(kwargs):
    x = rand(2, 7, 6, 3, dtype="float64")
    layer = layers.Conv2D(4, dtype="float64", **kwargs)
    layer(x)
    weights = [rand(*w.shape, seed=i + 1, dtype="float64") for i, w in enumerate(layer.get_weights())]
    layer.set_weights(weights)
    g = rand(*layer.compute_output_shape(x.shape), seed=9, dtype="float64")
    xt = cr.Tensor(x, requires_grad=True)
    with cr.GradientTape() as tape:
        y = layer(xt)
        loss = cr.reduce_sum(y * g)
    grads = tape.gradient(loss, [xt] + layer.trainable_variables)

    x_t = torch.tensor(x, requires_grad=True)
    w_t = [torch.tensor(w, requires_grad=True) for w in weights]
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}.get(kwargs.get("activation"),
                                                                                   lambda t: t)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    ref = act(_torch_conv(x_t, w_t[0], w_t[1] if len(w_t) > 1 else None, pair(kwargs.get("strides", 1)),
                          kwargs.get("padding", "valid"), pair(kwargs.get("dilation_rate", 1))))
    ref_grads = torch.autograd.grad((ref * torch.tensor(g)).sum(), [x_t] + w_t)
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_matches_torch_and_stays_float32():
    x = rand(4, 9, 9, 2)
    layer = layers.Conv2D(5, 3, activation="relu")
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert y.dtype == np.float32 and kernel.dtype == np.float32
    ref = torch.relu(_torch_conv(torch.tensor(x), torch.tensor(kernel), torch.tensor(bias), (1, 1), "valid", (1, 1)))
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    grads = check_gradients_reach_weights(layer, x)
    assert all(g.dtype == np.float32 for g in grads)


def test_second_order_gradients_through_the_fused_bias():
    layer = layers.Conv2D(2, 2, activation="tanh", dtype="float64")
    x = cr.Tensor(rand(1, 3, 3, 1, dtype="float64"), requires_grad=True)
    with cr.GradientTape() as outer:
        with cr.GradientTape() as inner:
            y = cr.reduce_sum(layer(x) ** 2)
        dk = inner.gradient(y, layer.kernel)
        gsum = cr.reduce_sum(dk * dk)
    db2 = outer.gradient(gsum, layer.bias)

    x_t = torch.tensor(x.numpy())
    k_t, b_t = (torch.tensor(w, requires_grad=True) for w in layer.get_weights())
    y_t = (torch.tanh(_torch_conv(x_t, k_t, b_t, (1, 1), "valid", (1, 1))) ** 2).sum()
    (dk_t,) = torch.autograd.grad(y_t, [k_t], create_graph=True)
    (db2_t,) = torch.autograd.grad((dk_t * dk_t).sum(), [b_t])
    np.testing.assert_allclose(db2.numpy(), db2_t.numpy(), rtol=1e-9, atol=1e-12)


def test_weights_round_trip():
    layer = layers.Conv2D(3, 2)
    layer(rand(1, 4, 4, 2))
    check_weights_round_trip(layer)


def test_config_round_trip():
    layer = layers.Conv2D(3, (3, 2), strides=(2, 1), padding="same", dilation_rate=1, activation="relu",
                          kernel_initializer="he_uniform", kernel_regularizer=cr.regularizers.L2(1e-3),
                          name="conv_a")
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 1) and config["padding"] == "same"
    assert config["data_format"] == "channels_last" and config["dilation_rate"] == (1, 1)
    for key in ("filters", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "groups"):
        assert key in config
    check_config_round_trip(layer, rand(2, 6, 5, 2))


def test_regularizer_losses():
    layer = layers.Conv2D(2, 3, kernel_regularizer=cr.regularizers.L1(0.01), bias_regularizer="l2",
                          bias_initializer="ones")
    layer(rand(1, 5, 5, 1))
    kernel, bias = layer.get_weights()
    losses = [float(v) for v in layer.losses]
    np.testing.assert_allclose(losses, [0.01 * np.abs(kernel).sum(), 0.01 * (bias ** 2).sum()], rtol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="channels_first"):
        layers.Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(2, 0)
    layer = layers.Conv2D(2, 3, name="conv_b")
    with pytest.raises(ValueError) as e:  # rank checked before building
        layer(rand(5, 5, 1))
    assert "'conv_b'" in str(e.value) and "ndim=4" in str(e.value) and "(5, 5, 1)" in str(e.value)
    assert not layer.built
    layer(rand(1, 5, 5, 1))
    with pytest.raises(ValueError) as e:
        layer(rand(1, 5, 5, 3))
    assert "'conv_b'" in str(e.value) and "1" in str(e.value) and "(1, 5, 5, 3)" in str(e.value)
    with pytest.raises(ValueError, match="larger than the input"):
        layer(rand(1, 2, 5, 1))
