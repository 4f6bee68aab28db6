"""``tf.Module`` and ``tf.name_scope``: a named container whose Variables and submodules are found by looking at its
attributes, as TensorFlow's ``tensorflow/python/module/module.py`` does.

A module's ``variables`` are those held by its attributes (taken in attribute-name order, looking inside lists,
tuples and dicts), then those of its submodules, breadth first, each once. A Keras layer held by a module counts as a
submodule (Keras layers are ``tf.Module``s in TensorFlow): its weights are the module's too.

``name_scope`` gives the names TensorFlow would (``outer/inner/``); chainrule keeps no graph of named ops, and a
Variable made inside keeps the name it is given.

>>> import chainrule as tf
>>> class Dense(tf.Module):
...     def __init__(self, in_features, out_features, name=None):
...         super().__init__(name=name)
...         self.w = tf.Variable(tf.ones([in_features, out_features]), name="w")
...         self.b = tf.Variable(tf.zeros([out_features]), name="b")
...     def __call__(self, x):
...         return tf.matmul(x, self.w) + self.b
>>> class Sequential(tf.Module):
...     def __init__(self, name=None):
...         super().__init__(name=name)
...         self.dense_1 = Dense(3, 2)
...         self.dense_2 = Dense(2, 1)
>>> model = Sequential()
>>> model.name, [v.name for v in model.trainable_variables], len(model.submodules)
('sequential', ['b', 'w', 'b', 'w'], 2)
"""
from __future__ import annotations

import functools
import re
import threading
from typing import Any, Callable, Iterator

from chainrule.engine.tensor import Variable
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.tracking import deferred_restores, restore_deferred
from chainrule.utils import tree
from chainrule.utils.naming import to_snake_case

_VALID_IDENTIFIER = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")


class _Scopes(threading.local):
    current = ""  # the name scope entered last, "" at the root


_scopes = _Scopes()


class name_scope:  # noqa: N801  (TensorFlow's name)
    """``with tf.name_scope("block"):`` enters the scope ``<outer>block/`` and gives its name; a name ending in
    ``/`` is taken as a whole scope, and ``""`` returns to the root (TensorFlow 2's ``name_scope``)."""

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise ValueError("name for name_scope must be a string.")
        self._name = name
        self._entered: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    def __enter__(self) -> str:
        outer = _scopes.current
        if not self._name:
            scope = ""
        elif self._name.endswith("/"):
            scope = self._name
        else:
            scope = f"{outer}{self._name}/"
        self._entered.append(outer)
        _scopes.current = scope
        return scope

    def __exit__(self, *exc) -> None:
        _scopes.current = self._entered.pop()


def _is_variable(obj) -> bool:
    return isinstance(obj, Variable)


def _is_trainable_variable(obj) -> bool:
    return isinstance(obj, Variable) and getattr(obj, "trainable", False)


def _is_module(obj) -> bool:
    return isinstance(obj, (Module, Layer))


class Module:
    """A named container of Variables, other modules and the functions that use them (``tf.Module``)."""

    _TF_MODULE_IGNORED_PROPERTIES = frozenset(("_name", "_name_scope"))

    def __init__(self, name: str | None = None):
        if name is None:
            name = to_snake_case(type(self).__name__)
        elif not valid_identifier(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                             f"(e.g. a valid class name).")
        self._name = name
        with name_scope(name) as scope:  # the scope it is made in, fixed now
            self._name_scope = name_scope(scope)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if deferred_restores:  # a checkpoint restored before this attribute was set (restore-on-create)
            restore_deferred(self, name, value)

    @property
    def name(self) -> str:
        """The name given to the constructor (or the class's name in snake case, also when a subclass's
        ``__init__`` did not call ``super().__init__()``, as TensorFlow's guides' modules often do not)."""
        return getattr(self, "_name", None) or to_snake_case(type(self).__name__)

    @property
    def name_scope(self) -> name_scope:
        """This module's ``tf.name_scope`` (its name under the scope it was made in)."""
        return self._name_scope

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every Variable of this module (sorted by attribute name), then its submodules', breadth first."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        """The trainable ones among :attr:`variables`."""
        return tuple(self._flatten(predicate=_is_trainable_variable))

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        """The others among :attr:`variables`."""
        return tuple(self._flatten(predicate=lambda obj: _is_variable(obj) and not obj.trainable))

    @property
    def submodules(self) -> tuple[Any, ...]:
        """Every module (and Keras layer) found in this one's attributes, theirs, and so on, breadth first."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(self, recursive: bool = True, predicate: Callable[[Any], bool] | None = None,
                 attribute_traversal_key: Callable | None = None, with_path: bool = False) -> Iterator:
        """The values held by the attributes (in name order, containers opened), then by the submodules',
        those that ``predicate`` accepts; with ``with_path``, ``(path, value)`` pairs, not deduplicated."""
        return _flatten_module(self, recursive, predicate or (lambda _: True), attribute_traversal_key, with_path)

    @classmethod
    def with_name_scope(cls, method: Callable) -> Callable:
        """Decorate a method so that it runs inside the module's name scope."""
        @functools.wraps(method)
        def method_with_name_scope(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return method_with_name_scope

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object named {self.name!r}>"


def _attributes(obj, attribute_traversal_key) -> list[tuple[str, Any]]:
    """A module's attributes in name order; a Keras layer's weights and sublayers (what its tracker holds)."""
    if isinstance(obj, Layer):
        return [("weights", obj.weights), ("layers", obj._flatten_layers(include_self=False, recursive=False))]
    ignored = getattr(obj, "_TF_MODULE_IGNORED_PROPERTIES", frozenset())
    held = vars(obj)
    return [(key, held[key]) for key in sorted(held, key=attribute_traversal_key) if key not in ignored]


def _flatten_module(module, recursive: bool, predicate, attribute_traversal_key, with_path: bool,
                    module_path: tuple = (), seen: set | None = None) -> Iterator:
    seen = {id(module)} if seen is None else seen
    submodules = []
    for key, value in _attributes(module, attribute_traversal_key):
        try:
            leaves = tree.flatten_with_path(value)
        except Exception as cause:
            raise ValueError(f"Error processing property {key!r} of {value!r}") from cause
        for leaf_path, leaf in leaves:
            path = module_path + (key,) + leaf_path
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (path, leaf) if with_path else leaf
            if recursive and _is_module(leaf):  # the direct attributes first, then each submodule's
                submodules.append((path, leaf))
    for path, submodule in submodules:
        yield from _flatten_module(submodule, recursive, predicate, attribute_traversal_key, with_path, path, seen)


def valid_identifier(name: str) -> bool:
    return bool(_VALID_IDENTIFIER.match(name))


__all__ = ["Module", "name_scope"]
