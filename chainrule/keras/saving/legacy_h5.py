"""Keras's legacy HDF5 weights (``.h5``/``.hdf5``): the files keras.applications publish and Keras 2 wrote.

The layout (Keras's ``legacy_h5_format``): the file (or its ``model_weights`` group, in a whole-model file) has the
attribute ``layer_names``; each name is a group whose attribute ``weight_names`` lists its datasets (``"conv1/
kernel:0"``, ...) in the layer's legacy order, trainable weights first, then non-trainable ones. Long lists may be
split over attributes ``layer_names0``, ``layer_names1``, ...

Loading is Keras 3's ``load_weights_from_hdf5_group``: the file's layers that hold weights are matched, in order,
with the model's layers that hold weights, in Keras's order of ``model.layers`` (by decreasing depth in the graph,
ties in the order a depth-first walk back from the outputs meets them), which is the order the files were written
in. ``by_name=True`` matches layers by name instead and skips the names the model lacks. Everything is checked
before anything is assigned, so a file that does not fit changes nothing. h5py is needed: ``pip install
'chainrule[applications]'``.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from chainrule.utils.optional import require

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_legacy_h5_file(path: str | os.PathLike) -> bool:
    """True for an HDF5 file that Keras 3 reads as a legacy one: any HDF5 file but a ``.weights.h5`` (Keras 3's own
    weights format, another layout). Files of chainrule's format named ``.h5`` (``ModelCheckpoint("best.h5")``)
    are told apart by their first bytes and stay chainrule's.

    >>> is_legacy_h5_file("missing.h5")
    False
    """
    name = os.fspath(path)
    if name.endswith(".weights.h5") or not os.path.isfile(name):
        return False
    with open(name, "rb") as file:
        return file.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE


def require_h5py():
    """The h5py module, or an ImportError that says how to install it."""
    return require("h5py", "Loading Keras HDF5 weight files (.h5, as keras.applications' weights='imagenet' downloads) "
                   "requires the h5py package. Install it with `pip install 'chainrule[applications]'` (or "
                   "`pip install h5py`).")


def load_weights(model, path: str | os.PathLike, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Read the Keras HDF5 weights file ``path`` into ``model`` (see the module's docstring)."""
    h5py = require_h5py()
    with h5py.File(os.fspath(path), "r") as file:
        group = file
        if "layer_names" not in file.attrs and "model_weights" in file:
            group = file["model_weights"]
        if by_name:
            plan = _plan_by_name(group, model, skip_mismatch)
        else:
            plan = _plan_by_order(group, model, skip_mismatch)
    for variable, value in plan:
        variable.assign(value.astype(variable.dtype, copy=False))


def keras_layer_order(model) -> list:
    """``model.layers`` in Keras's order: for a functional model, by decreasing depth (the longest path to an
    output), ties in the order a depth-first walk back from the outputs first meets them (Keras's ``map_graph``);
    other models keep their own order."""
    graph = getattr(model, "_graph", None)
    if graph is None:
        return list(model.layers)
    in_graph = set(graph.nodes)
    first_seen: dict[int, int] = {}
    finished: list = []  # nodes in post-order, as Keras's _build_map appends them
    done: set[int] = set()
    for output in graph.outputs:  # Keras's recursive walk, with an explicit stack (EfficientNetB7 is deep)
        stack = [(output.node, iter(output.node.flat_inputs))] if id(output.node) not in done else []
        first_seen.setdefault(id(output.node.layer), len(first_seen))
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                if id(node) not in done:
                    done.add(id(node))
                    finished.append(node)
            elif parent.node is not None and id(parent.node) not in done:
                first_seen.setdefault(id(parent.node.layer), len(first_seen))
                stack.append((parent.node, iter(parent.node.flat_inputs)))
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Any] = {}
    for node in reversed(finished):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for parent in node.flat_inputs:
            if parent.node in in_graph:
                node_depth[id(parent.node)] = max(depth + 1, node_depth.get(id(parent.node), 0))
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))


def legacy_weights(layer) -> list:
    """A layer's weights in the legacy HDF5 order (Keras's ``_legacy_weights``): the trainable ones first, then the
    others, each in Keras's order of ``weights`` (a model nested as a layer lists its layers' weights in Keras's
    layer order, see :func:`keras_layer_order`)."""
    weights = keras_weights(layer)
    if not layer.trainable:
        return weights
    return [w for w in weights if w.trainable] + [w for w in weights if not w.trainable]


def keras_weights(layer) -> list:
    """``layer.weights`` in Keras 3's order: its own Variables, then each sublayer's weights (a functional model's
    sublayers in Keras's layer order), each Variable once."""
    found: list = []
    seen: set[int] = set()
    stack = [layer]
    while stack:  # depth first, a layer's own Variables before its sublayers'
        current = stack.pop()
        for variable in list(current._trainable_variables) + list(current._non_trainable_variables):
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
        sublayers = keras_layer_order(current) if hasattr(current, "_graph") else current._sublayers()
        stack.extend(reversed([sub for sub in sublayers if sub is not current]))
    return found


def read_attribute(group, name: str) -> list[str]:
    """The string list attribute ``name`` of an HDF5 group, joined from ``name0``, ``name1``, ... when HDF5's
    attribute size limit made Keras split it."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values += list(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def read_layer_values(group) -> list[np.ndarray]:
    """The arrays of one layer's group, in its ``weight_names`` order."""
    return [np.asarray(group[name]) for name in read_attribute(group, "weight_names")]


def _plan_by_order(group, model, skip_mismatch: bool) -> list[tuple[Any, np.ndarray]]:
    layers = [layer for layer in keras_layer_order(model) if legacy_weights(layer)]
    names = [name for name in read_attribute(group, "layer_names") if read_attribute(group[name], "weight_names")]
    if len(names) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected {len(layers)} "
                         f"layers, found {len(names)} saved layers.")
    plan = []
    for k, (name, layer) in enumerate(zip(names, layers)):
        variables, values = legacy_weights(layer), read_layer_values(group[name])
        if len(values) != len(variables):
            raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name} in the current model, "
                             f"{name} in the save file). Layer expects {len(variables)} weight(s). Received "
                             f"{len(values)} saved weight(s)")
        plan += _checked_pairs(variables, values, f"layer #{k} (named {layer.name})", skip_mismatch)
    return plan


def _plan_by_name(group, model, skip_mismatch: bool) -> list[tuple[Any, np.ndarray]]:
    by_name: dict[str, list] = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    plan = []
    for k, name in enumerate(read_attribute(group, "layer_names")):
        values = read_layer_values(group[name])
        for layer in by_name.get(name, []):
            variables = legacy_weights(layer)
            if len(values) != len(variables):
                _refuse(f"Weight count mismatch for layer #{k} (named {layer.name}). Layer expects "
                        f"{len(variables)} weight(s). Received {len(values)} saved weight(s)", skip_mismatch)
                continue
            plan += _checked_pairs(variables, values, f"layer #{k} (named {layer.name})", skip_mismatch)
    return plan


def _checked_pairs(variables: list, values: list[np.ndarray], where: str, skip_mismatch: bool) -> list:
    """(variable, value) for each weight whose shape matches; a mismatch raises Keras's error, or is skipped with
    Keras's warning when ``skip_mismatch``."""
    pairs = []
    for variable, value in zip(variables, values):
        expected, received = tuple(variable.shape), tuple(value.shape)
        if expected != received:
            _refuse(f"Shape mismatch in {where} for weight {variable.name}. Weight expects shape {expected}. "
                    f"Received saved weight with shape {received}", skip_mismatch)
            continue
        pairs.append((variable, value))
    return pairs


def _refuse(message: str, skip_mismatch: bool) -> None:
    """Keras's mismatch error, or its warning when ``skip_mismatch`` (the weights concerned are then left alone)."""
    if not skip_mismatch:
        raise ValueError(message)
    warnings.warn(f"Skipping loading weights: {message}", stacklevel=5)
