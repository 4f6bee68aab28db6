"""UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D, Permute, RepeatVector, Identity: shapes (None kept), configs,
values against PyTorch, gradients, a training step and save/load in a model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from layer_checks import check_config_round_trip, rand
from model_checks import check_trains_and_reloads


def _grad_matches_torch(layer, x, torch_fn):
    """Forward and input gradient of ``layer`` against ``torch_fn`` on float64."""
    xt = cr.Tensor(x, requires_grad=True)
    y = layer(xt)
    g = rand(*y.shape, seed=5, dtype="float64")
    (dx,) = cr.grad(cr.reduce_sum(y * g), [xt])
    x_t = torch.tensor(x, requires_grad=True)
    ref = torch_fn(x_t)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


# --- upsampling ---------------------------------------------------------------------------------------------------
def test_upsampling1d():
    layer = layers.UpSampling1D(3)
    assert layer.compute_output_shape((None, 4, 2)) == (None, 12, 2)
    assert layer.compute_output_shape((None, None, 2)) == (None, None, 2)
    _grad_matches_torch(layers.UpSampling1D(3, dtype="float64"), rand(2, 4, 2, dtype="float64"),
                        lambda t: F.interpolate(t.transpose(1, 2), scale_factor=3.0).transpose(1, 2))
    assert layer.get_config()["size"] == 3
    check_config_round_trip(layer, rand(1, 3, 2))
    with pytest.raises(TypeError, match=r"Expected an integer value for `size`"):
        layers.UpSampling1D((2,))
    with pytest.raises(ValueError, match=r"Argument `size` should be a positive integer"):
        layers.UpSampling1D(0)


@pytest.mark.parametrize("interpolation, mode", [("nearest", "nearest"), ("bilinear", "bilinear")])
def test_upsampling2d_matches_torch(interpolation, mode):
    x = rand(2, 3, 4, 2, dtype="float64")
    layer = layers.UpSampling2D((2, 3), interpolation=interpolation, dtype="float64")
    extra = {} if mode == "nearest" else {"align_corners": False}
    _grad_matches_torch(layer, x, lambda t: F.interpolate(t.permute(0, 3, 1, 2), scale_factor=(2.0, 3.0), mode=mode,
                                                          **extra).permute(0, 2, 3, 1))
    assert layer.compute_output_shape((None, 3, None, 2)) == (None, 6, None, 2)


def test_upsampling2d_channels_first_config_and_errors():
    x = rand(1, 2, 3, 4)  # (batch, channels, height, width)
    layer = layers.UpSampling2D(2, data_format="channels_first")
    np.testing.assert_array_equal(layer(x).numpy(), x.repeat(2, axis=2).repeat(2, axis=3))
    assert layer.compute_output_shape((None, 2, 3, None)) == (None, 2, 6, None)
    config = layers.UpSampling2D(interpolation="Bilinear").get_config()
    assert config["size"] == (2, 2) and config["interpolation"] == "bilinear" and config["data_format"] == "channels_last"
    check_config_round_trip(layers.UpSampling2D((1, 2), interpolation="bilinear"), rand(1, 3, 3, 2))
    with pytest.raises(NotImplementedError, match=r"interpolation='bicubic' is not supported"):
        layers.UpSampling2D(interpolation="bicubic")


# --- padding and cropping -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding, pads", [(1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))),
                                           (((1, 2), (0, 3)), ((1, 2), (0, 3)))])
def test_zero_padding2d(padding, pads):
    layer = layers.ZeroPadding2D(padding, dtype="float64")
    assert layer.padding == pads
    (top, bottom), (left, right) = pads
    _grad_matches_torch(layer, rand(2, 3, 4, 2, dtype="float64"),
                        lambda t: F.pad(t, (0, 0, left, right, top, bottom)))
    assert layer.compute_output_shape((None, 3, None, 2)) == (None, 3 + top + bottom, None, 2)
    check_config_round_trip(layer, rand(1, 2, 2, 1, dtype="float64"))


def test_zero_padding1d_and_channels_first():
    layer = layers.ZeroPadding1D((1, 3))
    assert layer(rand(2, 4, 2)).shape == (2, 8, 2) and layer.compute_output_shape((None, None, 2)) == (None, None, 2)
    assert layers.ZeroPadding1D(2).padding == (2, 2) and layers.ZeroPadding1D().get_config()["padding"] == (1, 1)
    check_config_round_trip(layer, rand(1, 3, 2))
    x = rand(1, 2, 3, 3)
    y = layers.ZeroPadding2D(((1, 0), (0, 2)), data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (1, 0), (0, 2))))
    with pytest.raises(ValueError, match=r"ZeroPadding2D: `padding` should be either an int"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"1st entry of padding must be a non-negative int"):
        layers.ZeroPadding2D((-1, 2))


@pytest.mark.parametrize("cropping, crops", [(1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))),
                                             (((1, 0), (2, 1)), ((1, 0), (2, 1)))])
def test_cropping2d(cropping, crops):
    layer = layers.Cropping2D(cropping, dtype="float64")
    (top, bottom), (left, right) = crops
    _grad_matches_torch(layer, rand(2, 6, 5, 2, dtype="float64"),
                        lambda t: t[:, top:6 - bottom, left:5 - right])
    assert layer.compute_output_shape((None, 6, None, 2)) == (None, 6 - top - bottom, None, 2)
    check_config_round_trip(layer, rand(1, 6, 6, 1, dtype="float64"))


def test_cropping1d_and_errors():
    layer = layers.Cropping1D((2, 1))
    x = rand(2, 6, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x[:, 2:5])
    assert layer.compute_output_shape((None, None, 3)) == (None, None, 3)
    assert layer.get_config()["cropping"] == (2, 1) and "data_format" not in layer.get_config()
    check_config_round_trip(layer, x)
    with pytest.raises(ValueError, match=r"values in `cropping` argument should be smaller"):
        layers.Cropping1D((2, 2))(rand(1, 4, 1))
    with pytest.raises(ValueError, match=r"values in `cropping` argument should be smaller"):
        layers.Cropping2D(2).compute_output_shape((None, 4, 8, 1))
    x = rand(1, 2, 5, 4)
    np.testing.assert_array_equal(layers.Cropping2D(1, data_format="channels_first")(x).numpy(), x[:, :, 1:4, 1:3])


# --- axes -----------------------------------------------------------------------------------------------------------
def test_permute():
    layer = layers.Permute((3, 1, 2), dtype="float64")
    _grad_matches_torch(layer, rand(2, 3, 4, 5, dtype="float64"), lambda t: t.permute(0, 3, 1, 2))
    assert layer.compute_output_shape((None, 3, None, 5)) == (None, 5, 3, None)
    assert layer.get_config()["dims"] == (3, 1, 2)
    check_config_round_trip(layer, rand(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"Invalid permutation argument `dims` for Permute Layer"):
        layers.Permute((0, 1))


def test_repeat_vector():
    layer = layers.RepeatVector(4, dtype="float64")
    _grad_matches_torch(layer, rand(3, 5, dtype="float64"), lambda t: t[:, None, :].repeat(1, 4, 1))
    assert layer.compute_output_shape((None, 5)) == (None, 4, 5)
    check_config_round_trip(layer, rand(2, 5))
    with pytest.raises(ValueError, match=r"expected ndim=2"):
        layers.RepeatVector(2)(rand(2, 3, 4))


def test_identity_keeps_values_masks_and_structures():
    x = rand(2, 3)
    assert layers.Identity()(x).numpy().tolist() == x.tolist()
    masked = cr.Tensor(x)
    masked._keras_mask = cr.Tensor(np.array([True, False]))
    np.testing.assert_array_equal(layers.Identity()(masked)._keras_mask.numpy(), [True, False])
    assert layers.Identity().compute_output_shape([(None, 2), (None, 3)]) == [(None, 2), (None, 3)]
    check_config_round_trip(layers.Identity(name="same"), x)


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.UpSampling2D(interpolation="bilinear"), (3, 3, 2)), (lambda: layers.UpSampling1D(2), (4, 2)),
    (lambda: layers.ZeroPadding2D(1), (3, 3, 2)), (lambda: layers.Cropping2D(1), (4, 4, 2)),
    (lambda: layers.Cropping1D(1), (4, 2)), (lambda: layers.ZeroPadding1D(1), (4, 2)),
    (lambda: layers.Permute((2, 1)), (4, 2)), (lambda: layers.Identity(), (4, 2)),
])
def test_trains_and_reloads_in_a_model(make, shape, tmp_path):
    check_trains_and_reloads(make(), rand(4, *shape), tmp_path)


def test_repeat_vector_trains_and_reloads_in_a_model(tmp_path):
    check_trains_and_reloads(layers.RepeatVector(3), rand(4, 5), tmp_path)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.RepeatVector(2), layers.Flatten()])
    assert model.output_shape == (None, 6)
