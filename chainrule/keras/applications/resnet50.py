"""``keras.applications.resnet50``: ResNet50 and its preprocessing, the names of :mod:`.resnet` Keras also exports
from this module.

>>> from chainrule.keras.applications import resnet
>>> ResNet50 is resnet.ResNet50
True
"""
from chainrule.keras.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
