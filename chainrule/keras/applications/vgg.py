"""The VGG networks (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015) that ``keras.applications.vgg16`` and ``vgg19`` export: five blocks of 3x3 convolutions and 2x2 max
pooling, then three Dense layers; layer names as Keras 3's, so that its ImageNet weight files load one to one.

>>> model = VGG(convs_per_block=(2, 2, 3, 3, 3), name="vgg16", weights=None, include_top=False,
...             input_shape=(32, 32, 3), pooling="max", include_top_weights=None)
>>> model.output_shape, model.layers[-2].name
((None, 512), 'block5_pool')
"""
from __future__ import annotations

from chainrule.keras import backend, layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/"
BLOCK_FILTERS = (64, 128, 256, 512, 512)


def VGG(convs_per_block: tuple[int, ...], name: str, include_top: bool = True, weights="imagenet",
        input_tensor=None, input_shape=None, pooling=None, classes: int = 1000, classifier_activation="softmax",
        include_top_weights: tuple[str, str] | None = None):
    """The VGG network with ``convs_per_block`` convolutions in its five blocks; ``include_top_weights``: the md5
    sums of Keras's ImageNet files (with the top, without it), named after ``name``'s architecture."""
    building.check_arguments(weights, include_top, classes, pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=backend.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    image = building.model_input(input_tensor, input_shape)
    x = image
    for block, (filters, convs) in enumerate(zip(BLOCK_FILTERS, convs_per_block), start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = building.classifier_top(x, False, pooling, classes, classifier_activation, weights)
    architecture = f"vgg{sum(convs_per_block) + 3}"
    file_name = f"{architecture}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    file_hash = include_top_weights[0 if include_top else 1] if include_top_weights else None
    return building.finished_model(input_tensor, image, x, name, weights, file_name,
                                   f"{BASE_WEIGHTS_PATH}{architecture}/{file_name}", file_hash)


def preprocess_input(x, data_format: str | None = None):
    """``imagenet_utils.preprocess_input`` in "caffe" mode: RGB to BGR, each channel zero-centered on ImageNet's
    means, no scaling."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top: int = 5):
    """``imagenet_utils.decode_predictions``: the ``top`` ImageNet classes of each prediction."""
    return imagenet_utils.decode_predictions(preds, top=top)


ARGUMENTS_DOC = """

    Args (Keras's):
        include_top: whether to include the 3 fully-connected layers at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet, downloaded through
            `keras.utils.get_file`; needs h5py) or the path to a weights file to load.
        input_tensor: optional Keras tensor (output of `layers.Input()`) to use as the model's image input.
        input_shape: optional shape tuple, only to be specified if `include_top` is False (otherwise it has to be
            `(224, 224, 3)`); exactly 3 channels for ImageNet weights, width and height no smaller than 32.
        pooling: `None`, `"avg"` or `"max"`: the pooling of the last block's output when `include_top` is False.
        classes: number of classes, only with `include_top=True` and no `weights`. Defaults to 1000.
        classifier_activation: the activation of the "top" layer (`None` gives logits); with pretrained weights
            only `None` or `"softmax"`.
        name: the name of the model.

    Returns:
        A `Model` instance.
"""
