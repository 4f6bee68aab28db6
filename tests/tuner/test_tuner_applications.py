"""keras_tuner.applications (chainrule/keras_tuner/applications.py): HyperResNet and HyperXception."""
import numpy as np
import pytest

from chainrule import keras
from chainrule import keras_tuner as kt
from chainrule.keras_tuner.applications import HyperResNet, HyperXception


def _hp(**values):
    hp = kt.HyperParameters()
    hp.values.update(values)
    return hp


@pytest.mark.parametrize("version, depths, weights", [
    ("v1", (4, 6), 25_636_712),   # keras.applications.ResNet50's count
    ("v2", (4, 6), 25_613_800),   # ResNet50V2's
    ("v2", (8, 36), 60_380_648),  # ResNet152V2's
])
def test_resnet_versions_are_keras_resnets(version, depths, weights):
    hp = _hp(version=version, conv3_depth=depths[0], conv4_depth=depths[1])
    model = HyperResNet(input_shape=(224, 224, 3), classes=1000).build(hp)
    assert model.count_params() == weights
    assert model.loss == "categorical_crossentropy" and model.optimizer.learning_rate == pytest.approx(0.01)


def test_resnext_groups_and_defaults():
    hp = _hp(version="next")
    model = HyperResNet(input_shape=(32, 32, 3), classes=4).build(hp)
    assert hp.values == {"version": "next", "conv3_depth": 4, "conv4_depth": 6, "pooling": "avg",
                         "optimizer": "adam", "learning_rate": 0.01}
    conv = model.get_layer("conv2_block1_2_conv")  # 64 channels in 32 groups of 2: 2 outputs per channel
    assert conv.depth_multiplier == 2 and model.get_layer("conv2_block1_3_conv").filters == 128
    out = model.predict(np.random.rand(2, 32, 32, 3), verbose=0)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-5)
    features = HyperResNet(include_top=False, input_shape=(32, 32, 3)).build(_hp(pooling="max"))
    assert features.output.shape == (None, 2048) and features.optimizer is None


def test_xception_search_space_and_branches():
    hp = kt.HyperParameters()
    model = HyperXception(input_shape=(28, 28, 1), classes=10).build(hp)
    assert hp.values == {"activation": "relu", "conv2d_num_filters": 64, "kernel_size": 3, "initial_strides": 2,
                         "sep_num_filters": 256, "num_residual_blocks": 4, "pooling": "avg",
                         "num_dense_layers": 1, "dropout_rate": 0.5, "dense_use_bn": True, "learning_rate": 1e-3}
    assert sum(isinstance(layer, keras.layers.SeparableConv2D) for layer in model.layers) == 2 * 5
    selu = HyperXception(input_shape=(28, 28, 1), classes=10).build(_hp(activation="selu", pooling="flatten"))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in selu.layers)
    assert selu.predict(np.random.rand(2, 28, 28, 1), verbose=0).shape == (2, 10)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="You must specify `classes`"):
        HyperResNet(input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="either `input_shape` or `input_tensor`"):
        HyperXception(classes=3)
    inputs = keras.Input((32, 32, 3))
    assert HyperXception(input_tensor=inputs, classes=3).build(kt.HyperParameters()).inputs[0] is inputs
