"""Keras layers: ``from chainrule.layers import Dense, Conv2D, ...`` (also ``chainrule.keras.layers``).

>>> import numpy as np
>>> from chainrule import layers
>>> layers.Dense(2)(np.ones((1, 3), "float32")).shape
(1, 2)
"""
from chainrule.layers.activations import ELU, LeakyReLU, ReLU, Softmax
from chainrule.layers.base import InputSpec, Layer
from chainrule.layers.conv import Conv2D, Convolution2D
from chainrule.layers.core import Activation, Dense, Dropout, Flatten, InputLayer, Lambda, Rescaling, Reshape
from chainrule.layers.merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average,
                                    concatenate, maximum, minimum, multiply, subtract)
from chainrule.layers.norm import BatchNormalization
from chainrule.layers.pool import (AveragePooling2D, AvgPool2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                   GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                                   GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "InputLayer", "Lambda",
           "Rescaling", "Conv2D", "Convolution2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
           "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "BatchNormalization",
           "ReLU", "LeakyReLU", "ELU", "Softmax", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]
