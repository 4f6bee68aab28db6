"""GaussianNoise, GaussianDropout, SpatialDropout1D/2D and ActivityRegularization: identity at inference, Keras's
formulas in training (the noise drawn by keras.random from the layer's SeedGenerator), configs, a training step and
save/load in a model."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import layers
from chainrule.keras import random as keras_random
from layer_checks import check_config_round_trip, rand
from model_checks import check_trains_and_reloads


@pytest.mark.parametrize("cls, arg", [(layers.GaussianNoise, 0.3), (layers.GaussianDropout, 0.2),
                                      (layers.SpatialDropout1D, 0.5), (layers.SpatialDropout2D, 0.5)])
def test_identity_at_inference(cls, arg):
    x = rand(2, 4, 4, 3) if cls is layers.SpatialDropout2D else rand(2, 4, 3)
    layer = cls(arg, seed=3)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # training defaults to False, as in Keras
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + x.shape[1:]


def test_gaussian_noise_adds_keras_random_normal_from_its_seed_generator():
    x = rand(3, 5)
    layer = layers.GaussianNoise(0.25, seed=7)
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    reference = keras_random.SeedGenerator(7)
    for got in (first, second):
        want = x + keras_random.normal(x.shape, 0.0, 0.25, seed=reference).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not np.array_equal(first, second)  # a new draw at every call
    np.testing.assert_array_equal(layers.GaussianNoise(0.25, seed=7)(x, training=True).numpy(), first)


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    x = rand(3, 5)
    layer = layers.GaussianDropout(0.2, seed=4)
    want = x * keras_random.normal(x.shape, 1.0, math.sqrt(0.2 / 0.8), seed=keras_random.SeedGenerator(4)).numpy()
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-6, atol=1e-7)
    big = np.ones((200, 200), "float32")
    noise = layers.GaussianDropout(0.5, seed=1)(big, training=True).numpy()
    assert abs(noise.mean() - 1.0) < 0.02 and abs(noise.std() - 1.0) < 0.02


def test_noise_gradient_flows_to_the_input():
    x = cr.Tensor(rand(2, 3), requires_grad=True)
    (dx,) = cr.grad(cr.reduce_sum(layers.GaussianNoise(0.5, seed=1)(x, training=True)), [x])
    np.testing.assert_array_equal(dx.numpy(), np.ones((2, 3), "float32"))
    layer = layers.GaussianDropout(0.5, seed=2)
    y = layer(x, training=True)
    (dx,) = cr.grad(cr.reduce_sum(y), [x])
    np.testing.assert_allclose(dx.numpy(), y.numpy() / x.numpy(), rtol=1e-5)


@pytest.mark.parametrize("cls, shape, spatial", [(layers.SpatialDropout1D, (8, 50, 6), (1,)),
                                                 (layers.SpatialDropout2D, (8, 9, 7, 6), (1, 2))])
def test_spatial_dropout_drops_whole_channels(cls, shape, spatial):
    x = np.ones(shape, "float32")
    y = cls(0.5, seed=1)(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    per_channel = y.min(axis=spatial) == y.max(axis=spatial)  # one value per (example, channel)
    assert per_channel.all() and 0.2 < (y == 0).mean() < 0.8


def test_spatial_dropout2d_channels_first_shares_along_height_and_width():
    y = layers.SpatialDropout2D(0.5, data_format="channels_first", seed=2)(np.ones((4, 6, 5, 5), "float32"),
                                                                           training=True).numpy()
    assert (y.min(axis=(2, 3)) == y.max(axis=(2, 3))).all()


def test_activity_regularization_adds_the_l1_l2_penalty_per_sample():
    x = rand(4, 3)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    (loss,) = layer.losses
    want = (0.1 * np.abs(x).sum() + 0.01 * (x ** 2).sum()) / 4
    np.testing.assert_allclose(float(loss), want, rtol=1e-5)
    config = layer.get_config()
    assert config["l1"] == 0.1 and config["l2"] == 0.01 and "activity_regularizer" not in config


@pytest.mark.parametrize("layer, keys", [
    (layers.GaussianNoise(0.1, seed=3, name="gn"), {"stddev": 0.1, "seed": 3, "name": "gn"}),
    (layers.GaussianDropout(0.3), {"rate": 0.3, "seed": None}),
    (layers.SpatialDropout1D(0.2, seed=1), {"rate": 0.2, "seed": 1}),
    (layers.SpatialDropout2D(0.2, data_format="channels_first"), {"rate": 0.2, "data_format": "channels_first"}),
    (layers.ActivityRegularization(0.5), {"l1": 0.5, "l2": 0.0}),
])
def test_configs(layer, keys):
    config = layer.get_config()
    assert {key: config[key] for key in keys} == keys
    shape = (2, 3, 4, 5) if isinstance(layer, layers.SpatialDropout2D) else (2, 3, 4)
    check_config_round_trip(layer, rand(*shape))


def test_errors():
    with pytest.raises(ValueError, match=r"Invalid value received for argument `stddev`"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match=r"Invalid value received for argument `rate`"):
        layers.GaussianDropout(-0.1)
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        layers.SpatialDropout1D(0.5)(rand(2, 3, 4, 5), training=True)


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.GaussianNoise(0.1, seed=1), (4,)), (lambda: layers.GaussianDropout(0.2, seed=1), (4,)),
    (lambda: layers.SpatialDropout1D(0.3, seed=1), (5, 3)), (lambda: layers.SpatialDropout2D(0.3, seed=1), (4, 4, 2)),
    (lambda: layers.ActivityRegularization(0.01, 0.01), (4,)),
])
def test_trains_and_reloads_in_a_model(make, shape, tmp_path):
    check_trains_and_reloads(make(), rand(4, *shape), tmp_path)
