"""``keras.applications.vgg16``: VGG16 (see :mod:`.vgg`); it expects ``preprocess_input`` ("caffe" mode).

>>> VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
14714688
"""
from chainrule.keras.applications.vgg import VGG16, decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
