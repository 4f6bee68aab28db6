"""MaxPooling1D and AveragePooling1D (and MaxPool1D / AvgPool1D): shapes, configs, values against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.keras import layers
from layer_checks import check_config_round_trip, rand
from model_checks import check_trains_and_reloads


@pytest.mark.parametrize("cls", [layers.MaxPooling1D, layers.AveragePooling1D])
@pytest.mark.parametrize("kwargs, steps, out_steps", [
    (dict(), 9, 4), (dict(pool_size=3), 9, 3), (dict(pool_size=3, strides=1), 9, 7),
    (dict(pool_size=2, padding="same"), 9, 5), (dict(pool_size=(4,), strides=(3,), padding="same"), 10, 4),
])
def test_pooling1d_output_shapes(cls, kwargs, steps, out_steps):
    layer = cls(**kwargs)
    y = layer(rand(2, steps, 3))
    assert y.shape == (2, out_steps, 3) and y.dtype == np.float32
    assert layer.compute_output_shape((None, steps, 3)) == (None, out_steps, 3)
    assert layer.compute_output_shape((None, None, 3)) == (None, None, 3)


@pytest.mark.parametrize("cls, torch_pool", [(layers.MaxPooling1D, F.max_pool1d), (layers.AveragePooling1D,
                                                                                    F.avg_pool1d)])
def test_pooling1d_matches_torch(cls, torch_pool):
    x = rand(2, 9, 3, dtype="float64")
    xt = cr.Tensor(x, requires_grad=True)
    y = cls(pool_size=3, strides=2, dtype="float64")(xt)
    g = rand(*y.shape, seed=1, dtype="float64")
    (dx,) = cr.grad(cr.reduce_sum(y * g), [xt])
    x_t = torch.tensor(x, requires_grad=True)
    ref = torch_pool(x_t.transpose(1, 2), 3, 2).transpose(1, 2)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-12)


def test_pooling1d_config_aliases_and_model(tmp_path):
    layer = layers.MaxPooling1D(pool_size=3, strides=2, padding="same", name="p1")
    config = layer.get_config()
    assert config["pool_size"] == (3,) and config["strides"] == (2,) and config["padding"] == "same"
    assert config["data_format"] == "channels_last"
    check_config_round_trip(layer, rand(1, 8, 2))
    assert layers.AveragePooling1D().get_config()["strides"] == (2,)
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    check_trains_and_reloads(layers.AveragePooling1D(padding="same"), rand(4, 7, 2), tmp_path)


def test_pooling1d_errors():
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        layers.MaxPooling1D()(rand(2, 4, 4, 1))
    with pytest.raises(ValueError, match=r"MaxPooling1D: pool_size must be a positive int"):
        layers.MaxPooling1D(pool_size=(2, 2))
    with pytest.raises(ValueError, match=r"AveragePooling1D: padding must be 'valid' or 'same'"):
        layers.AveragePooling1D(padding="causal")
