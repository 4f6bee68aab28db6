"""``keras.applications.vgg19``: VGG19 (see :mod:`.vgg`); it expects ``preprocess_input`` ("caffe" mode).

>>> VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
20024384
"""
from chainrule.keras.applications.vgg import VGG19, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
