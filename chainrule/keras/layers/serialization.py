"""``keras.layers.serialize`` and ``keras.layers.deserialize``: a layer as Keras 3's serialized dict and back.

>>> from chainrule import keras
>>> config = keras.layers.serialize(keras.layers.Dense(3, name="d"))
>>> config["module"], config["class_name"], keras.layers.deserialize(config).units
('keras.layers', 'Dense', 3)
"""
from __future__ import annotations

from typing import Any


def serialize(layer) -> dict:
    """``keras.saving.serialize_keras_object(layer)``: module, class name, config and registered name."""
    from chainrule.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Any:
    """The layer (or model) a ``serialize`` dict describes; your own classes are found when registered, in a
    ``custom_object_scope``, or named in ``custom_objects``."""
    from chainrule.keras.layers.base import Layer
    from chainrule.keras.saving.serialization_lib import deserialize_keras_object

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"keras.layers.deserialize: a layer config is a dict with 'class_name' and 'config', got "
                         f"{config!r}")
    layer = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"keras.layers.deserialize: {config.get('class_name')!r} is not a layer (got "
                         f"{type(layer).__name__})")
    return layer
