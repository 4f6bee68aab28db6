"""``keras.applications.mobilenet_v2``: MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", CVPR 2018), layer for layer and name for name as Keras 3 builds it, so that Keras's ImageNet weight
files load one to one.

It expects ``preprocess_input`` ("tf" mode: pixels scaled to [-1, 1]).

>>> model = MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)
>>> model.name, model.output_shape
('mobilenetv2_0.35_32', (None, 10))
"""
from __future__ import annotations

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils
from chainrule.keras.graph import KerasTensor

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
IMAGENET_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of the inverted residual blocks 0..16
BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6), (64, 1, 6),
          (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def MobileNetV2(input_shape=None, alpha: float = 1.0, include_top: bool = True, weights="imagenet",
                input_tensor=None, pooling=None, classes: int = 1000, classifier_activation="softmax",
                name: str | None = None):
    """Instantiates the MobileNetV2 architecture (3,538,984 parameters with the top at ``alpha=1``).

    Args (Keras's):
        input_shape: optional shape tuple, only to be specified if `include_top` is False (otherwise it has to be
            `(224, 224, 3)`); 3 channels, width and height no smaller than 32. Ignored when `input_tensor` is given.
        alpha: the width multiplier: below 1 fewer filters in each layer, above 1 more. ImageNet weights exist for
            0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.
        include_top: whether to include the fully-connected layer at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet, downloaded through
            `keras.utils.get_file`; needs h5py) or the path to a weights file to load.
        input_tensor: optional Keras tensor (output of `layers.Input()`) to use as the model's image input.
        pooling: `None`, `"avg"` or `"max"`: the pooling of the last block's output when `include_top` is False.
        classes: number of classes, only with `include_top=True` and no `weights`. Defaults to 1000.
        classifier_activation: the activation of the "top" layer (`None` gives logits); with pretrained weights
            only `None` or `"softmax"`.
        name: the name of the model; defaults to `mobilenetv2_{alpha:0.2f}_{rows}`.

    Returns:
        A `Model` instance.
    """
    channels_first = backend.image_data_format() == "channels_first"
    if input_shape is not None and input_tensor is not None:
        if not isinstance(input_tensor, KerasTensor):
            raise ValueError(f"input_tensor is not a Keras tensor; Received `input_tensor={input_tensor}`")
        axis = 1 if channels_first else 2
        if input_tensor.shape[axis] != input_shape[1]:
            raise ValueError(f"input_tensor.shape[{axis}] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`")
    if input_shape is None and input_tensor is not None and isinstance(input_tensor, KerasTensor):
        rows, cols = input_tensor.shape[2:4] if channels_first else input_tensor.shape[1:3]
    elif input_shape is not None:
        rows, cols = input_shape[1:3] if channels_first else input_shape[0:2]
    else:
        rows = cols = None
    default_size = building.default_size(rows, cols, IMAGENET_SIZES)
    image, input_shape = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                              default_size=default_size)
    rows, cols = input_shape[1:3] if channels_first else input_shape[0:2]
    if weights == "imagenet":
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
                             f"`1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`")
        rows = building.imagenet_rows(rows, cols, IMAGENET_SIZES)
    channel_axis = 1 if channels_first else -1

    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="Conv1")(image)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)
    # the last convolution is not narrowed by alpha (the paper): only widened when alpha > 1
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = building.classifier_top(x, include_top, pooling, classes, classifier_activation, weights)

    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    suffix = "" if include_top else "_no_top"
    file_name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{suffix}.h5"
    return building.finished_model(input_tensor, image, x, name, weights, file_name, BASE_WEIGHT_PATH + file_name)


def _inverted_res_block(inputs, expansion: int, stride: int, alpha: float, filters: int, block_id: int):
    """Expand (1x1, ReLU6; not in block 0), depthwise 3x3 (``stride``, ReLU6), project (1x1, linear), plus the
    input when the shapes allow."""
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[channel_axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
                          name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to a multiple of ``divisor`` (at least ``min_value``), never more than 10% below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


preprocess_input = imagenet_utils.preprocess_input_for("tf")
decode_predictions = imagenet_utils.decode_predictions
