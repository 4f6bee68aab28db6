"""DepthwiseConv2D and SeparableConv2D: shapes, configs, a training step, save/load, values against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from chainrule.keras import layers
from layer_checks import check_config_round_trip, check_gradients_reach_weights, check_weights_round_trip, rand
from model_checks import check_trains_and_reloads
from test_depthwise_ops import torch_depthwise_conv2d


@pytest.mark.parametrize("kwargs, in_hw, out_hw", [
    (dict(kernel_size=3), (7, 6), (5, 4)),
    (dict(kernel_size=3, padding="same", strides=2), (7, 6), (4, 3)),
    (dict(kernel_size=(3, 1), dilation_rate=2), (8, 8), (4, 8)),
])
@pytest.mark.parametrize("multiplier", [1, 3])
def test_depthwise_output_shapes(kwargs, in_hw, out_hw, multiplier):
    layer = layers.DepthwiseConv2D(depth_multiplier=multiplier, **kwargs)
    assert layer(rand(2, *in_hw, 4)).shape == (2, *out_hw, 4 * multiplier)
    assert layer.compute_output_shape((None, *in_hw, 4)) == (None, *out_hw, 4 * multiplier)
    assert layer.compute_output_shape((None, None, None, 4)) == (None, None, None, 4 * multiplier)
    assert [w.shape for w in layer.get_weights()] == [layer.kernel_size + (4, multiplier), (4 * multiplier,)]
    separable = layers.SeparableConv2D(5, depth_multiplier=multiplier, **kwargs)
    assert separable(rand(2, *in_hw, 4)).shape == (2, *out_hw, 5)
    assert separable.compute_output_shape((None, None, in_hw[1], 4)) == (None, None, out_hw[1], 5)
    assert [w.shape for w in separable.get_weights()] == [layer.kernel_size + (4, multiplier),
                                                          (1, 1, 4 * multiplier, 5), (5,)]
    assert [w.name.split("/")[-1] for w in separable.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2)])
def test_depthwise_matches_torch_with_the_same_weights(padding, strides):
    x = rand(2, 7, 6, 3, dtype="float64")
    layer = layers.DepthwiseConv2D(3, strides, padding, depth_multiplier=2, activation="relu", dtype="float64")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    ref = torch_depthwise_conv2d(torch.tensor(x), torch.tensor(kernel), strides, padding) + torch.tensor(bias)
    np.testing.assert_allclose(y, torch.relu(ref).numpy(), rtol=1e-12, atol=1e-12)


def test_separable_matches_torch_with_the_same_weights():
    x = rand(2, 8, 7, 3, dtype="float64")
    layer = layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2, dtype="float64")
    y = layer(x).numpy()
    depthwise, pointwise, bias = layer.get_weights()
    hidden = torch_depthwise_conv2d(torch.tensor(x), torch.tensor(depthwise), 1, "same").permute(0, 3, 1, 2)
    ref = F.conv2d(hidden, torch.tensor(pointwise).permute(3, 2, 0, 1), torch.tensor(bias))
    np.testing.assert_allclose(y, ref.permute(0, 2, 3, 1).numpy(), rtol=1e-12, atol=1e-12)


def test_depthwise_config_weights_gradients(tmp_path):
    layer = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, depthwise_regularizer="l2",
                                   depthwise_initializer="he_normal", name="dw")
    x = rand(2, 5, 5, 3)
    config = layer.get_config()
    assert config["depth_multiplier"] == 2 and config["kernel_size"] == (3, 3)
    assert config["depthwise_initializer"]["class_name"] == "HeNormal"
    assert config["depthwise_regularizer"]["class_name"] == "L2"
    assert "kernel_initializer" not in config and config["bias_constraint"] is None
    check_config_round_trip(layer, x)
    check_weights_round_trip(layer)
    check_gradients_reach_weights(layer, x)
    assert len(layer.losses) == 1
    check_trains_and_reloads(layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"), rand(4, 5, 5, 2),
                             tmp_path)


def test_separable_config_weights_gradients(tmp_path):
    layer = layers.SeparableConv2D(4, 3, strides=2, pointwise_initializer="zeros", use_bias=False, name="sep")
    x = rand(2, 7, 7, 3)
    config = layer.get_config()
    assert config["filters"] == 4 and config["pointwise_initializer"]["class_name"] == "Zeros"
    assert config["use_bias"] is False and "pointwise_constraint" in config
    check_config_round_trip(layer, x)
    check_weights_round_trip(layer)
    check_trains_and_reloads(layers.SeparableConv2D(3, 3, padding="same"), rand(4, 6, 6, 2), tmp_path / "b")
    check_gradients_reach_weights(layers.SeparableConv2D(3, 3), x)
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_depthwise_errors():
    with pytest.raises(ValueError, match=r"DepthwiseConv2D: depth_multiplier must be a positive integer"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"Could not interpret constraint identifier: 'nope'"):
        layers.DepthwiseConv2D(3, depthwise_constraint="nope")
    with pytest.raises(ValueError, match=r"channels_first"):
        layers.SeparableConv2D(3, 3, data_format="channels_first")
    with pytest.raises(TypeError, match=r"unexpected keyword arguments: \['kernel_initializer'\]"):
        layers.DepthwiseConv2D(3, kernel_initializer="zeros")
