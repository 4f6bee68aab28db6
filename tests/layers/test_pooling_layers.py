import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.keras import layers
from layer_checks import check_config_round_trip, rand


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize("kwargs,out_hw", [
    (dict(), (3, 4)),
    (dict(pool_size=3), (2, 2)),
    (dict(pool_size=(2, 3), strides=1), (6, 6)),
    (dict(pool_size=3, strides=2, padding="same"), (4, 4)),
    (dict(pool_size=2, padding="same"), (4, 4)),
])
def test_output_shapes(cls, kwargs, out_hw):
    layer = cls(**kwargs)
    y = layer(rand(2, 7, 8, 3))
    assert y.shape == (2,) + out_hw + (3,) and y.dtype == np.float32
    assert layer.compute_output_shape((None, 7, 8, 3)) == (None,) + out_hw + (3,)
    assert layer.weights == [] and layer.get_weights() == []


@pytest.mark.parametrize("cls,torch_pool", [(layers.MaxPooling2D, F.max_pool2d), (layers.AveragePooling2D, F.avg_pool2d)])
def test_matches_torch(cls, torch_pool):
    x = rand(2, 6, 8, 3, dtype="float64")
    layer = cls(pool_size=(2, 3), strides=(2, 2), dtype="float64")
    xt = cr.Tensor(x, requires_grad=True)
    y = layer(xt)
    g = rand(*y.shape, seed=1, dtype="float64")
    (dx,) = cr.grad(cr.reduce_sum(y * g), [xt])
    x_t = torch.tensor(x, requires_grad=True)
    ref = torch_pool(x_t.permute(0, 3, 1, 2), (2, 3), (2, 2)).permute(0, 2, 3, 1)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-12)


def test_config_round_trip():
    layer = layers.MaxPooling2D(pool_size=3, strides=2, padding="same", name="pool_a")
    config = layer.get_config()
    assert config["pool_size"] == (3, 3) and config["strides"] == (2, 2) and config["padding"] == "same"
    assert config["data_format"] == "channels_last" and config["name"] == "pool_a"
    check_config_round_trip(layer, rand(1, 7, 7, 2))
    assert layers.AveragePooling2D().get_config()["strides"] == (2, 2)  # strides default to pool_size
    check_config_round_trip(layers.AveragePooling2D(pool_size=(1, 2)), rand(1, 4, 4, 2))


def test_global_pooling():
    x = rand(2, 4, 5, 3)
    y = layers.GlobalAveragePooling2D()(x)
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(1, 2)), rtol=1e-6)
    y = layers.GlobalMaxPooling2D(keepdims=True)(x)
    np.testing.assert_allclose(y.numpy(), x.max(axis=(1, 2), keepdims=True))
    y = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(2, 3)), rtol=1e-6)
    assert layers.GlobalAveragePooling2D().compute_output_shape((None, 4, 5, 3)) == (None, 3)
    assert layers.GlobalMaxPooling2D(keepdims=True).compute_output_shape((None, 4, 5, 3)) == (None, 1, 1, 3)
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x[:, 0]).numpy(), x[:, 0].mean(axis=1), rtol=1e-6)
    check_config_round_trip(layers.GlobalAveragePooling2D(keepdims=True), x)
    check_config_round_trip(layers.GlobalMaxPooling2D(), x)


def test_gradient_flows_through_pooling():
    x = cr.Tensor(rand(1, 4, 4, 2), requires_grad=True)
    for layer in (layers.MaxPooling2D(), layers.AveragePooling2D(), layers.GlobalAveragePooling2D()):
        (dx,) = cr.grad(cr.reduce_sum(layer(x)), [x])
        assert dx.shape == x.shape and np.any(dx.numpy() != 0)


def test_errors():
    with pytest.raises(ValueError, match="channels_first"):
        layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        layers.AveragePooling2D(padding="causal")
    with pytest.raises(ValueError) as e:
        layers.MaxPooling2D(name="pool_b")(rand(4, 4, 3))
    assert "'pool_b'" in str(e.value) and "(4, 4, 3)" in str(e.value)
    with pytest.raises(ValueError) as e:
        layers.GlobalAveragePooling2D(name="gap")(rand(2, 3))
    assert "'gap'" in str(e.value) and "(2, 3)" in str(e.value)
