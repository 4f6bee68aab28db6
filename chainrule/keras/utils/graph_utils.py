"""Questions about functional graphs: ``keras.utils.is_keras_tensor`` and ``get_source_inputs`` (the Input tensors
a symbolic tensor is computed from).

>>> from chainrule import keras
>>> a, b = keras.Input((2,)), keras.Input((2,))
>>> out = keras.layers.Dense(1)(keras.layers.Add()([a, b]))
>>> [t is a or t is b for t in get_source_inputs(out)], is_keras_tensor(out)
([True, True], True)
"""
from __future__ import annotations

from chainrule.keras.graph import KerasTensor, _is_input_layer


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of a functional graph (``keras.Input`` and what layers make of it)."""
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor) -> list:
    """The Input tensors that ``tensor`` is computed from, each once, in the order they are first reached (a
    tensor made by no layer is its own source)."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    if tensor._keras_history is None:
        return [tensor]
    layer, node_index, _ = tensor._keras_history
    nodes = getattr(layer, "_inbound_nodes", None)
    if not nodes:
        return [tensor]
    node = nodes[node_index]
    if _is_input_layer(layer) or not node.flat_inputs:
        return list(node.outputs)
    sources: list = []
    for parent in node.flat_inputs:
        for found in get_source_inputs(parent):
            if all(found is not known for known in sources):
                sources.append(found)
    return sources
