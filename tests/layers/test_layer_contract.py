"""What every layer shares through the base class: activity regularization, freezing, shape checks, exports."""
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import layers
from chainrule.keras.graph import Input
from layer_checks import rand


def test_activity_regularizer_tracks_the_latest_call():
    layer = layers.Dense(2, activity_regularizer=cr.regularizers.L1(0.1))
    y1 = layer(rand(3, 4, seed=1))
    assert len(layer.losses) == 1
    # per sample: the penalty over the batch divided by its size (Keras 3, so it does not grow with the batch)
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * np.abs(y1.numpy()).sum() / 3, rtol=1e-5)
    y2 = layer(rand(3, 4, seed=2))
    assert len(layer.losses) == 1  # replaced, not accumulated (Keras clears losses on each call)
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * np.abs(y2.numpy()).sum() / 3, rtol=1e-5)
    assert layer.get_config()["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.1}}
    assert "activity_regularizer" not in layers.Dense(2).get_config()
    x = cr.Tensor(rand(3, 4), requires_grad=True)
    layer(x)
    (dx,) = cr.grad(layer.losses[0], [x])  # the penalty is differentiable through the layer
    assert np.any(dx.numpy() != 0)


def test_trainable_at_construction_and_toggled():
    layer = layers.Conv2D(2, 3, trainable=False)
    layer(rand(1, 4, 4, 1))
    assert layer.trainable_variables == [] and not layer.kernel.requires_grad
    assert layer.get_config()["trainable"] is False
    layer.trainable = True
    assert len(layer.trainable_variables) == 2
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(layer(rand(1, 4, 4, 1)))
    assert all(g is not None for g in tape.gradient(loss, layer.trainable_variables))
    layer.trainable = False
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(layer(rand(1, 4, 4, 1)))
    assert loss.node is None  # a frozen layer records no graph


def test_symbolic_calls_give_keras_shapes():
    x = Input(shape=(28, 28, 1))
    y = layers.Conv2D(32, 3, activation="relu")(x)
    assert y.shape == (None, 26, 26, 32)
    y = layers.BatchNormalization()(y)
    y = layers.Dropout(0.5)(y)
    y = layers.MaxPooling2D()(y)
    assert y.shape == (None, 13, 13, 32)
    y = layers.Flatten()(y)
    assert y.shape == (None, 5408)
    y = layers.Dense(10, activation="softmax")(layers.Reshape((13 * 13, 32))(layers.Reshape((5408,))(y)))
    assert y.shape == (None, 169, 10)
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.Conv2D(2, 3)(Input(shape=(5, 5)))


def test_layer_names_are_unique_and_snake_case():
    a, b = layers.BatchNormalization(), layers.BatchNormalization()
    assert a.name.startswith("batch_normalization") and a.name != b.name
    assert layers.GlobalAveragePooling2D().name.startswith("global_average_pooling2d")


def test_every_layer_config_is_json_and_round_trips():
    built = {
        layers.Dense(3): rand(2, 4), layers.Conv2D(2, 3): rand(1, 5, 5, 2), layers.MaxPooling2D(): rand(1, 4, 4, 2),
        layers.AveragePooling2D(): rand(1, 4, 4, 2), layers.GlobalAveragePooling2D(): rand(1, 4, 4, 2),
        layers.GlobalMaxPooling2D(): rand(1, 4, 4, 2), layers.Flatten(): rand(2, 3, 4),
        layers.Reshape((12,)): rand(2, 3, 4), layers.Dropout(0.2): rand(2, 3),
        layers.BatchNormalization(): rand(3, 2), layers.Activation("relu"): rand(2, 3), layers.ReLU(): rand(2, 3),
        layers.LeakyReLU(): rand(2, 3), layers.Softmax(): rand(2, 3), layers.ELU(): rand(2, 3),
        layers.Rescaling(0.5, offset=-1.0): rand(2, 3),
    }
    for layer, x in built.items():
        layer(x)
        config = json.loads(json.dumps(layer.get_config()))
        clone = type(layer).from_config(config)
        assert json.loads(json.dumps(clone.get_config())) == config, type(layer).__name__


def test_exports():
    for name in ("Layer", "InputSpec", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                 "Flatten", "Reshape", "Dropout", "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax",
                 "ELU", "Add", "Concatenate", "Multiply", "Average", "InputLayer", "Lambda", "Rescaling"):
        assert hasattr(layers, name) and name in layers.__all__


def test_get_weights_returns_copies():
    layer = layers.Dense(2)
    layer(rand(1, 3))
    kernel = layer.get_weights()[0]
    kernel[...] = 7.0
    assert not np.any(layer.kernel.numpy() == 7.0)
