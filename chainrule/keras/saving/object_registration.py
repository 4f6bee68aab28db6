"""Your own classes and functions, known to deserialization by name (Keras 3's ``keras.saving`` registry).

``@register_keras_serializable(package, name)`` registers a layer, loss, metric, function, ... under
``"package>name"`` (``name`` defaults to the class's or function's own); configs then carry that key as
``registered_name``, so ``load_model`` rebuilds the object without ``custom_objects=``. ``custom_object_scope``
makes more names known for the length of a ``with`` block (it replaces the scope around it, as Keras's does), and
``get_custom_objects()`` is the live dict of registered objects.

>>> from chainrule import keras
>>> @register_keras_serializable(package="my_package")
... class MyDense(keras.layers.Dense):
...     pass
>>> get_registered_name(MyDense), get_registered_object("my_package>MyDense") is MyDense
('my_package>MyDense', True)
>>> with custom_object_scope({"MyDense": MyDense}):
...     get_registered_object("MyDense") is MyDense
True
"""
from __future__ import annotations

import inspect
import threading
from typing import Any, Callable

GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}  # "package>name" -> the object
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}  # the object -> "package>name"


class _Scope(threading.local):
    objects: dict | None = None  # the innermost custom_object_scope's dict, on this thread


_scope = _Scope()


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):``: deserialization inside the block knows these names."""

    def __init__(self, custom_objects: dict | None):
        self.custom_objects = dict(custom_objects or {})
        self.backup: dict | None = None

    def __enter__(self) -> "CustomObjectScope":
        self.backup = _scope.objects
        _scope.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *exc) -> None:
        _scope.objects = self.backup


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """The live dict of registered objects (``get_custom_objects()["MyLayer"] = MyLayer`` registers one too)."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Register the decorated class or function under ``"package>name"`` (a class needs ``get_config``)."""
    def decorator(arg):
        registered_name = f"{package}>{name if name is not None else arg.__name__}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg
    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under, else its own name."""
    try:
        return GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # not registered, or unhashable
        return obj.__name__


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """The object known as ``name``: in the current custom_object_scope, the registry, ``custom_objects``, then
    ``module_objects`` (None when none knows it)."""
    for known in (_scope.objects, GLOBAL_CUSTOM_OBJECTS, custom_objects, module_objects):
        if known and name in known:
            return known[name]
    return None


def lookup_class(config: dict, custom_objects: dict | None = None, known: dict | None = None):
    """The class or function a serialized ``{"class_name", "registered_name"?, "config"}`` names: by its registered
    name, then its class name, in the scope, the registry and ``custom_objects``; then among the ``known`` built-in
    ones; then a registered object whose key ends in ``>class_name`` when only one does (files that carry no
    registered name). None when nothing knows it."""
    class_name = config.get("class_name")
    for key in dict.fromkeys((config.get("registered_name"), class_name)):
        if isinstance(key, str):
            found = get_registered_object(key, custom_objects)
            if found is not None:
                return found
    if known and class_name in known:
        return known[class_name]
    suffix = f">{class_name}"
    candidates = [obj for key, obj in {**GLOBAL_CUSTOM_OBJECTS, **(_scope.objects or {})}.items()
                  if key.endswith(suffix)]
    return candidates[0] if len(candidates) == 1 else None


def registered_name_entry(obj) -> dict:
    """``{"registered_name": ...}`` for a registered object or an instance of a registered class, else ``{}``: what
    a config adds so that deserialization finds it."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    name = GLOBAL_CUSTOM_NAMES.get(target)
    return {} if name is None else {"registered_name": name}


__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable"]
