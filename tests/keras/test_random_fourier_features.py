"""keras.layers.experimental.RandomFourierFeatures (TensorFlow 2's kernel-approximating layer, used by keras-io's
quasi-SVM example): its formula, its kernel approximation, its weights, config and errors."""

import math

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras.layers.experimental import RandomFourierFeatures


def test_output_is_the_scaled_cosine_of_the_random_projection():
    layer = RandomFourierFeatures(output_dim=16, scale=3.0)
    x = np.random.rand(5, 4).astype("float32")
    y = np.asarray(layer(x))
    w, b, s = (np.asarray(v) for v in (layer.unscaled_kernel, layer.bias, layer.kernel_scale))
    expected = math.sqrt(2.0 / 16) * np.cos(x @ (w / s) + b)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert w.shape == (4, 16) and b.shape == (16,) and s.shape == (1,)
    assert (b >= 0).all() and (b < 2 * math.pi).all()


@pytest.mark.parametrize("kernel,exact", [
    ("gaussian", lambda d, scale: np.exp(-(d ** 2).sum(-1) / (2 * scale ** 2))),
    ("laplacian", lambda d, scale: np.exp(-np.abs(d).sum(-1) / scale)),
])
def test_feature_dot_products_approximate_the_kernel(kernel, exact):
    tf.random.set_seed(1)
    scale = 1.5
    layer = RandomFourierFeatures(output_dim=20000, kernel_initializer=kernel, scale=scale)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32") * 0.5
    z = np.asarray(layer(x), dtype="float64")
    approx = z @ z.T
    d = x[:, None, :] - x[None, :, :]
    np.testing.assert_allclose(approx, exact(d.astype("float64"), scale), atol=0.05)


def test_default_scale_and_trainability():
    layer = RandomFourierFeatures(output_dim=8)
    layer.build((None, 50))
    assert layer.scale == pytest.approx(5.0)  # sqrt(50 / 2) for the Gaussian kernel
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    laplacian = RandomFourierFeatures(output_dim=8, kernel_initializer="laplacian")
    laplacian.build((None, 50))
    assert laplacian.scale == 1.0
    trainable = RandomFourierFeatures(output_dim=8, trainable=True)
    trainable.build((None, 4))
    # only the scale learns: the projection and the phases stay as drawn
    assert trainable.trainable_weights == [trainable.kernel_scale]


def test_scale_trains_in_a_model_and_config_round_trips():
    model = keras.Sequential([keras.Input(shape=(6,)),
                              RandomFourierFeatures(output_dim=32, scale=2.0, trainable=True, name="rff"),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=keras.losses.hinge)
    before = np.asarray(model.get_layer("rff").kernel_scale).copy()
    kernel_before = np.asarray(model.get_layer("rff").unscaled_kernel).copy()
    x = np.random.rand(16, 6).astype("float32")
    y = keras.utils.to_categorical(np.arange(16) % 2)
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(np.asarray(model.get_layer("rff").kernel_scale), before)
    np.testing.assert_array_equal(np.asarray(model.get_layer("rff").unscaled_kernel), kernel_before)
    config = model.get_layer("rff").get_config()
    assert (config["output_dim"], config["kernel_initializer"], config["scale"]) == (32, "gaussian", 2.0)
    clone = RandomFourierFeatures.from_config(config)
    assert clone(x).shape == (16, 32)


@pytest.mark.parametrize("kwargs,message", [
    ({"output_dim": 0}, "output_dim"),
    ({"output_dim": 4, "kernel_initializer": "polynomial"}, "kernel_initializer"),
    ({"output_dim": 4, "scale": -1.0}, "scale"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomFourierFeatures(**kwargs)


def test_input_of_rank_other_than_two_is_refused():
    with pytest.raises(ValueError, match="rank of the input tensor should be 2"):
        RandomFourierFeatures(output_dim=4)(np.zeros((2, 3, 4), "float32"))
