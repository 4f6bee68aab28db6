"""``keras.applications.mobilenet``: MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks
for Mobile Vision Applications", 2017), layer for layer and name for name as Keras 3 builds it, so that Keras's
ImageNet weight files load one to one.

It expects ``preprocess_input`` ("tf" mode: pixels scaled to [-1, 1]).

>>> model = MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3), classes=10)
>>> model.name, model.output_shape, model.layers[-3].name
('mobilenet_0.25_32', (None, 10), 'conv_preds')
"""
from __future__ import annotations

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
IMAGENET_ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}  # and their spelling in the file names
IMAGENET_SIZES = (128, 160, 192, 224)
# (pointwise filters, stride) of the depthwise separable blocks 1..13
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))


def MobileNet(input_shape=None, alpha: float = 1.0, depth_multiplier: int = 1, dropout: float = 1e-3,
              include_top: bool = True, weights="imagenet", input_tensor=None, pooling=None, classes: int = 1000,
              classifier_activation="softmax", name: str | None = None):
    """Instantiates the MobileNet architecture (4,253,864 parameters with the top at ``alpha=1``).

    ``alpha``: the width multiplier (ImageNet weights for 0.25, 0.5, 0.75 and 1.0); ``depth_multiplier``: the
    resolution multiplier of the depthwise convolutions (1 for ImageNet weights); ``dropout``: the rate before the
    classifier. ``name`` defaults to ``mobilenet_{alpha:0.2f}_{rows}``."""
    channels_first = backend.image_data_format() == "channels_first"
    size = 224
    if input_shape is not None:
        size = building.default_size(*(input_shape[1:3] if channels_first else input_shape[0:2]), IMAGENET_SIZES)
    image, input_shape = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                              default_size=size)
    rows, cols = input_shape[1:3] if channels_first else input_shape[0:2]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"If imagenet weights are being loaded, depth multiplier must be 1.  Received "
                             f"depth_multiplier={depth_multiplier}")
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError(f"If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
                             f"`1.0` only.  Received alpha={alpha}")
        rows = building.imagenet_rows(rows, cols, IMAGENET_SIZES)
    channel_axis = 1 if channels_first else -1

    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2), name="conv1")(image)
    x = layers.BatchNormalization(axis=channel_axis, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = building.classifier_top(x, False, pooling, classes, classifier_activation, weights)

    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    file_name = origin = None
    if weights == "imagenet":
        file_name = f"mobilenet_{IMAGENET_ALPHAS[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
        origin = BASE_WEIGHT_PATH + file_name
    return building.finished_model(input_tensor, image, x, name, weights, file_name, origin)


def _depthwise_conv_block(inputs, pointwise_conv_filters: int, alpha: float, depth_multiplier: int = 1,
                          strides=(1, 1), block_id: int = 1):
    """Depthwise 3x3 (``strides``, after padding on the bottom and right when strided), batch normalization,
    ReLU6, then pointwise 1x1 to ``alpha * pointwise_conv_filters`` channels, batch normalization, ReLU6."""
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


preprocess_input = imagenet_utils.preprocess_input_for("tf")
decode_predictions = imagenet_utils.decode_predictions
