"""``keras_tuner.applications``: KerasTuner's ready-made hypermodels for image classification, HyperResNet and
HyperXception, with KerasTuner's search spaces and defaults. Their models take images (height, width, channels),
end in a softmax over ``classes`` and are compiled with ``categorical_crossentropy`` (one-hot labels) and
``accuracy``; with ``include_top=False`` they stop at the pooled features, uncompiled.

>>> from chainrule.keras_tuner import HyperParameters
>>> model = HyperXception(input_shape=(16, 16, 1), classes=3).build(HyperParameters())
>>> model.output.shape
(None, 3)
"""
from __future__ import annotations

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.applications.resnet import stack_residual_blocks_v1, stack_residual_blocks_v2
from chainrule.keras_tuner.hypermodel import HyperModel

_BN_EPSILON = 1.001e-5  # Keras's ResNets'


class _ImageHyperModel(HyperModel):
    """The arguments both hypermodels take: an input (``input_shape`` or a ``keras.Input`` as ``input_tensor``),
    ``include_top`` and ``classes``."""

    def __init__(self, include_top: bool = True, input_shape=None, input_tensor=None, classes: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if include_top and classes is None:
            raise ValueError("You must specify `classes` when `include_top=True`")
        if input_shape is None and input_tensor is None:
            raise ValueError("You must specify either `input_shape` or `input_tensor`.")
        self.include_top, self.input_shape, self.input_tensor, self.classes = (include_top, input_shape,
                                                                                input_tensor, classes)

    def _input(self):
        if self.input_tensor is not None:
            return self.input_tensor
        return layers.Input(shape=self.input_shape)


class HyperResNet(_ImageHyperModel):
    """A ResNet whose version (``"v1"``, ``"v2"``: pre-activation, ``"next"``: ResNeXt's grouped convolutions),
    depth of its third and fourth stacks (``conv3_depth`` 4 or 8, ``conv4_depth`` 6, 23 or 36: ResNet-50 to -152),
    pooling, optimizer and learning rate are tuned.

    >>> from chainrule.keras_tuner import HyperParameters
    >>> hp = HyperParameters()
    >>> HyperResNet(input_shape=(32, 32, 3), classes=10).build(hp).count_params() > 2e7, hp.values["version"]
    (True, 'v2')
    """

    def build(self, hp):
        version = hp.Choice("version", ["v1", "v2", "next"], default="v2")
        conv3_depth = hp.Choice("conv3_depth", [4, 8])
        conv4_depth = hp.Choice("conv4_depth", [6, 23, 36])
        preact, use_bias = version == "v2", version != "next"

        inputs = self._input()
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(inputs)
        x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
        if not preact:
            x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="conv1_bn")(x)
            x = layers.Activation("relu", name="conv1_relu")(x)
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        if version == "v1":
            x = stack_residual_blocks_v1(x, 64, 3, stride1=1, name="conv2")
            x = stack_residual_blocks_v1(x, 128, conv3_depth, name="conv3")
            x = stack_residual_blocks_v1(x, 256, conv4_depth, name="conv4")
            x = stack_residual_blocks_v1(x, 512, 3, name="conv5")
        elif version == "v2":
            x = stack_residual_blocks_v2(x, 64, 3, name="conv2")
            x = stack_residual_blocks_v2(x, 128, conv3_depth, name="conv3")
            x = stack_residual_blocks_v2(x, 256, conv4_depth, name="conv4")
            x = stack_residual_blocks_v2(x, 512, 3, stride1=1, name="conv5")
        else:
            x = stack_grouped_blocks(x, 64, 3, name="conv2")
            x = stack_grouped_blocks(x, 256, conv3_depth, name="conv3")
            x = stack_grouped_blocks(x, 512, conv4_depth, name="conv4")
            x = stack_grouped_blocks(x, 1024, 3, stride1=1, name="conv5")
        if preact:
            x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="post_bn")(x)
            x = layers.Activation("relu", name="post_relu")(x)
        pooling = hp.Choice("pooling", ["avg", "max"], default="avg")
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        else:
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="ResNet")
        x = layers.Dense(self.classes, activation="softmax", name="probs")(x)
        model = keras.Model(inputs, x, name="ResNet")
        optimizer = keras.optimizers.get(hp.Choice("optimizer", ["adam", "rmsprop", "sgd"], default="adam"))
        optimizer.learning_rate = hp.Choice("learning_rate", [0.1, 0.01, 0.001], default=0.01)
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        return model


def grouped_block(x, filters: int, kernel_size: int = 3, stride: int = 1, groups: int = 32,
                  conv_shortcut: bool = True, name: str | None = None):
    """ResNeXt's bottleneck block: 1x1, a ``kernel_size`` convolution in ``groups`` groups (a depthwise convolution
    whose ``filters // groups`` outputs per channel are summed within each group, as Keras writes it), 1x1 to
    ``(64 // groups) * filters`` channels, plus the shortcut, then ReLU."""
    if conv_shortcut:
        shortcut = layers.Conv2D((64 // groups) * filters, 1, strides=stride, use_bias=False,
                                 name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    per_group = filters // groups
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, depth_multiplier=per_group, use_bias=False,
                               name=f"{name}_2_conv")(x)
    spatial = tuple(x.shape[1:-1])
    x = layers.Reshape(spatial + (groups, per_group, per_group))(x)
    x = layers.Lambda(lambda t: sum(t[:, :, :, :, i] for i in range(per_group)), name=f"{name}_2_reduce",
                      output_shape=spatial + (groups, per_group))(x)
    x = layers.Reshape(spatial + (filters,))(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D((64 // groups) * filters, 1, use_bias=False, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_grouped_blocks(x, filters: int, blocks: int, stride1: int = 2, groups: int = 32, name: str | None = None):
    """``blocks`` ResNeXt blocks; the first has the convolution shortcut and stride ``stride1``."""
    x = grouped_block(x, filters, stride=stride1, groups=groups, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = grouped_block(x, filters, groups=groups, conv_shortcut=False, name=f"{name}_block{i}")
    return x


class HyperXception(_ImageHyperModel):
    """An Xception-like network whose activation (ReLU with batch normalization, or SELU), first convolution,
    separable residual blocks (their width and count), pooling, dense layers (count, batch normalization,
    dropout), and learning rate are tuned."""

    def build(self, hp):
        activation = hp.Choice("activation", ["relu", "selu"])
        inputs = self._input()
        conv2d_num_filters = hp.Choice("conv2d_num_filters", [32, 64, 128], default=64)
        kernel_size = hp.Choice("kernel_size", [3, 5])
        initial_strides = hp.Choice("initial_strides", [2])
        x = _conv(inputs, conv2d_num_filters, kernel_size, activation, initial_strides)
        sep_num_filters = hp.Int("sep_num_filters", 128, 768, step=128, default=256)
        num_residual_blocks = hp.Int("num_residual_blocks", 2, 8, default=4)
        for _ in range(num_residual_blocks):
            x = _residual(x, sep_num_filters, activation=activation, max_pooling=False)
        x = _residual(x, 2 * sep_num_filters, activation=activation, max_pooling=True)
        pooling = hp.Choice("pooling", ["avg", "flatten", "max"])
        if pooling == "flatten":
            x = layers.Flatten()(x)
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        else:
            x = layers.GlobalMaxPooling2D()(x)
        if not self.include_top:
            return keras.Model(inputs, x, name="Xception")
        num_dense_layers = hp.Int("num_dense_layers", 1, 3)
        dropout_rate = hp.Float("dropout_rate", 0.0, 0.6, step=0.1, default=0.5)
        dense_use_bn = hp.Choice("dense_use_bn", [True, False])
        for _ in range(num_dense_layers):
            x = _dense(x, self.classes, activation, dense_use_bn, dropout_rate)
        output = layers.Dense(self.classes, activation="softmax")(x)
        model = keras.Model(inputs, output, name="Xception")
        model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-3, 1e-4, 1e-5])),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model


def _conv(x, num_filters: int, kernel_size, activation: str, strides):
    if activation == "selu":
        return layers.Conv2D(num_filters, kernel_size, strides=strides, activation="selu", padding="same",
                             kernel_initializer="lecun_normal", bias_initializer="zeros")(x)
    x = layers.Conv2D(num_filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _sep_conv(x, num_filters: int, kernel_size, activation: str):
    if activation == "selu":
        return layers.SeparableConv2D(num_filters, kernel_size, activation="selu", padding="same",
                                      depthwise_initializer="lecun_normal",
                                      pointwise_initializer="lecun_normal")(x)
    x = layers.SeparableConv2D(num_filters, kernel_size, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _residual(x, num_filters: int, kernel_size=(3, 3), activation: str = "relu", pool_strides=(2, 2),
              max_pooling: bool = True):
    """Two separable convolutions plus the shortcut (a 1x1 convolution where the width or the size changes)."""
    if max_pooling:
        shortcut = layers.Conv2D(num_filters, kernel_size=(1, 1), strides=pool_strides, padding="same")(x)
    elif num_filters != x.shape[-1]:
        shortcut = layers.Conv2D(num_filters, kernel_size=(1, 1), padding="same")(x)
    else:
        shortcut = x
    x = _sep_conv(x, num_filters, kernel_size, activation)
    x = _sep_conv(x, num_filters, kernel_size, activation)
    if max_pooling:
        x = layers.MaxPooling2D(kernel_size, strides=pool_strides, padding="same")(x)
    return layers.add([x, shortcut])


def _dense(x, units: int, activation: str, batchnorm: bool, dropout_rate: float):
    if activation == "selu":
        x = layers.Dense(units, activation="selu", kernel_initializer="lecun_normal", bias_initializer="zeros")(x)
    else:
        x = layers.Dense(units, activation="relu")(x)
        if batchnorm:
            x = layers.BatchNormalization()(x)
    if dropout_rate:
        x = layers.Dropout(dropout_rate)(x)
    return x
