"""What the configurable training parts share (initializers, regularizers, losses, metrics, optimizers, schedules):
a config round trip, the ``{"class_name", "config"}`` form Keras writes into model files, and the lookup behind each
module's ``get(identifier)``.

>>> from chainrule.keras import regularizers
>>> spec = serialize(regularizers.L2(0.01))
>>> spec, is_serialized(spec)
({'class_name': 'L2', 'config': {'l2': 0.01}}, True)"""
from __future__ import annotations

from typing import Callable


class Configurable:
    """``get_config()`` gives the constructor's arguments; ``from_config(config)`` calls the constructor with them."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def serialize(obj) -> dict:
    """``{"class_name": ..., "config": ...}`` (and the ``registered_name`` of a class registered with
    ``keras.saving.register_keras_serializable``)."""
    from chainrule.keras.saving.object_registration import registered_name_entry  # (saving imports this module)

    return {"class_name": type(obj).__name__, **registered_name_entry(obj), "config": obj.get_config()}


def is_serialized(value) -> bool:
    """True for the ``{"class_name", "config"}`` form of one object (not a mapping of names to objects)."""
    return isinstance(value, dict) and "class_name" in value and \
        set(value) <= {"class_name", "config", "module", "registered_name"}


def resolve(config: dict, known: dict, kind: str, custom_objects: dict | None = None) -> tuple[type, dict]:
    """The class a serialized ``config`` names (a registered or scoped one, one of ``custom_objects``, then one of
    ``known``, looked up as given, then lowercased) and its constructor config."""
    from chainrule.keras.saving.object_registration import lookup_class

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a serialized {kind} is a dict with 'class_name' and 'config', got {config!r}")
    known = {**known, **(custom_objects or {})}
    name = str(config["class_name"])
    cls = lookup_class(config, custom_objects, known) or known.get(name.lower())
    if cls is None:
        raise ValueError(f"unknown {kind} {name!r}; known: {sorted(known)} (pass your own class in custom_objects)")
    return cls, dict(config.get("config") or {})


def lookup(identifier, kind: str, base: type, names: dict[str, Callable], from_dict: Callable[[dict], object],
           on_callable: Callable | None = None):
    """The shared ``get``: None and instances of ``base`` as they are; a dict through ``from_dict``; a name through
    ``names`` (as given, then lowercased); a subclass of ``base`` instantiated; another callable through
    ``on_callable`` (refused without one)."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, dict):
        return from_dict(identifier)
    if isinstance(identifier, str):
        from chainrule.keras.saving.object_registration import get_registered_object

        found = get_registered_object(identifier)  # registered ("package>name") or in a custom_object_scope
        if found is not None:
            return lookup(found, kind, base, names, from_dict, on_callable)
        make = names.get(identifier) or names.get(identifier.lower())
        if make is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}; known names: {sorted(names)}")
        return make()
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier) and on_callable is not None:
        return on_callable(identifier)
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
