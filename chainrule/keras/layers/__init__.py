"""Keras layers: ``from chainrule.keras.layers import Dense, Conv2D, ...``, and ``Input`` (Keras exports it here too).

>>> import numpy as np
>>> from chainrule import layers
>>> layers.Dense(2)(np.ones((1, 3), "float32")).shape
TensorShape([1, 2])
"""
from chainrule.keras.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from chainrule.keras.layers.adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                                                     AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                                                     AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from chainrule.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from chainrule.keras.layers.augmentation import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.layers.bounding_boxes import MaxNumBoundingBoxes
from chainrule.keras.layers.color_augmentation import (RandomColorDegeneration, RandomColorJitter, RandomGrayscale,
                                                       RandomHue, RandomSaturation)
from chainrule.keras.layers.conv import Conv2D, Convolution2D
from chainrule.keras.layers.conv1d import Conv1D, Convolution1D
from chainrule.keras.layers.conv3d import Conv3D, Convolution3D
from chainrule.keras.layers.conv_transpose import (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
                                                   Convolution1DTranspose, Convolution2DTranspose,
                                                   Convolution3DTranspose)
from chainrule.keras.layers.core import (Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Rescaling,
                                         Reshape)
from chainrule.keras.layers.depthwise import DepthwiseConv2D, SeparableConv2D, SeparableConvolution2D
from chainrule.keras.layers.depthwise1d import DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D
from chainrule.keras.layers.einsum_dense import EinsumDense
from chainrule.keras.layers.filter_augmentation import RandomGaussianBlur, RandomSharpness
from chainrule.keras.layers.geometric_augmentation import RandomElasticTransform, RandomPerspective, RandomShear
from chainrule.keras.layers.grouped_query_attention import GroupQueryAttention
from chainrule.keras.layers import experimental
from chainrule.keras.layers.embedding import Embedding
from chainrule.keras.layers.identity import Identity
from chainrule.keras.layers.image_preprocessing import (CenterCrop, RandomBrightness, RandomContrast, RandomCrop,
                                                        Resizing)
from chainrule.keras.layers.layer_normalization import GroupNormalization, LayerNormalization, UnitNormalization
from chainrule.keras.layers.masking import Masking
from chainrule.keras.layers.mixing import CutMix, MixUp, RandomErasing
from chainrule.keras.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                          average, concatenate, dot, maximum, minimum, multiply, subtract)
from chainrule.keras.layers.norm import BatchNormalization
from chainrule.keras.layers.normalization import Normalization
from chainrule.keras.layers.preprocessing import (CategoryEncoding, Discretization, Hashing, IntegerLookup,
                                                 MelSpectrogram, STFTSpectrogram, StringLookup, TextVectorization)
from chainrule.keras.layers.pipeline import Pipeline
from chainrule.keras.layers.policy_augmentation import AugMix, RandAugment
from chainrule.keras.layers.pool import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                                         GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                                         GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                                         GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D,
                                         AveragePooling3D, AvgPool3D, GlobalAveragePooling3D, GlobalAvgPool3D,
                                         GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D, MaxPooling3D)
from chainrule.keras.layers.regularization import (ActivityRegularization, AlphaDropout, GaussianDropout,
                                                   GaussianNoise, SpatialDropout1D, SpatialDropout2D,
                                                   SpatialDropout3D)
from chainrule.keras.layers.reversible_embedding import ReversibleEmbedding
from chainrule.keras.layers.rms_normalization import RMSNormalization
from chainrule.keras.layers.spectral_normalization import SpectralNormalization
from chainrule.keras.layers.preprocessing.hashed_crossing import HashedCrossing
from chainrule.keras.layers.tone_augmentation import (AutoContrast, ContrastLimitedAdaptiveHistogramEqualization,
                                                      Equalization, RandomInvert, RandomPosterization, Solarization)
from chainrule.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
from chainrule.keras.layers.serialization import deserialize, serialize
from chainrule.keras.layers.rnn import (GRU, LSTM, RNN, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRUCell, LSTMCell,
                                       SimpleRNN, SimpleRNNCell, StackedRNNCells)
from chainrule.keras.layers.reshaping import (Cropping1D, Cropping2D, Cropping3D, Permute, RepeatVector,
                                              UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D,
                                              ZeroPadding3D)

__all__ = ["Input", "Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "InputLayer", "Lambda",
           "Rescaling", "Conv2D", "Convolution2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
           "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "BatchNormalization",
           "ReLU", "LeakyReLU", "ELU", "Softmax", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "Normalization",
           "Conv1D", "Convolution1D", "Conv2DTranspose", "Conv1DTranspose", "Convolution2DTranspose",
           "Convolution1DTranspose", "DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D", "MaxPooling1D",
           "AveragePooling1D", "MaxPool1D", "AvgPool1D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
           "ZeroPadding2D", "Cropping1D", "Cropping2D", "Permute", "RepeatVector", "Identity", "GaussianNoise",
           "GaussianDropout", "SpatialDropout1D", "SpatialDropout2D", "ActivityRegularization", "Dot", "dot",
           "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
           "TextVectorization", "StringLookup", "IntegerLookup", "Hashing", "CategoryEncoding", "Discretization",
           "Embedding", "Masking",
           "TimeDistributed", "Bidirectional", "Wrapper", "serialize", "deserialize",
           "MultiHeadAttention", "Attention", "AdditiveAttention", "EinsumDense", "LayerNormalization",
           "GroupNormalization", "UnitNormalization"]
__all__ += ["RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU"]
__all__ += ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
__all__ += ["Resizing", "CenterCrop", "RandomCrop", "RandomContrast", "RandomBrightness", "experimental"]
__all__ += ["MelSpectrogram", "STFTSpectrogram"]
__all__ += ["PReLU"]
__all__ += ["MixUp", "CutMix", "RandomErasing", "RandAugment", "AugMix", "RandomGrayscale", "RandomHue",
            "RandomSaturation", "RandomColorDegeneration", "RandomColorJitter", "RandomInvert", "Solarization",
            "RandomPosterization", "AutoContrast", "Equalization", "RandomSharpness", "RandomGaussianBlur",
            "RandomShear", "RandomPerspective"]
__all__ += ["AlphaDropout", "SpatialDropout3D", "DepthwiseConv1D", "SeparableConv1D", "SeparableConvolution1D",
            "RMSNormalization", "ReversibleEmbedding", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
            "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D"]
__all__ += ["GroupQueryAttention", "SpectralNormalization", "HashedCrossing", "Pipeline", "MaxNumBoundingBoxes",
            "RandomElasticTransform", "ContrastLimitedAdaptiveHistogramEqualization"]
__all__ += ["Conv3D", "Convolution3D", "Conv3DTranspose", "Convolution3DTranspose", "MaxPooling3D", "MaxPool3D",
            "AveragePooling3D", "AvgPool3D", "GlobalAveragePooling3D", "GlobalAvgPool3D", "GlobalMaxPooling3D",
            "GlobalMaxPool3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D"]
