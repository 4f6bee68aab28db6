"""``keras.layers.experimental``: where TensorFlow 2.3 to 2.8 kept layers that are now in ``keras.layers``
(``experimental.preprocessing.Rescaling``, ``experimental.EinsumDense``), so older tutorials run unchanged.

>>> from chainrule.keras import layers
>>> layers.experimental.preprocessing.Rescaling is layers.Rescaling
True
"""
from chainrule.keras.layers.experimental import preprocessing
from chainrule.keras.layers.experimental.random_fourier_features import RandomFourierFeatures

MOVED = ("EinsumDense", "SyncBatchNormalization")


def __getattr__(name: str):
    if name in MOVED:
        from chainrule.keras import layers

        return getattr(layers, name)
    raise AttributeError(f"module 'keras.layers.experimental' has no attribute '{name}'")


__all__ = ["preprocessing", "RandomFourierFeatures", *MOVED]
