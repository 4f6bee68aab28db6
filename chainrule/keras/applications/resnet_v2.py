"""``keras.applications.resnet_v2``: ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep
Residual Networks", ECCV 2016): pre-activation blocks on :mod:`.resnet`'s skeleton, named as Keras 3 names them.

They expect ``preprocess_input`` ("tf" mode: pixels scaled to [-1, 1]).

>>> import numpy as np
>>> preprocess_input(np.array([0.0, 127.5, 255.0]))
array([-1.,  0.,  1.])
"""
from chainrule.keras.applications import imagenet_utils
from chainrule.keras.applications.resnet import resnet_constructor

ResNet50V2 = resnet_constructor("resnet50v2", "ResNet50V2", "25,613,800")
ResNet101V2 = resnet_constructor("resnet101v2", "ResNet101V2", "44,675,560")
ResNet152V2 = resnet_constructor("resnet152v2", "ResNet152V2", "60,380,648")
preprocess_input = imagenet_utils.preprocess_input_for("tf")
decode_predictions = imagenet_utils.decode_predictions
