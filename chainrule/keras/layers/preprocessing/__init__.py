"""Keras's preprocessing layers for text, categories, ranges and audio: ``TextVectorization``, ``StringLookup``,
``IntegerLookup``, ``Hashing``, ``CategoryEncoding``, ``Discretization``, and for audio ``MelSpectrogram`` and
``STFTSpectrogram`` (``Normalization`` lives in layers/normalization.py, the image augmentations in
layers/augmentation.py). The text and category layers compute in NumPy on string, integer or float arrays, the audio
ones with differentiable ops; all work in a ``tf.data`` pipeline or as the first layers of a model.

>>> from chainrule.keras.layers.preprocessing import StringLookup
>>> StringLookup(vocabulary=["a", "b"])(["b", "c"]).numpy()
array([2, 0])
"""
from chainrule.keras.layers.preprocessing.category_encoding import CategoryEncoding
from chainrule.keras.layers.preprocessing.discretization import Discretization
from chainrule.keras.layers.preprocessing.hashing import Hashing
from chainrule.keras.layers.preprocessing.integer_lookup import IntegerLookup
from chainrule.keras.layers.preprocessing.mel_spectrogram import MelSpectrogram
from chainrule.keras.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from chainrule.keras.layers.preprocessing.string_lookup import StringLookup
from chainrule.keras.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "Hashing", "IntegerLookup", "MelSpectrogram", "STFTSpectrogram",
           "StringLookup", "TextVectorization"]
