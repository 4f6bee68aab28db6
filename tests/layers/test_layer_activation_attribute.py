"""Setting a layer's ``activation`` after construction changes what it computes, as in Keras (keras-io's Grad-CAM
example removes a classifier's softmax with ``model.layers[-1].activation = None``)."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers


def _x(shape):
    return np.random.default_rng(0).normal(size=shape).astype("float32")


@pytest.mark.parametrize("make, shape", [
    (lambda act: layers.Dense(5, activation=act), (3, 4)),
    (lambda act: layers.Conv2D(3, 3, activation=act), (2, 6, 6, 2)),
    (lambda act: layers.Conv1D(3, 2, activation=act), (2, 6, 2)),
    (lambda act: layers.Conv3D(2, 2, activation=act), (1, 4, 4, 4, 1)),
    (lambda act: layers.Conv2DTranspose(2, 3, activation=act), (1, 4, 4, 2)),
    (lambda act: layers.DepthwiseConv2D(3, activation=act), (2, 6, 6, 2)),
    (lambda act: layers.SeparableConv2D(3, 3, activation=act), (2, 6, 6, 2)),
    (lambda act: layers.EinsumDense("ab,bc->ac", output_shape=5, bias_axes="c", activation=act), (3, 4)),
])
@pytest.mark.parametrize("first, then", [("softmax", None), ("relu", None), (None, "relu"), ("relu", "tanh")])
def test_activation_set_after_construction_is_applied(make, shape, first, then):
    x = _x(shape)
    layer = make(first)
    layer(x)
    reference = make(then)
    reference(x)
    reference.set_weights(layer.get_weights())
    layer.activation = then
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-6)
    assert layer.get_config()["activation"] == reference.get_config()["activation"]


def test_grad_cam_removes_the_softmax_of_a_functional_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(inputs))
    x = _x((2, 4))
    assert np.allclose(model.predict(x, verbose=0).sum(axis=-1), 1.0)
    model.layers[-1].activation = None
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert model.layers[-1].activation is keras.activations.linear


def test_an_unknown_activation_is_refused_when_set():
    layer = layers.Dense(2)
    with pytest.raises(ValueError, match="nonsense"):
        layer.activation = "nonsense"
