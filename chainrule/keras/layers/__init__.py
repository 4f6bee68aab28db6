"""Keras layers: ``from chainrule.keras.layers import Dense, Conv2D, ...``, and ``Input`` (Keras exports it here too).

>>> import numpy as np
>>> from chainrule import layers
>>> layers.Dense(2)(np.ones((1, 3), "float32")).shape
(1, 2)
"""
from chainrule.keras.layers.activations import ELU, LeakyReLU, ReLU, Softmax
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.conv import Conv2D, Convolution2D
from chainrule.keras.layers.core import (Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Rescaling,
                                         Reshape)
from chainrule.keras.layers.merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average,
                                    concatenate, maximum, minimum, multiply, subtract)
from chainrule.keras.layers.norm import BatchNormalization
from chainrule.keras.layers.normalization import Normalization
from chainrule.keras.layers.pool import (AveragePooling2D, AvgPool2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                   GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                                   GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)

__all__ = ["Input", "Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "InputLayer", "Lambda",
           "Rescaling", "Conv2D", "Convolution2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
           "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "BatchNormalization",
           "ReLU", "LeakyReLU", "ELU", "Softmax", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
           "Normalization"]
