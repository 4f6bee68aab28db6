"""``keras.applications.vgg19``: VGG19 (see :mod:`.vgg`); it expects ``preprocess_input`` ("caffe" mode).

>>> VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
20024384
"""
from __future__ import annotations

from chainrule.keras.applications.vgg import ARGUMENTS_DOC, VGG, decode_predictions, preprocess_input

WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")  # with, without the top


def VGG19(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
          classes: int = 1000, classifier_activation="softmax", name: str = "vgg19"):
    """Instantiates the VGG19 model (143,667,240 parameters with the top)."""
    return VGG((2, 2, 4, 4, 4), name, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, WEIGHTS_HASHES)


VGG19.__doc__ += ARGUMENTS_DOC
__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
