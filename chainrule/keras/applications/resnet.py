"""``keras.applications.resnet``: ResNet50, ResNet101 and ResNet152 (He et al., "Deep Residual Learning for Image
Recognition", CVPR 2015), layer for layer and name for name as Keras 3 builds them, so that Keras's ImageNet weight
files load one to one.

Each expects ``preprocess_input`` ("caffe" mode: RGB to BGR, channels zero-centered on ImageNet's means).

>>> model = ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
>>> model.output_shape, model.layers[2].name
((None, 2048), 'conv1_conv')
"""
from __future__ import annotations

import functools

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {  # (with the top, without it), Keras's md5 sums of its files
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
# blocks per stack (conv2..conv5) of each depth, the same in both versions
STACK_BLOCKS = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}


def ResNet(stack_fn, preact: bool, use_bias: bool, include_top: bool = True, weights="imagenet",
           input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
           classifier_activation="softmax", name: str = "resnet", weights_name: str | None = None):
    """The ResNet skeleton around ``stack_fn`` (the residual stacks): the 7x7 stem and max pooling, then the stacks,
    then the top. ``preact``: batch normalization and ReLU after the stacks instead of after the stem (ResNetV2)."""
    image, _ = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                    default_size=224, min_size=32)
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(image)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = building.classifier_top(x, include_top, pooling, classes, classifier_activation, weights,
                                avg_name="avg_pool", max_name="max_pool")

    file_name = origin = file_hash = None
    if weights == "imagenet" and weights_name in WEIGHTS_HASHES:
        suffix = "" if include_top else "_notop"
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        origin, file_hash = BASE_WEIGHTS_PATH + file_name, WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    elif weights == "imagenet":
        raise ValueError(f"There are no ImageNet weights for the ResNet named {weights_name!r}; "
                         f"known: {sorted(WEIGHTS_HASHES)}")
    return building.finished_model(input_tensor, image, x, name, weights, file_name, origin, file_hash)


def residual_block_v1(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True,
                      name: str | None = None):
    """The bottleneck block: 1x1 (``stride``), ``kernel_size``, 1x1 to ``4 * filters`` channels, plus the shortcut
    (a strided 1x1 convolution when ``conv_shortcut``, else the input), then ReLU."""
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters: int, blocks: int, stride1: int = 2, name: str | None = None):
    """``blocks`` bottleneck blocks; the first has the convolution shortcut and stride ``stride1``."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = False,
                      name: str | None = None):
    """The pre-activation bottleneck block (ResNetV2): batch normalization and ReLU first, then 1x1, padded
    ``kernel_size`` (``stride``), 1x1 to ``4 * filters`` channels, plus the shortcut (a 1x1 convolution of the
    pre-activation when ``conv_shortcut``, else the input, max-pooled by ``stride``)."""
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    preact = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters: int, blocks: int, stride1: int = 2, name: str | None = None):
    """``blocks`` pre-activation blocks; the first has the convolution shortcut, the last stride ``stride1``."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def resnet_of_depth(weights_name: str, include_top: bool, weights, input_tensor, input_shape, pooling, classes: int,
                    classifier_activation, name: str):
    """ResNet50/101/152 (``weights_name`` 'resnet50', ...) or their V2 ('resnet50v2', ...): Keras's stacks."""
    v2 = weights_name.endswith("v2")
    blocks = STACK_BLOCKS[weights_name.removesuffix("v2")]

    def stack_fn(x):
        if v2:  # V2 downsamples at the end of conv2..conv4
            for stack, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks), start=2):
                x = stack_residual_blocks_v2(x, filters, count, stride1=1 if stack == 5 else 2, name=f"conv{stack}")
            return x
        for stack, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks), start=2):
            x = stack_residual_blocks_v1(x, filters, count, stride1=1 if stack == 2 else 2, name=f"conv{stack}")
        return x

    return ResNet(stack_fn, preact=v2, use_bias=True, weights_name=weights_name, name=name,
                  include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes, classifier_activation=classifier_activation)


def resnet_constructor(weights_name: str, public_name: str, parameters: str):
    """The public constructor ``public_name`` (ResNet50, ...), with Keras's signature and default model name."""
    return building.application(public_name, weights_name, functools.partial(resnet_of_depth, weights_name),
                                f"Instantiates the {public_name} architecture ({parameters} parameters with the top).")


ResNet50 = resnet_constructor("resnet50", "ResNet50", "25,636,712")
ResNet101 = resnet_constructor("resnet101", "ResNet101", "44,707,176")
ResNet152 = resnet_constructor("resnet152", "ResNet152", "60,419,944")
preprocess_input = imagenet_utils.preprocess_input_for("caffe")
decode_predictions = imagenet_utils.decode_predictions
