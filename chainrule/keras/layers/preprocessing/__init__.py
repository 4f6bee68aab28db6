"""Keras's preprocessing layers for text, categories and ranges: ``TextVectorization``, ``StringLookup``,
``IntegerLookup``, ``Hashing``, ``CategoryEncoding`` and ``Discretization`` (``Normalization`` lives in
layers/normalization.py, the image augmentations in layers/augmentation.py). They compute in NumPy on string, integer
or float arrays, in a ``tf.data`` pipeline or as the first layers of a model.

>>> from chainrule.keras.layers.preprocessing import StringLookup
>>> StringLookup(vocabulary=["a", "b"])(["b", "c"]).numpy()
array([2, 0])
"""
from chainrule.keras.layers.preprocessing.category_encoding import CategoryEncoding
from chainrule.keras.layers.preprocessing.discretization import Discretization
from chainrule.keras.layers.preprocessing.hashing import Hashing
from chainrule.keras.layers.preprocessing.integer_lookup import IntegerLookup
from chainrule.keras.layers.preprocessing.string_lookup import StringLookup
from chainrule.keras.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization"]
