"""The object graph a training checkpoint saves: what an object depends on, by the name of the attribute that holds
it (TensorFlow's ``Trackable`` dependencies), so that a checkpoint matches its values to a new program's objects by
those names, whatever order the objects were made in.

What counts (a *trackable*): a Variable (a leaf holding a value), a Keras layer or model, an optimizer, a
``tf.Module``, a ``tf.train.Checkpoint``, and lists, tuples and dicts of them. A layer's dependencies are its
attributes (``self.dense = Dense(4)`` is ``dense``; Dense's ``kernel`` and ``bias``), then the layers of a stack or
graph that no attribute holds (``layer-0``, ``layer-1``, ... in the model's order), then its own weights that no
attribute holds (by the weight's name), and a compiled model's ``optimizer``; a module's and a checkpoint's are
their attributes; an optimizer's is its ``iterations`` (its slots are saved with the variables they belong to); a
list's items are ``0``, ``1``, ...; a dict's are its keys.

>>> import chainrule as tf
>>> layer = tf.keras.layers.Dense(2)
>>> layer.build((None, 3))
>>> [name for name, _ in children(layer)]
['kernel', 'bias']
"""
from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from chainrule.compat.tf.module import Module
from chainrule.engine.tensor import Variable
from chainrule.keras.layers.base import Layer
from chainrule.keras.optimizers import Optimizer

# a layer's attributes that hold what the framework knows about it, never parts of it (its tracker's stores, its
# graph's nodes and symbolic tensors)
_LAYER_INTERNALS = frozenset({"_inbound_nodes", "_graph", "_layer_outputs", "_nested_inputs", "_nested_outputs",
                              "inputs", "outputs", "_output"})


def is_trackable(value: Any) -> bool:
    """Whether a checkpoint can hold ``value`` (see the module's docstring); a container must hold a trackable."""
    if isinstance(value, (Variable, Layer, Optimizer, Module)) or getattr(value, "_is_checkpoint", False):
        return True
    if isinstance(value, dict):
        return any(is_trackable(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_trackable(item) for item in value)
    return False


def children(obj: Any) -> list[tuple[str, Any]]:
    """The named dependencies of ``obj``, in a fixed order (the first name given to an object wins)."""
    if isinstance(obj, Variable):
        return []
    if isinstance(obj, dict):
        return [(str(key), value) for key, value in obj.items() if is_trackable(value)]
    if isinstance(obj, (list, tuple)):
        return [(str(i), value) for i, value in enumerate(obj) if is_trackable(value)]
    if getattr(obj, "_is_checkpoint", False):
        return obj._checkpoint_children()
    if isinstance(obj, Optimizer):
        return [("iterations", obj.iterations)]
    skip = frozenset()
    if isinstance(obj, Layer):  # a compiled model's optimizer is its dependency too (TensorFlow's Keras tracks it)
        skip = (obj._untracked_attributes | _LAYER_INTERNALS) - {"optimizer"}
    elif isinstance(obj, Module):
        skip = obj._TF_MODULE_IGNORED_PROPERTIES
    found = [(name, value) for name, value in vars(obj).items() if name not in skip and is_trackable(value)]
    if isinstance(obj, Layer):
        held = {id(value) for _, value in found}
        for i, layer in enumerate(obj._sublayers()):
            if id(layer) not in held:
                found.append((f"layer-{i}", layer))
        names = {name for name, _ in found}
        for var in list(obj._trainable_variables) + list(obj._non_trainable_variables):
            if id(var) not in held:
                name = base = (var.name or "weight").rsplit("/", 1)[-1]
                count = 1
                while name in names:
                    count += 1
                    name = f"{base}_{count}"
                names.add(name)
                found.append((name, var))
    return found


def walk(root: Any, extra: list[tuple[str, Any]] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every trackable reachable from ``root`` once, breadth first, with the path of names that reaches it first;
    ``extra`` are more dependencies of the root (a checkpoint's objects attached to its ``root``)."""
    seen = {id(root)}
    queue = deque([((), root)])
    while queue:
        path, obj = queue.popleft()
        yield path, obj
        for name, child in children(obj) + (list(extra) if not path else []):
            if id(child) not in seen:
                seen.add(id(child))
                queue.append((path + (name,), child))


def escape(name: str) -> str:
    """A dependency's name as one segment of a checkpoint key (TensorFlow's escaping of ``/`` and ``.``)."""
    return name.replace(".", "..").replace("/", "./")


def variable_key(path: tuple[str, ...]) -> str:
    """The key of a variable's value in the checkpoint, as TensorFlow writes it."""
    return "/".join([escape(name) for name in path] + [".ATTRIBUTES", "VARIABLE_VALUE"])


def slot_key(variable_path: tuple[str, ...], optimizer_path: tuple[str, ...], slot: str) -> str:
    """The key of an optimizer's slot for a variable, as TensorFlow writes it."""
    return "/".join([escape(name) for name in variable_path] + [".OPTIMIZER_SLOT"]
                    + [escape(name) for name in optimizer_path] + [escape(slot), ".ATTRIBUTES", "VARIABLE_VALUE"])


__all__ = ["children", "escape", "is_trackable", "slot_key", "variable_key", "walk"]
