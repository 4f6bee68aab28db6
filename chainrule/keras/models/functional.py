"""``Functional``: a model defined by its graph, ``Model(inputs, outputs)`` on ``keras.Input`` tensors.

>>> import numpy as np
>>> from chainrule.keras import layers
>>> from chainrule.keras.graph import Input
>>> x = Input(shape=(4,))
>>> fn = Model(x, layers.Dense(2)(layers.Dense(8)(x)))
>>> type(fn).__name__, fn(np.ones((3, 4), "float32")).shape
('Functional', TensorShape([3, 2]))
"""
from __future__ import annotations

import functools

import numpy as np

from chainrule.keras.graph import Graph, KerasTensor
from chainrule.keras.layers.base import Layer, training_flag
from chainrule.keras.models.model import Model, cast_input, input_spec_for
from chainrule.keras.models.serialization import deserialize_layer, serialize_layer
from chainrule.utils import tree


def _is_input(t: KerasTensor) -> bool:
    return t.node is not None and type(t.node.layer).__name__ == "InputLayer"


def clone_graph_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]):
    """Keras 3's ``clone_graph_nodes``: a model made from intermediate tensors (``Model(dense(x), out)``) gets a new
    ``keras.Input`` in place of each input that no ``keras.Input`` made (same shape and dtype, named
    ``<name>CLONE``), and the layer calls between the inputs and the outputs are made again on the new tensors;
    what came before those inputs is not part of the model. Returns the new inputs and outputs."""
    from chainrule.keras.graph import Node
    from chainrule.keras.layers.core import Input

    new: dict[int, KerasTensor] = {}
    for t in inputs:
        new[id(t)] = t if _is_input(t) else Input(batch_shape=t.shape, dtype=t.dtype, name=f"{t.name}CLONE")
    order, seen, stack = [], set(), [(t.node, False) for t in reversed(outputs) if id(t) not in new]
    while stack:  # the calls between inputs and outputs, each after those it takes tensors from
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen and not _is_input(node.outputs[0]):
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((t.node, False) for t in reversed(node.flat_inputs) if id(t) not in new)

    def swap(x):
        return new.get(id(x), x) if isinstance(x, KerasTensor) else x

    for node in order:
        outs = []
        for t in node.outputs:
            copy = new[id(t)] = KerasTensor(t.shape, t.dtype, name=t.name)
            copy._keras_mask = swap(t._keras_mask)
            outs.append(copy)
        Node(node.layer, tree.map_structure(swap, node.args), tree.map_structure(swap, node.kwargs), outs)
    return [new[id(t)] for t in inputs], [new.get(id(t), t) for t in outputs]


@functools.cache
def functional_subclass(cls: type) -> type:
    """``cls`` with Functional behind it: ``class Custom(keras.Model)`` overriding ``train_step`` and called as
    ``Custom(inputs, outputs)``, as in Keras's guide to customizing fit (Keras injects Functional the same way)."""
    return type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})


class Functional(Model):
    """A model defined by its graph: ``Model(inputs, outputs)`` where ``outputs`` come from calling layers on
    ``keras.Input`` tensors. Inputs and outputs may be one tensor, a list, or a dict (keyed by name)."""

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        flat_in = list(inputs.values()) if isinstance(inputs, dict) else tree.flatten(inputs)
        flat_out = list(outputs.values()) if isinstance(outputs, dict) else tree.flatten(outputs)
        if not all(isinstance(t, KerasTensor) and _is_input(t) for t in flat_in):  # Keras 3: intermediate tensors
            flat_in, flat_out = clone_graph_nodes(flat_in, flat_out)          # become new keras.Input tensors
            inputs = dict(zip(inputs, flat_in)) if isinstance(inputs, dict) else tree.pack_sequence_as(inputs, flat_in)
            outputs = (dict(zip(outputs, flat_out)) if isinstance(outputs, dict)
                       else tree.pack_sequence_as(outputs, flat_out))
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self._graph = Graph(flat_in, flat_out)
        self.inputs, self.outputs = flat_in, flat_out
        self._input_dtypes = [np.dtype(t.dtype) for t in flat_in]
        # inputs given as a dict take data by its keys (Keras 3 matches the keys), else by the Input layers' names
        self._input_names = list(inputs) if isinstance(inputs, dict) else [t.node.layer.name for t in flat_in]
        # outputs given as a dict are named by their keys (losses and metrics may be keyed so), else by layer
        self.output_names = list(outputs) if isinstance(outputs, dict) else [t.node.layer.name for t in flat_out]
        if len(flat_in) == 1:
            self.input_spec = input_spec_for(flat_in[0].shape)
        self._input_batch_shapes = [t.shape for t in flat_in]
        self.built = True

    @property
    def layers(self) -> list[Layer]:
        return list(self._graph.layers)

    def _sublayers(self) -> list[Layer]:
        return [layer for layer in self._graph.layers if type(layer).__name__ != "InputLayer"]

    def _maybe_build(self, shape) -> None:
        pass

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs, training: bool = False, mask=None):
        n = len(self._graph.inputs)
        if isinstance(inputs, dict):
            missing = [name for name in self._input_names if name not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {self._input_names}; missing {missing}")
            flat = [inputs[name] for name in self._input_names]
        elif isinstance(inputs, (list, tuple)):
            flat = list(inputs)
        else:
            flat = [inputs]
        if len(flat) != n:
            raise ValueError(f"Model '{self.name}' expects {n} input(s), but it received {len(flat)} input tensors")
        flat = [cast_input(x, dtype) for x, dtype in zip(flat, self._input_dtypes)]
        if mask is not None:  # masks travel on the tensors; each layer takes its input's
            for x, m in zip(flat, tree.flatten(mask)):
                if m is not None:
                    x._keras_mask = m
        outs = self._graph.run(flat, training=bool(training_flag(training)))
        n_out, n_loss = len(self.outputs), len(getattr(self, "_symbolic_losses", ()))
        if n_loss:  # the values of the symbolic losses (add_loss) for this call
            Model.add_loss(self, outs[n_out:n_out + n_loss])
        for name, value in zip(getattr(self, "_symbolic_metric_names", ()), outs[n_out + n_loss:]):
            Model.add_metric(self, value, name=name)
        return self._pack_outputs(outs[:n_out])

    def add_loss(self, loss) -> None:
        """Also TensorFlow 2's ``model.add_loss(symbolic_loss)``: a loss computed from the model's symbolic tensors
        joins the graph, and every call of the model adds its value to ``model.losses`` (which ``fit`` minimizes)."""
        flat = tree.flatten(loss)
        symbolic = [value for value in flat if isinstance(value, KerasTensor)]
        if not symbolic:
            return Model.add_loss(self, loss)
        if len(symbolic) != len(flat):
            raise ValueError(f"Model '{self.name}': add_loss() got symbolic tensors mixed with other values "
                             f"({loss!r}); add them in separate calls")
        losses = getattr(self, "_symbolic_losses", []) + symbolic
        self._graph = Graph(self.inputs, self.outputs + losses + getattr(self, "_symbolic_metrics", []))
        self._symbolic_losses = losses
        return None

    def add_metric(self, value, name: str | None = None, aggregation: str | None = "mean") -> None:
        """Also TensorFlow 2's ``model.add_metric(symbolic_tensor, name=...)``: a value computed from the model's
        symbolic tensors joins the graph, and each call of the model adds it to the metric ``name``."""
        if not isinstance(value, KerasTensor):
            return Model.add_metric(self, value, name=name, aggregation=aggregation)
        if aggregation not in ("mean", None) or not name:
            return Model.add_metric(self, None, name=name, aggregation=aggregation)  # its checks and messages
        metrics = getattr(self, "_symbolic_metrics", []) + [value]
        self._graph = Graph(self.inputs, self.outputs + getattr(self, "_symbolic_losses", []) + metrics)
        self._symbolic_metrics = metrics
        self._symbolic_metric_names = getattr(self, "_symbolic_metric_names", []) + [name]
        return None

    def compute_mask(self, inputs, mask=None):
        """None: the outputs already carry the masks the layers inside gave them (so a mask passed in is not
        reported as dropped)."""
        return None

    def _pack_outputs(self, outs: list):
        # nested as the outputs were given (Keras's Model(x, [[a, b], c]) returns [[a, b], c])
        structure = self._nested_outputs
        if isinstance(structure, dict):
            return dict(zip(structure.keys(), outs))
        return tree.pack_sequence_as(structure, outs)

    # --- shapes and config -------------------------------------------------------------------------------------------
    @property
    def input(self):
        return self._nested_inputs

    @property
    def output(self):
        return self._nested_outputs

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_config(self) -> dict:
        graph = self._graph

        def ref(t: KerasTensor) -> list:
            layer, _, tensor_index = t._keras_history
            return [layer.name, graph.node_index_in_model(t.node), tensor_index]

        def arg(value):
            if isinstance(value, KerasTensor):
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(value.shape), "dtype": value.dtype.name, "keras_history": ref(value)}}
            if isinstance(value, (list, tuple)):
                return [arg(item) for item in value]
            if isinstance(value, dict):
                return {key: arg(item) for key, item in value.items()}
            if isinstance(value, np.ndarray):
                return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
            return value

        layer_configs = []
        for layer in graph.layers:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [{"args": arg(list(node.args)), "kwargs": arg(node.kwargs)}
                                      for node in layer._inbound_nodes
                                      if node in graph._node_set and type(layer).__name__ != "InputLayer"]
            layer_configs.append(entry)

        def refs(structure):
            if isinstance(structure, dict):
                return {key: ref(t) for key, t in structure.items()}
            if isinstance(structure, (list, tuple)):
                return [ref(t) for t in structure]
            return ref(structure)

        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs,
                "input_layers": refs(self._nested_inputs), "output_layers": refs(self._nested_outputs)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Functional":
        from chainrule.keras.layers.core import InputLayer

        made: dict[str, Layer] = {}
        outputs_of: dict[tuple[str, int], list[KerasTensor]] = {}
        pending: list[tuple[str, int, dict]] = []
        for entry in config["layers"]:
            layer = deserialize_layer(entry, custom_objects)
            name = entry.get("name", layer.name)
            made[name] = layer
            if isinstance(layer, InputLayer):
                outputs_of[(name, 0)] = [layer.output]
            for i, node in enumerate(entry.get("inbound_nodes", [])):
                pending.append((name, i, node))

        def tensor(history: list) -> KerasTensor:
            layer_name, node_index, tensor_index = history
            return outputs_of[(layer_name, node_index)][tensor_index]  # KeyError: that call is not made yet

        def resolve(value):
            if isinstance(value, list):
                return [resolve(item) for item in value]
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                return tensor(value["config"]["keras_history"])
            if isinstance(value, dict) and value.get("class_name") == "__numpy__":
                return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
            if isinstance(value, dict):
                return {key: resolve(item) for key, item in value.items()}
            return value

        def resolve_refs(structure):  # input_layers / output_layers: [layer_name, node_index, tensor_index] each
            if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
                return tensor(structure)
            if isinstance(structure, list):
                return [resolve_refs(item) for item in structure]
            return {key: resolve_refs(item) for key, item in structure.items()}

        while pending:
            progressed = False
            for item in list(pending):
                name, i, node = item
                try:
                    args, kwargs = resolve(node.get("args", [])), resolve(node.get("kwargs", {}))
                except KeyError:
                    continue  # an input of this call is not made yet
                out = made[name](*args, **kwargs)
                outputs_of[(name, i)] = tree.flatten(out)
                pending.remove(item)
                progressed = True
            if not progressed:
                raise ValueError(f"Model config '{config.get('name')}' is not a connected graph: cannot make the calls "
                                 f"of {[p[0] for p in pending]}")
        return cls(resolve_refs(config["input_layers"]), resolve_refs(config["output_layers"]), name=config.get("name"),
                   trainable=config.get("trainable", True))
