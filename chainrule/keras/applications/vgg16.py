"""``keras.applications.vgg16``: VGG16 (see :mod:`.vgg`); it expects ``preprocess_input`` ("caffe" mode).

>>> VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
14714688
"""
from __future__ import annotations

from chainrule.keras.applications.vgg import ARGUMENTS_DOC, VGG, decode_predictions, preprocess_input

WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")  # with, without the top


def VGG16(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
          classes: int = 1000, classifier_activation="softmax", name: str = "vgg16"):
    """Instantiates the VGG16 model (138,357,544 parameters with the top)."""
    return VGG((2, 2, 3, 3, 3), name, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, WEIGHTS_HASHES)


VGG16.__doc__ += ARGUMENTS_DOC
__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
