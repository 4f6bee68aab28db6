"""Keras 3's ``serialize_keras_object`` / ``deserialize_keras_object``: any Keras object as a JSON-able dict and back.

An object with ``get_config`` becomes ``{"module", "class_name", "config", "registered_name"}`` (plus a layer's
``build_config``), its config serialized recursively, so a layer whose config holds other layers or regularizers
serializes whole. Functions become ``{"class_name": "function", "config": name}``; NumPy arrays and Tensors
``__numpy__``/``__tensor__`` entries; lists, tuples and dicts keep their shape. Deserialization finds a class by its
registered name, the ``custom_objects`` and ``custom_object_scope`` names, then the public Keras module the config
names (``keras.layers``, ``keras.regularizers``, ...). Lambdas are refused: rebuilding one would run code from the
file.

>>> from chainrule import keras
>>> config = serialize_keras_object(keras.regularizers.L1(0.005))
>>> config
{'module': 'keras.regularizers', 'class_name': 'L1', 'config': {'l1': 0.005}, 'registered_name': None}
>>> deserialize_keras_object(config).get_config()
{'l1': 0.005}
"""
from __future__ import annotations

import importlib
import types
from typing import Any

import numpy as np

from chainrule.keras.saving.object_registration import CustomObjectScope, get_registered_name, lookup_class

PLAIN_TYPES = (str, int, float, bool)

# the public Keras modules a config may name, and the chainrule modules that hold their classes and functions
PUBLIC_MODULES = {
    "keras.layers": "chainrule.keras.layers",
    "keras.models": "chainrule.keras.models",
    "keras": "chainrule.keras",
    "keras.regularizers": "chainrule.keras.regularizers",
    "keras.initializers": "chainrule.keras.initializers",
    "keras.optimizers": "chainrule.keras.optimizers",
    "keras.optimizers.schedules": "chainrule.keras.optimizers.schedules",
    "keras.losses": "chainrule.keras.losses",
    "keras.metrics": "chainrule.keras.metrics",
    "keras.activations": "chainrule.keras.activations",
}


def serialize_keras_object(obj: Any) -> Any:
    """``obj`` as Keras 3 writes it into configs: plain values as they are, Keras objects as
    ``{"module", "class_name", "config", "registered_name"}`` with their configs serialized recursively."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return items if isinstance(obj, list) or type(obj).__name__ == "TensorShape" else tuple(items)
    if isinstance(obj, dict):
        return serialize_dict(obj)
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if type(obj).__name__ in ("Tensor", "Variable") and hasattr(obj, "numpy"):
        value = np.asarray(obj.numpy())
        return {"class_name": "__tensor__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        raise TypeError("serialize_keras_object: cannot serialize a lambda (rebuilding it would run code from the "
                        "config); use a named function, registered with keras.saving.register_keras_serializable")
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        name = get_registered_name(obj)
        return {"module": _public_module(obj, obj.__module__), "class_name": "function", "config": name,
                "registered_name": name}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be serializable, a class "
                        f"must implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj!r} should return a dict. It returned: {config!r}")
    registered = get_registered_name(type(obj))
    serialized = {"module": _public_module(type(obj), type(obj).__module__), "class_name": type(obj).__name__,
                  "config": serialize_dict(config),
                  "registered_name": registered if registered != type(obj).__name__ else None}
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        serialized["build_config"] = serialize_dict(build_config)
    return serialized


def serialize_dict(obj: dict) -> dict:
    return {key: serialize_keras_object(value) for key, value in obj.items()}


def deserialize_keras_object(config: Any, custom_objects: dict | None = None, safe_mode: bool = True,
                             **kwargs) -> Any:
    """The object ``serialize_keras_object`` described (plain values, lists and dicts of them come back as they
    are, Keras objects rebuilt with ``from_config`` and, for layers, built as their ``build_config`` says)."""
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {sorted(kwargs)}")
    if config is None or isinstance(config, PLAIN_TYPES):
        if isinstance(config, str) and (custom_objects or module_objects):
            found = (custom_objects or {}).get(config) or (module_objects or {}).get(config)
            return config if found is None else found
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"deserialize_keras_object: could not parse config {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode) for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"] if config["config"] is not None else {}
    special = _SPECIAL.get(class_name)
    if special is not None:
        return special(inner)
    if class_name == "__lambda__":
        raise ValueError("Requested the deserialization of a Python lambda: chainrule never runs code from a config "
                         "(define the function in your program and pass it in custom_objects)")
    known = _known(config.get("module"), module_objects)
    target = lookup_class(config, custom_objects, known)
    if class_name == "function":
        target = target or lookup_class({"class_name": inner, "registered_name": config.get("registered_name")},
                                        custom_objects, known)
        if target is None:
            raise ValueError(f"Could not locate function '{inner}'. Make sure custom functions are decorated with "
                             f"`@keras.saving.register_keras_serializable()` or passed in custom_objects")
        return target
    if target is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
                        f"`@keras.saving.register_keras_serializable()` or passed in custom_objects. "
                        f"Full object config: {config}")
    if isinstance(target, types.FunctionType) or not hasattr(target, "from_config"):
        if isinstance(target, types.FunctionType):
            return target
        raise TypeError(f"Unable to reconstruct an instance of '{class_name}' because the class is missing a "
                        f"`from_config()` method. Full object config: {config}")
    with CustomObjectScope(custom_objects or {}):
        try:
            instance = target.from_config(inner)
        except TypeError as error:
            raise TypeError(f"{target} could not be deserialized properly. Please ensure that components that are "
                            f"Python object instances (layers, models, etc.) returned by `get_config()` are "
                            f"explicitly deserialized in the model's `from_config()` method.\n\nconfig={config}.\n\n"
                            f"Exception encountered: {error}") from error
        build_config = config.get("build_config")
        if build_config and hasattr(instance, "build_from_config") and not instance.built:
            instance.build_from_config(build_config)
            instance.built = True
    return instance


_SPECIAL = {
    "__numpy__": lambda c: np.array(c["value"], dtype=c["dtype"]),
    "__tensor__": lambda c: _constant(c["value"], c["dtype"]),
    "__bytes__": lambda c: c["value"].encode("utf-8"),
    "__ellipsis__": lambda c: Ellipsis,
    "__slice__": lambda c: slice(c["start"], c["stop"], c["step"]),
}


def _constant(value, dtype):
    from chainrule.engine.tensor import Tensor

    return Tensor(np.array(value, dtype=dtype))


def _public_module(target: Any, fallback: str) -> str:
    """The public Keras module that exports ``target`` under its own name (``keras.layers``), else ``fallback``."""
    name = getattr(target, "__name__", None)
    for public, private in PUBLIC_MODULES.items():
        if public == "keras" or not fallback.startswith(private):
            continue
        if getattr(importlib.import_module(private), name, None) is target:
            return public
    return fallback


def _known(module: str | None, module_objects: dict | None) -> dict:
    """The classes and functions by name that a config naming ``module`` may mean: that public module's, or every
    public module's when the config names none (or an unknown one)."""
    known = dict(module_objects or {})
    chosen = [PUBLIC_MODULES[module]] if module in PUBLIC_MODULES else list(PUBLIC_MODULES.values())
    if module in PUBLIC_MODULES and module in ("keras", "keras.models"):
        chosen.append("chainrule.keras.layers")
    for private in reversed(chosen):
        namespace = vars(importlib.import_module(private))
        known.update({key: value for key, value in namespace.items() if not key.startswith("_")
                      and (isinstance(value, type) or callable(value))})
    from chainrule.keras.models.serialization import _known_classes

    known.update({key: value for key, value in _known_classes().items() if key not in known})
    return known


__all__ = ["deserialize_keras_object", "serialize_keras_object"]
