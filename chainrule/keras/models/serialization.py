"""Layers and models as Keras's ``{"class_name": ..., "config": ...}`` dicts and JSON, and model files.

>>> from chainrule.keras import layers
>>> config = serialize_layer(layers.Dense(3, name="d"))
>>> config["class_name"], deserialize_layer(config).units
('Dense', 3)
"""
from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING

from chainrule.keras.layers.base import Layer
from chainrule.keras.saving.object_registration import lookup_class, registered_name_entry

if TYPE_CHECKING:
    from chainrule.keras.models.model import Model


def serialize_layer(layer: Layer) -> dict:
    """A layer (or model) as Keras writes it: ``{"class_name": ..., "config": layer.get_config()}``, with the
    ``registered_name`` of a class registered by ``keras.saving.register_keras_serializable``. A user's layer may
    return other layers or regularizers from ``get_config`` (Keras's guide does): they are serialized within."""
    config = layer.get_config()
    if not type(layer).__module__.startswith("chainrule."):
        from chainrule.keras.saving.serialization_lib import serialize_dict

        config = serialize_dict(config)
    serialized = {"class_name": type(layer).__name__, **registered_name_entry(layer), "config": config}
    if _customizes_build_config(type(layer)):  # Keras 3 saves it for every layer; here for those that need it
        build_config = layer.get_build_config()
        if build_config is not None:
            from chainrule.keras.saving.serialization_lib import serialize_dict

            serialized["build_config"] = serialize_dict(build_config)
    return serialized


def _customizes_build_config(cls: type) -> bool:
    """Whether a layer class has its own ``get_build_config`` or ``build_from_config`` (Keras's saving hooks)."""
    return cls.get_build_config is not Layer.get_build_config or cls.build_from_config is not Layer.build_from_config


def _known_classes() -> dict[str, type]:
    from chainrule.keras import layers

    known = {name: obj for name, obj in vars(layers).items() if isinstance(obj, type) and issubclass(obj, Layer)}
    from chainrule.keras.models.functional import Functional
    from chainrule.keras.models.sequential import Sequential

    from chainrule.keras.layers.preprocessing.feature_space import FeatureSpace  # keras.utils's, saved on its own

    known.update({"Sequential": Sequential, "Functional": Functional, "Model": Functional, "FeatureSpace": FeatureSpace})
    known.update(_op_layer_classes())
    return known


def _op_layer_classes() -> dict[str, type]:
    """The layers a functional model makes for ops on its symbolic tensors (keras.ops, and the tf functions'
    TFOpLambda when chainrule's TensorFlow names are loaded): saved models name them."""
    import sys

    from chainrule.keras.ops.symbolic import OpLayer

    classes = {"OpLayer": OpLayer}
    tf_symbolic = sys.modules.get("chainrule.compat.tf.symbolic")  # (loaded with chainrule's top level)
    if tf_symbolic is not None:
        classes["TFOpLambda"] = tf_symbolic.TFOpLambda
    return classes


def deserialize_layer(config: dict, custom_objects: dict | None = None) -> Layer:
    """Rebuild a layer (or model) from ``serialize_layer``'s dict; your own classes are found when registered, in a
    ``custom_object_scope``, or named in ``custom_objects``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = lookup_class(config, custom_objects, _known_classes())
    if cls is None:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a `keras.utils.custom_object_scope` "
                         f"and that this object is included in the scope, or pass it as custom_objects={{'{name}': "
                         f"{name}}}")
    inner = dict(config.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        layer = cls.from_config(inner, custom_objects=custom_objects)
    else:
        layer = cls.from_config(inner)
    if config.get("build_config") and not layer.built:  # built as it was saved, before its model is (Keras 3)
        layer.build_from_config(config["build_config"])
        layer.built = True
    return layer


def model_from_config(config: dict, custom_objects: dict | None = None) -> "Model":
    """A model from ``{"class_name": "Sequential" | "Functional", "config": ...}`` (the ``get_config`` wrapped)."""
    return deserialize_layer(config, custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> "Model":
    """A model from ``model.to_json()`` (architecture only: the weights are new)."""
    return model_from_config(json.loads(json_string), custom_objects)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, **kwargs) -> "Model":
    """Read a model saved with ``model.save`` (see :mod:`chainrule.keras.saving`)."""
    return saving_function("load_model")(filepath, custom_objects=custom_objects, compile=compile, **kwargs)


def saving_function(name: str):
    """The function ``name`` of :mod:`chainrule.keras.saving` (imported on use: saving imports the models)."""
    try:
        from chainrule.keras import saving as io
    except ImportError as e:  # pragma: no cover - io ships with the package
        raise NotImplementedError(f"model files need chainrule.keras.saving, which failed to import: {e}") from e
    fn = getattr(io, name, None)
    if fn is None:
        raise NotImplementedError(f"chainrule.keras.saving has no {name}() yet: model files are not available")
    return fn
