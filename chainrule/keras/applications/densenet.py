"""``keras.applications.densenet``: DenseNet121, DenseNet169 and DenseNet201 (Huang et al., "Densely Connected
Convolutional Networks", CVPR 2017), layer for layer and name for name as Keras 3 builds them, so that Keras's
ImageNet weight files load one to one.

They expect ``preprocess_input`` ("torch" mode: pixels scaled to [0, 1], then standardized on ImageNet's
statistics).

>>> model = DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
>>> model.output_shape, model.layers[-3].name
((None, 1024), 'bn')
"""
from __future__ import annotations

import functools

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# dense blocks per stage, and Keras's md5 sums of its ImageNet files (with the top, without it)
ARCHITECTURES = {
    "densenet121": ((6, 12, 24, 16), ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738")),
    "densenet169": ((6, 12, 32, 32), ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b")),
    "densenet201": ((6, 12, 48, 32), ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1")),
}
GROWTH_RATE = 32


def DenseNet(blocks, include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes: int = 1000, classifier_activation="softmax", name: str = "densenet"):
    """The DenseNet with ``blocks`` dense blocks in its four stages (Keras's builder; ImageNet weights exist for
    the three published depths)."""
    if backend.image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format. Switch to "
                         "`channels_last` by editing your local config file at ~/.keras/keras.json")
    image, _ = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                    default_size=224, min_size=32)
    bn_axis = 3

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(image)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks, start=2):
        x = dense_block(x, count, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = building.classifier_top(x, include_top, pooling, classes, classifier_activation, weights,
                                avg_name="avg_pool", max_name="max_pool")

    file_name = file_hash = None
    known = [key for key, (stages, _) in ARCHITECTURES.items() if tuple(blocks) == stages]
    if weights == "imagenet" and not known:
        raise ValueError(f"There are no ImageNet weights for a DenseNet with blocks={list(blocks)}")
    if weights == "imagenet":
        file_name = f"{known[0]}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
        file_hash = ARCHITECTURES[known[0]][1][0 if include_top else 1]
    return building.finished_model(input_tensor, image, x, name, weights, file_name,
                                   None if file_name is None else BASE_WEIGHTS_PATH + file_name, file_hash)


def dense_block(x, blocks: int, name: str):
    """``blocks`` convolution blocks, each adding ``GROWTH_RATE`` channels."""
    for i in range(blocks):
        x = conv_block(x, GROWTH_RATE, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction: float, name: str):
    """Batch normalization, ReLU, a 1x1 convolution to ``reduction`` of the channels, 2x2 average pooling."""
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate: int, name: str):
    """Batch normalization, ReLU, 1x1 convolution (4 x ``growth_rate``), again, 3x3 convolution
    (``growth_rate``), concatenated to the input."""
    x1 = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def _densenet(key: str, public_name: str):
    return building.application(public_name, key, functools.partial(DenseNet, ARCHITECTURES[key][0]),
                                f"Instantiates the {public_name} architecture.")


DenseNet121 = _densenet("densenet121", "DenseNet121")
DenseNet169 = _densenet("densenet169", "DenseNet169")
DenseNet201 = _densenet("densenet201", "DenseNet201")
preprocess_input = imagenet_utils.preprocess_input_for("torch")
decode_predictions = imagenet_utils.decode_predictions
