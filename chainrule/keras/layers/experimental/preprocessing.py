"""``keras.layers.experimental.preprocessing``: TensorFlow 2.3 to 2.8's home of the preprocessing layers, each the
same class as in ``keras.layers``.

>>> from chainrule.keras.layers.experimental import preprocessing
>>> preprocessing.Resizing(4, 4).name.startswith("resizing")
True
"""
MOVED = ("CategoryEncoding", "CenterCrop", "Discretization", "Hashing", "IntegerLookup", "Normalization",
         "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
         "RandomZoom", "Rescaling", "Resizing", "StringLookup", "TextVectorization")


def __getattr__(name: str):
    if name in MOVED:
        from chainrule.keras import layers

        if hasattr(layers, name):
            return getattr(layers, name)
    raise AttributeError(f"module 'keras.layers.experimental.preprocessing' has no attribute '{name}'")


def __dir__():
    return sorted(MOVED)
