"""``keras.applications.xception``: Xception (Chollet, "Xception: Deep Learning with Depthwise Separable
Convolutions", CVPR 2017), layer for layer as Keras 3 builds it (its residual convolutions and their batch
normalizations keep Keras's automatic names), so that Keras's ImageNet weight files load one to one.

It expects ``preprocess_input`` ("tf" mode: pixels scaled to [-1, 1]); the default input is 299x299, the smallest
71x71.

>>> model = Xception(weights=None, include_top=False, input_shape=(71, 71, 3), pooling="avg")
>>> model.output_shape
(None, 2048)
"""
from __future__ import annotations

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")  # with, without the top


def Xception(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes: int = 1000, classifier_activation="softmax", name: str = "xception"):
    """Instantiates the Xception architecture (22,910,480 parameters with the top).
    """
    image, _ = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                    default_size=299, min_size=71)
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(image)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    # entry flow: blocks 2-4 (block 2 starts without ReLU), each with a strided 1x1 convolution as its shortcut
    for block, filters in ((2, 128), (3, 256), (4, 728)):
        residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
        residual = layers.BatchNormalization(axis=channel_axis)(residual)
        if block > 2:
            x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
        x = _separable(x, filters, f"block{block}_sepconv1", channel_axis)
        x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
        x = _separable(x, filters, f"block{block}_sepconv2", channel_axis)
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
        x = layers.add([x, residual])
    # middle flow: eight blocks of three separable convolutions around an identity shortcut
    for block in range(5, 13):
        residual = x
        for conv in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{conv}_act")(x)
            x = _separable(x, 728, f"block{block}_sepconv{conv}", channel_axis)
        x = layers.add([x, residual])
    # exit flow
    residual = layers.Conv2D(1024, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=channel_axis)(residual)
    x = layers.Activation("relu", name="block13_sepconv1_act")(x)
    x = _separable(x, 728, "block13_sepconv1", channel_axis)
    x = layers.Activation("relu", name="block13_sepconv2_act")(x)
    x = _separable(x, 1024, "block13_sepconv2", channel_axis)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])
    x = _separable(x, 1536, "block14_sepconv1", channel_axis)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _separable(x, 2048, "block14_sepconv2", channel_axis)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    x = building.classifier_top(x, include_top, pooling, classes, classifier_activation, weights,
                                avg_name="avg_pool" if include_top else None)

    suffix = "" if include_top else "_notop"
    file_name = f"xception_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    return building.finished_model(input_tensor, image, x, name, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                   WEIGHTS_HASHES[0 if include_top else 1])


def _separable(x, filters: int, name: str, channel_axis: int):
    """A 3x3 separable convolution without bias and its batch normalization ('<name>_bn')."""
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=channel_axis, name=f"{name}_bn")(x)


building.document(Xception, size=299, min_size=71)
preprocess_input = imagenet_utils.preprocess_input_for("tf")
decode_predictions = imagenet_utils.decode_predictions
