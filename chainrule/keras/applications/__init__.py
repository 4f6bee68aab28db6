"""``keras.applications``: the ImageNet models of Keras 3, built layer for layer and name for name as Keras builds
them, so that Keras's published weight files load one to one (``weights="imagenet"`` downloads them through
``keras.utils.get_file``; reading them needs h5py: ``pip install 'chainrule[applications]'``).

==========================  ==============================================================================
``resnet`` (``resnet50``)   ResNet50, ResNet101, ResNet152 (preprocessing: "caffe")
``resnet_v2``               ResNet50V2, ResNet101V2, ResNet152V2 (preprocessing: "tf")
``mobilenet``               MobileNet (``alpha``, ``depth_multiplier``; preprocessing: "tf")
``mobilenet_v2``            MobileNetV2 (``alpha``; preprocessing: "tf")
``vgg16``, ``vgg19``        VGG16, VGG19 (preprocessing: "caffe")
``densenet``                DenseNet121, DenseNet169, DenseNet201 (preprocessing: "torch")
``xception``                Xception (299x299 by default; preprocessing: "tf")
``inception_v3``            InceptionV3 (299x299 by default; preprocessing: "tf")
``efficientnet``            EfficientNetB0 ... B7 (they rescale and normalize 0..255 pixels themselves)
``imagenet_utils``          preprocess_input (caffe/tf/torch), decode_predictions, obtain_input_shape
==========================  ==============================================================================

Each model's module has its ``preprocess_input`` and ``decode_predictions``.

>>> from chainrule import keras
>>> base = keras.applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
>>> base.output_shape
(None, 1, 1, 1280)
"""
from chainrule.keras.applications import (densenet, efficientnet, imagenet_utils, inception_v3, mobilenet, mobilenet_v2,
                                          resnet, resnet50, resnet_v2, vgg16, vgg19, xception)
from chainrule.keras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from chainrule.keras.applications.efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3,
                                                       EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7)
from chainrule.keras.applications.inception_v3 import InceptionV3
from chainrule.keras.applications.mobilenet import MobileNet
from chainrule.keras.applications.mobilenet_v2 import MobileNetV2
from chainrule.keras.applications.resnet import ResNet50, ResNet101, ResNet152
from chainrule.keras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from chainrule.keras.applications.vgg16 import VGG16
from chainrule.keras.applications.vgg19 import VGG19
from chainrule.keras.applications.xception import Xception

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2",
           "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "InceptionV3",
           "MobileNet", "MobileNetV2", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
           "ResNet152V2", "VGG16", "VGG19", "Xception", "densenet", "efficientnet", "imagenet_utils", "inception_v3",
           "mobilenet", "mobilenet_v2", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19", "xception"]
