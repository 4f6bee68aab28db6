"""``keras.applications``: the ImageNet models of Keras 3, built layer for layer and name for name as Keras builds
them, so that Keras's published weight files load one to one (``weights="imagenet"`` downloads them through
``keras.utils.get_file``; reading them needs h5py: ``pip install 'chainrule[applications]'``).

=======================  ==================================================================================
``resnet`` (``resnet50``) ResNet50, ResNet101, ResNet152 (preprocessing: "caffe")
``imagenet_utils``       preprocess_input (caffe/tf/torch), decode_predictions, obtain_input_shape, correct_pad
=======================  ==================================================================================

Each model's module has its ``preprocess_input`` and ``decode_predictions``.

>>> from chainrule import keras
>>> base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
>>> base.output_shape
(None, 1, 1, 2048)
"""
from chainrule.keras.applications import imagenet_utils, resnet, resnet50
from chainrule.keras.applications.resnet import ResNet50, ResNet101, ResNet152

__all__ = ["ResNet50", "ResNet101", "ResNet152", "imagenet_utils", "resnet", "resnet50"]
