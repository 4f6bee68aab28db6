"""VGG16 and VGG19 (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015), which ``keras.applications.vgg16`` and ``vgg19`` export: five blocks of 3x3 convolutions and 2x2 max
pooling, then three Dense layers; layer names as Keras 3's, so that its ImageNet weight files load one to one.

>>> model = VGG(convs_per_block=(2, 2, 3, 3, 3), name="vgg16", weights=None, include_top=False,
...             input_shape=(32, 32, 3), pooling="max", weights_hashes=None)
>>> model.output_shape, model.layers[-2].name
((None, 512), 'block5_pool')
"""
from __future__ import annotations

import functools

from chainrule.keras import layers
from chainrule.keras.applications import building, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/"
BLOCK_FILTERS = (64, 128, 256, 512, 512)


def VGG(convs_per_block: tuple[int, ...], name: str, include_top: bool = True, weights="imagenet",
        input_tensor=None, input_shape=None, pooling=None, classes: int = 1000, classifier_activation="softmax",
        weights_hashes: tuple[str, str] | None = None):
    """The VGG network with ``convs_per_block`` convolutions in its five blocks; ``weights_hashes``: the md5
    sums of Keras's ImageNet files (with the top, without it), named after ``name``'s architecture."""
    image, _ = building.image_input(weights, include_top, classes, pooling, input_tensor, input_shape,
                                    default_size=224, min_size=32)
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
    file_hash = weights_hashes[0 if include_top else 1] if weights_hashes else None
    return building.finished_model(input_tensor, image, x, name, weights, file_name,
                                   f"{BASE_WEIGHTS_PATH}{architecture}/{file_name}", file_hash)


def _vgg(depth: int, convs_per_block: tuple[int, ...], hashes: tuple[str, str]):
    return building.application(f"VGG{depth}", f"vgg{depth}",
                                functools.partial(VGG, convs_per_block, weights_hashes=hashes),
                                f"Instantiates the VGG{depth} model.", top="the 3 fully-connected layers")


# Keras's md5 sums of its ImageNet files, with the top and without it
VGG16 = _vgg(16, (2, 2, 3, 3, 3), ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"))
VGG19 = _vgg(19, (2, 2, 4, 4, 4), ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"))
preprocess_input = imagenet_utils.preprocess_input_for("caffe")
decode_predictions = imagenet_utils.decode_predictions
