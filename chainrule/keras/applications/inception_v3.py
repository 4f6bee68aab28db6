"""``keras.applications.inception_v3``: InceptionV3 (Szegedy et al., "Rethinking the Inception Architecture for
Computer Vision", CVPR 2016), layer for layer as Keras 3 builds it (its convolutions and batch normalizations keep
Keras's automatic names; the blocks are 'mixed0' ... 'mixed10'), so that Keras's ImageNet weight files load one to
one.

It expects ``preprocess_input`` ("tf" mode: pixels scaled to [-1, 1]); the default input is 299x299, the smallest
75x75.

>>> from chainrule.keras.layers import Input
>>> conv2d_bn(Input(shape=(9, 9, 3)), 8, 3, 3, strides=(2, 2), padding="valid", name="stem").shape
(None, 4, 4, 8)
"""
from __future__ import annotations

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                "inception_v3_weights_tf_dim_ordering_tf_kernels")
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")  # with, without the top


def InceptionV3(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes: int = 1000, classifier_activation="softmax", name: str = "inception_v3"):
    """Instantiates the Inception v3 architecture (23,851,784 parameters with the top)."""
    image, _ = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                    default_size=299, min_size=75)
    axis = 1 if backend.image_data_format() == "channels_first" else 3

    x = conv2d_bn(image, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    # mixed 0, 1, 2: 35 x 35 x 256, 288, 288
    for i, pool_filters in enumerate((32, 64, 64)):
        branch1x1 = conv2d_bn(x, 64, 1, 1)
        branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
        branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        branch_pool = conv2d_bn(_average_pool(x), pool_filters, 1, 1)
        x = layers.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=axis, name=f"mixed{i}")
    # mixed 3: 17 x 17 x 768
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2),
                             padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch3x3dbl, branch_pool], axis=axis, name="mixed3")
    # mixed 4, 5, 6, 7: 17 x 17 x 768, factorized 7x7 convolutions of widening inner width
    for i, width in enumerate((128, 160, 160, 192), start=4):
        branch1x1 = conv2d_bn(x, 192, 1, 1)
        branch7x7 = conv2d_bn(conv2d_bn(conv2d_bn(x, width, 1, 1), width, 1, 7), 192, 7, 1)
        branch7x7dbl = conv2d_bn(x, width, 1, 1)
        for filters, rows, cols in ((width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)):
            branch7x7dbl = conv2d_bn(branch7x7dbl, filters, rows, cols)
        branch_pool = conv2d_bn(_average_pool(x), 192, 1, 1)
        x = layers.concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=axis, name=f"mixed{i}")
    # mixed 8: 8 x 8 x 1280
    branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch7x7x3, branch_pool], axis=axis, name="mixed8")
    # mixed 9, 10: 8 x 8 x 2048
    for i in range(2):
        branch1x1 = conv2d_bn(x, 320, 1, 1)
        branch3x3 = conv2d_bn(x, 384, 1, 1)
        branch3x3 = layers.concatenate([conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
                                       axis=axis, name=f"mixed9_{i}")
        branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
        branch3x3dbl = layers.concatenate([conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)],
                                          axis=axis)
        branch_pool = conv2d_bn(_average_pool(x), 192, 1, 1)
        x = layers.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=axis, name=f"mixed{9 + i}")
    x = building.classifier_top(x, include_top, pooling, classes, classifier_activation, weights,
                                avg_name="avg_pool" if include_top else None)

    file_name = f"inception_v3_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return building.finished_model(input_tensor, image, x, name, weights, file_name,
                                   WEIGHTS_PATH + ("" if include_top else "_notop") + ".h5",
                                   WEIGHTS_HASHES[0 if include_top else 1])


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding: str = "same", strides=(1, 1),
              name: str | None = None):
    """A convolution without bias, batch normalization without scale, ReLU (named '<name>_conv', '<name>_bn',
    '<name>' when ``name`` is given, else automatically, as Keras does)."""
    bn_axis = 1 if backend.image_data_format() == "channels_first" else 3
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _average_pool(x):
    return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)


building.document(InceptionV3, size=299, min_size=75)
preprocess_input = imagenet_utils.preprocess_input_for("tf")
decode_predictions = imagenet_utils.decode_predictions
