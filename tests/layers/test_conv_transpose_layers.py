"""Conv2DTranspose, Conv1DTranspose and Conv1D: shapes, configs, a training step, save/load, values against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.keras import layers
from layer_checks import check_config_round_trip, check_gradients_reach_weights, check_weights_round_trip, rand
from model_checks import check_trains_and_reloads
from test_conv_transpose_ops import torch_conv2d_transpose


# --- Conv2DTranspose ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, in_hw, out_hw", [
    (dict(kernel_size=3), (5, 6), (7, 8)),
    (dict(kernel_size=4, strides=2, padding="same"), (7, 7), (14, 14)),  # the DCGAN generator's layer
    (dict(kernel_size=3, strides=2), (4, 5), (9, 11)),
    (dict(kernel_size=2, strides=3), (3, 3), (9, 9)),  # stride > kernel: (n - 1) * s + max(k, s)
    (dict(kernel_size=3, strides=2, output_padding=1), (4, 4), (10, 10)),
    (dict(kernel_size=3, strides=2, padding="same", output_padding=0), (4, 4), (7, 7)),  # (n-1)*s + k%2 + p
    (dict(kernel_size=(3, 2), dilation_rate=(2, 1)), (4, 4), (8, 5)),
])
def test_conv2d_transpose_output_shapes(kwargs, in_hw, out_hw):
    layer = layers.Conv2DTranspose(5, **kwargs)
    y = layer(rand(2, *in_hw, 3))
    assert y.shape == (2, *out_hw, 5) and y.dtype == np.float32
    assert layer.compute_output_shape((None, *in_hw, 3)) == (None, *out_hw, 5)
    assert layer.compute_output_shape((None, None, in_hw[1], 3)) == (None, None, out_hw[1], 5)
    assert [w.shape for w in layer.get_weights()] == [layer.kernel_size + (5, 3), (5,)]


def test_conv2d_transpose_matches_torch_with_the_same_weights():
    """Keras's kernel (kh, kw, filters, in) is PyTorch's ConvTranspose2d weight (in, filters, kh, kw); for k=4, s=2,
    'same' PyTorch's own padding=1 gives the same window (Keras's torch-backend mapping)."""
    x = rand(2, 5, 6, 3, dtype="float64")
    layer = layers.Conv2DTranspose(4, 4, strides=2, padding="same", activation="relu", dtype="float64")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    ref = F.conv_transpose2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(kernel).permute(3, 2, 0, 1),
                             torch.tensor(bias), stride=2, padding=1)
    np.testing.assert_allclose(y, torch.relu(ref).permute(0, 2, 3, 1).numpy(), rtol=1e-12, atol=1e-12)
    # and a window PyTorch's arguments cannot express (odd kernel, stride 2, 'same': TF's crop is one-sided)
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64", use_bias=False)
    y = layer(x).numpy()
    ref = torch_conv2d_transpose(torch.tensor(x), torch.tensor(layer.get_weights()[0]), 2, "same")
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_transpose_config_weights_and_gradients():
    layer = layers.Conv2DTranspose(3, (3, 2), strides=(2, 1), padding="same", output_padding=(1, 0),
                                   activation="tanh", kernel_regularizer="l2", name="up")
    x = rand(2, 4, 5, 2)
    config = layer.get_config()
    assert config["filters"] == 3 and config["kernel_size"] == (3, 2) and config["strides"] == (2, 1)
    assert config["output_padding"] == (1, 0) and config["padding"] == "same" and config["dilation_rate"] == (1, 1)
    assert config["activation"] == "tanh" and config["name"] == "up" and config["data_format"] == "channels_last"
    check_config_round_trip(layer, x)
    check_weights_round_trip(layer)
    check_gradients_reach_weights(layer, x)
    assert len(layer.losses) == 1  # the kernel's L2 penalty


def test_conv2d_transpose_trains_and_reloads(tmp_path):
    check_trains_and_reloads(layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu"),
                             rand(4, 3, 3, 2), tmp_path)


def test_conv2d_transpose_errors():
    with pytest.raises(ValueError, match=r"`output_padding` must be strictly less than `strides`"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"):
        layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"Conv2DTranspose: filters must be a positive integer"):
        layers.Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match=r"Conv2DTranspose: padding must be 'valid' or 'same'"):
        layers.Conv2DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"expected ndim=4"):
        layers.Conv2DTranspose(2, 3)(rand(4, 4, 3))


# --- Conv1DTranspose ----------------------------------------------------------------------------------------------
def test_conv1d_transpose_shapes_values_and_config(tmp_path):
    x = rand(2, 5, 3, dtype="float64")
    layer = layers.Conv1DTranspose(4, 3, strides=2, dtype="float64")
    y = layer(x)
    assert y.shape == (2, 11, 4) and layer.compute_output_shape((None, None, 3)) == (None, None, 4)
    assert layer.compute_output_shape((None, 5, 3)) == (None, 11, 4)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4, 3) and layer.get_config()["kernel_size"] == (3,)
    ref = F.conv_transpose1d(torch.tensor(x).transpose(1, 2), torch.tensor(kernel).permute(2, 1, 0),
                             torch.tensor(bias), stride=2)
    np.testing.assert_allclose(y.numpy(), ref.transpose(1, 2).numpy(), rtol=1e-12, atol=1e-12)
    assert layers.Conv1DTranspose(2, 4, strides=2, padding="same")(rand(1, 6, 3)).shape == (1, 12, 2)
    check_config_round_trip(layers.Conv1DTranspose(2, 3, output_padding=1, strides=2), rand(2, 4, 3))
    check_trains_and_reloads(layers.Conv1DTranspose(2, 3, strides=2, padding="same"), rand(4, 5, 2), tmp_path)


# --- Conv1D -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, steps, out_steps", [
    (dict(kernel_size=3), 10, 8),
    (dict(kernel_size=3, padding="same", strides=2), 9, 5),
    (dict(kernel_size=3, padding="causal"), 7, 7),
    (dict(kernel_size=2, padding="causal", dilation_rate=4), 7, 7),
    (dict(kernel_size=3, padding="causal", strides=3), 8, 3),
    (dict(kernel_size=(5,), strides=(2,)), 11, 4),
])
def test_conv1d_output_shapes(kwargs, steps, out_steps):
    layer = layers.Conv1D(6, **kwargs)
    assert layer(rand(2, steps, 3)).shape == (2, out_steps, 6)
    assert layer.compute_output_shape((None, steps, 3)) == (None, out_steps, 6)
    assert layer.compute_output_shape((None, None, 3)) == (None, None, 6)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("activation", [None, "relu", "sigmoid"])
def test_conv1d_matches_torch_with_the_same_weights(padding, activation):
    x = rand(2, 9, 3, dtype="float64")
    layer = layers.Conv1D(4, 3, padding=padding, dilation_rate=2, activation=activation, dtype="float64")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    left, right = {"valid": (0, 0), "same": (2, 2), "causal": (4, 0)}[padding]  # k=3, dilation 2: extent 5
    ref = F.conv1d(F.pad(torch.tensor(x).transpose(1, 2), (left, right)), torch.tensor(kernel).permute(2, 1, 0),
                   torch.tensor(bias), dilation=2).transpose(1, 2)
    ref = {None: ref, "relu": torch.relu(ref), "sigmoid": torch.sigmoid(ref)}[activation]
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-12, atol=1e-12)


def test_conv1d_config_gradients_and_model(tmp_path):
    layer = layers.Conv1D(3, 2, padding="causal", activation="relu", name="c1")
    x = rand(2, 6, 4)
    config = layer.get_config()
    assert config["kernel_size"] == (2,) and config["strides"] == (1,) and config["padding"] == "causal"
    assert config["groups"] == 1 and config["dilation_rate"] == (1,)
    check_config_round_trip(layer, x)
    check_weights_round_trip(layer)
    check_gradients_reach_weights(layer, x)
    check_trains_and_reloads(layers.Conv1D(3, 3, padding="same", activation="relu"), rand(4, 7, 2), tmp_path)
    assert layers.Convolution1D is layers.Conv1D


def test_conv1d_errors():
    with pytest.raises(NotImplementedError, match=r"Conv1D: groups=2 is not supported"):
        layers.Conv1D(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv1D: padding must be 'valid' or 'same' or 'causal'"):
        layers.Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match=r"Conv1D: kernel_size must be a positive int"):
        layers.Conv1D(4, (3, 3))
    with pytest.raises(ValueError, match=r"is longer than the input's 2 steps"):
        layers.Conv1D(4, 3)(rand(1, 2, 3))
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        layers.Conv1D(4, 3)(rand(1, 5, 5, 3))


def test_gan_generator_from_the_keras_guide_builds_and_backpropagates():
    """The generator of Keras's 'Writing a training loop from scratch' GAN: Dense, Reshape, two Conv2DTranspose."""
    from chainrule import keras

    generator = keras.Sequential([
        keras.Input(shape=(8,)), layers.Dense(7 * 7 * 16), layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((7, 7, 16)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid")])
    assert generator.output_shape == (None, 28, 28, 1)
    with cr.GradientTape() as tape:
        loss = cr.reduce_mean(generator(rand(2, 8)))
    grads = tape.gradient(loss, generator.trainable_weights)
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
