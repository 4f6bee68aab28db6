"""Models: ``Sequential``, the functional ``Model(inputs, outputs)``, and subclassed ``Model`` with ``call``.

A model is a Layer made of layers, plus the training loop (:class:`chainrule.keras.training.Trainer`: ``compile``,
``fit``, ``evaluate``, ``predict``). The three ways to make one, as in Keras:

>>> import numpy as np
>>> from chainrule import layers
>>> seq = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(2)])
>>> seq.output_shape
(None, 2)
>>> from chainrule.keras.graph import Input
>>> x = Input(shape=(4,))
>>> fn = Model(x, layers.Dense(2)(layers.Dense(8)(x)))
>>> type(fn).__name__, fn(np.ones((3, 4), "float32")).shape
('Functional', (3, 2))
>>> class Tiny(Model):
...     def __init__(self):
...         super().__init__()
...         self.dense = layers.Dense(2)
...     def call(self, inputs):
...         return self.dense(inputs)
>>> Tiny()(np.ones((3, 4), "float32")).shape
(3, 2)
"""
from __future__ import annotations

import functools
import inspect
import json

import numpy as np

from chainrule import backend
from chainrule.keras.graph import Graph, KerasTensor, _flatten
from chainrule.keras.layers import fusion
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.engine.tensor import Tensor
from chainrule.keras.training import Trainer


class Model(Trainer, Layer):
    """A layer of layers that can be trained. ``Model(inputs, outputs)`` makes a functional model; subclass it and
    define ``call`` for anything else (layers assigned to attributes are tracked: their weights are the model's)."""

    def __new__(cls, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:  # Model(inputs, outputs): a functional model
            if cls is Model:
                return object.__new__(Functional)
            if not issubclass(cls, (Functional, Sequential)):  # a subclass (its own train_step) built the same way
                return object.__new__(_functional_subclass(cls))
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}() takes keyword arguments only (name=, trainable=, dtype=); a "
                            f"functional model is Model(inputs, outputs)")
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    # --- the layers inside ------------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, in the order they were assigned (subclassed models) or are called (graphs)."""
        return self._sublayers()

    def _sublayers(self) -> list[Layer]:
        found: dict[int, Layer] = {}
        for key, value in vars(self).items():
            if key in _UNTRACKED:
                continue
            for item in _layers_in(value):
                if item is not self:
                    found.setdefault(id(item), item)
        return list(found.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by its name or its index in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 f"layers.")
            return layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or layer index")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    @property
    def weights(self) -> list:
        """Every variable once, layer by layer (a layer shared by two paths counts once)."""
        seen: set[int] = set()
        out = []
        for w in Layer.weights.fget(self):
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    def _flat_layers(self) -> list[Layer]:
        """Every layer inside, depth first (nested models open up), each once."""
        out: dict[int, Layer] = {}
        stack = list(reversed(self._sublayers()))
        while stack:
            layer = stack.pop()
            if id(layer) in out:
                continue
            out[id(layer)] = layer
            stack.extend(reversed(layer._sublayers()))
        return list(out.values())

    # --- building and calling ----------------------------------------------------------------------------------------
    def _maybe_build(self, shape) -> None:
        # a subclassed model builds its layers by running ``call``; nothing to do before that
        if not self.built:
            self.built = True

    def build(self, input_shape) -> None:
        """Build the layers by running ``call`` once on zeros shaped ``input_shape`` (batch axis may be None)."""
        from chainrule.engine.autograd import no_grad

        shapes = input_shape if _is_shape_list(input_shape) else None
        sample = ([np.zeros(_batch_of_one(s), backend.floatx()) for s in shapes] if shapes is not None
                  else np.zeros(_batch_of_one(input_shape), backend.floatx()))
        with no_grad():
            self(sample)
        self.built = True

    def _convert(self, inputs):
        if isinstance(inputs, dict):
            return {key: Layer._convert(self, value) for key, value in inputs.items()}
        inputs = Layer._convert(self, inputs)
        shapes = self._input_batch_shapes
        if shapes is not None:
            if isinstance(inputs, Tensor) and len(shapes) == 1:
                return _adjust_rank(inputs, shapes[0])
            if isinstance(inputs, (list, tuple)) and len(inputs) == len(shapes):
                return type(inputs)(_adjust_rank(x, s) for x, s in zip(inputs, shapes))
        return inputs

    _input_batch_shapes: list | None = None  # the declared input shapes, once known

    def call(self, inputs, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs), or be made as Model(inputs, "
                                  f"outputs) or Sequential([...])")

    # --- description ------------------------------------------------------------------------------------------------
    def summary(self, line_length: int | None = None, positions=None, print_fn=None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range=None) -> None:
        """Print Keras's table: Layer (type) | Output Shape | Param #, then the parameter totals and sizes."""
        from chainrule.keras.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    def get_config(self) -> dict:
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        if cls is Model and {"layers", "input_layers", "output_layers"} <= set(config):
            return Functional.from_config(config, custom_objects)  # keras.Model.from_config of a functional model
        params = inspect.signature(cls.__init__).parameters
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return cls(**config)
        return cls(**{k: v for k, v in config.items() if k in params})

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON: ``{"class_name": ..., "config": ...}`` (``model_from_json`` reads it back)."""
        return json.dumps(serialize_layer(self), **kwargs)

    # --- files (chainrule.keras.saving) ---------------------------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write the whole model (architecture, weights, optimizer state) to one file (see :mod:`chainrule.keras.saving`)."""
        _io("save_model")(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write the weights alone (see :mod:`chainrule.keras.saving`)."""
        _io("save_weights")(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, **kwargs) -> None:
        """Read weights written by ``save_weights`` (or ``save``) into this model."""
        _io("load_weights")(self, filepath, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_UNTRACKED = frozenset({"_inbound_nodes", "_input_layer", "_graph", "_layer_outputs", "inputs", "outputs",
                        "history", "optimizer", "loss", "_compiled"})


def _layers_in(value) -> list[Layer]:
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [layer for item in value for layer in _layers_in(item)]
    if isinstance(value, dict):
        return [layer for item in value.values() for layer in _layers_in(item)]
    return []


def _is_shape_list(shape) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


def _batch_of_one(shape) -> tuple[int, ...]:
    return (1,) + tuple(1 if n is None else int(n) for n in tuple(shape)[1:])


def _cast_input(x, dtype):
    """Inputs of integer or boolean dtype become the input layer's float dtype (images in uint8, as Keras casts)."""
    if isinstance(x, Tensor) and x.data.dtype != dtype and x.data.dtype.kind in "ub" and dtype.kind == "f":
        from chainrule.ops import cast

        return cast(x, dtype)
    return x


def _adjust_rank(x, batch_shape: tuple):
    """Keras's rank fix for a model input: drop or add a trailing axis of size 1 (images of (N, 28, 28) fed to a
    model declared for (28, 28, 1), and the reverse); any other mismatch is left for the input spec to report."""
    if not isinstance(x, Tensor) or x.ndim == len(batch_shape):
        return x
    from chainrule.ops import expand_dims, squeeze

    if x.ndim == len(batch_shape) + 1 and x.shape[-1] == 1:
        return squeeze(x, -1)
    if x.ndim == len(batch_shape) - 1 and batch_shape[-1] == 1:
        return expand_dims(x, -1)
    return x


def _input_spec_for(batch_shape: tuple) -> InputSpec:
    return InputSpec(ndim=len(batch_shape), axes={i: n for i, n in enumerate(batch_shape) if i and n is not None})


class Sequential(Model):
    """A plain stack of layers, each feeding the next: ``Sequential([Dense(128, input_shape=(784,)), Dense(10)])``.

    Built as soon as the input shape is known (an ``input_shape=`` on the first layer, a ``keras.Input``, or the first
    data it is called on).
    """

    def __init__(self, layers: list | None = None, trainable: bool = True, name: str | None = None, **kwargs):
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._layers: list[Layer] = []
        self._input_layer = None
        self._layer_outputs: list[KerasTensor] = []
        self.inputs = self.outputs = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # --- the stack ----------------------------------------------------------------------------------------------------
    def add(self, layer, rebuild: bool = True) -> None:
        """Put ``layer`` on top. A ``keras.Input(...)`` (or InputLayer) first fixes the input shape."""
        from chainrule.keras.layers.core import InputLayer

        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError("Only the output of keras.Input() can be added to a Sequential model as a tensor")
            layer = history[0]
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r} "
                             f"(of type {type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model")
            self._input_layer = layer
            self.input_spec = _input_spec_for(layer.batch_shape)
            self._input_batch_shapes = [layer.batch_shape]
            return self._maybe_rebuild() if rebuild else None
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name '{layer.name}' "
                             f"is already the name of a layer in this model. Update the `name` argument to pass a "
                             f"unique name.")
        self._layers.append(layer)
        if not rebuild:
            return None
        if self.built and self._layer_outputs is not None and self.inputs is not None:
            x = self._layer_outputs[-1] if self._layer_outputs else self.inputs[0]
            out = layer(x)
            self._layer_outputs.append(out)
            self.outputs = [out]
            return None
        return self._maybe_rebuild()

    def pop(self) -> Layer:
        """Remove and return the top layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        self._layer_outputs, self.outputs = [], None
        self._maybe_rebuild()
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    def _declared_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        first = self._layers[0] if self._layers else None
        if first is None:
            return None
        if first.input_shape_arg is not None:
            return (None,) + tuple(first.input_shape_arg)
        if isinstance(first, Model) and first.built and isinstance(getattr(first, "input_shape", None), tuple):
            return first.input_shape  # a built model as the first layer brings its input shape
        return None

    def _maybe_rebuild(self) -> None:
        shape = self._declared_input_shape()
        if shape is not None and self._layers:
            self.build(shape)

    # --- building and calling ----------------------------------------------------------------------------------------
    def _maybe_build(self, shape) -> None:
        if not self.built:
            self.build((None,) + tuple(shape[1:]) if not _is_shape_list(shape) else shape)

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first, may be None) by calling them on a
        symbolic input; the output shapes are kept for ``summary``."""
        from chainrule.keras.layers.core import InputLayer

        if input_shape is None:
            input_shape = self._declared_input_shape()
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument to build a Sequential model whose first "
                                 "layer has no input shape")
        if _is_shape_list(input_shape):
            raise ValueError(f"Sequential models take one input; got input shapes {input_shape}. Use the functional "
                             f"API (keras.Model(inputs, outputs)) for several inputs")
        input_shape = tuple(input_shape)
        if self._input_layer is None or tuple(self._input_layer.batch_shape) != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=backend.floatx(),
                                           name=_unique_input_name())
        x = self._input_layer.output
        self.inputs = [x]
        self._layer_outputs = []
        for layer in self._layers:
            x = layer(x)
            if isinstance(x, (list, tuple)):
                raise ValueError(f"All layers in a Sequential model should have a single output tensor; layer "
                                 f"'{layer.name}' returned {len(x)}. For multi-output layers, use the functional API.")
            self._layer_outputs.append(x)
        self.outputs = [x]
        self.input_spec = _input_spec_for(input_shape)
        self._input_batch_shapes = [input_shape]
        self.built = True

    def call(self, inputs, training: bool = False):
        if self._input_layer is not None:
            inputs = _cast_input(inputs, np.dtype(self._input_layer.dtype))
        x, layers, i = inputs, self._layers, 0
        while i < len(layers):
            if i + 1 < len(layers) and fusion.fuses_with_next(layers[i], layers[i + 1], x):
                x = fusion.run_conv_max_pool(layers[i], layers[i + 1], x)  # one node for both (layers/fusion.py)
                i += 2
            else:
                x = layers[i](x, training=training)
                i += 1
        return x

    # --- shapes and config -------------------------------------------------------------------------------------------
    @property
    def input_shape(self):
        return None if self._input_layer is None else self._input_layer.batch_shape

    @property
    def output_shape(self):
        return None if not self.outputs else self.outputs[0].shape

    @property
    def input(self):
        return None if not self.inputs else self.inputs[0]

    @property
    def output(self):
        return None if not self.outputs else self.outputs[0]

    def get_config(self) -> dict:
        layers = [serialize_layer(self._input_layer)] if self._input_layer is not None else []
        layers += [serialize_layer(layer) for layer in self._layers]
        shape = self.input_shape
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "layers": layers,
                "build_input_shape": None if shape is None else list(shape)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_layer(layer_config, custom_objects), rebuild=False)
        model._maybe_rebuild()
        shape = config.get("build_input_shape")
        if not model.built and shape is not None and model._layers:
            model.build(tuple(shape))
        return model


def _unique_input_name() -> str:
    from chainrule.keras.layers.core import _input_name

    return _input_name()


@functools.cache
def _functional_subclass(cls: type) -> type:
    """``cls`` with Functional behind it: ``class Custom(keras.Model)`` overriding ``train_step`` and called as
    ``Custom(inputs, outputs)``, as in Keras's guide to customizing fit (Keras injects Functional the same way)."""
    return type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})


class Functional(Model):
    """A model defined by its graph: ``Model(inputs, outputs)`` where ``outputs`` come from calling layers on
    ``keras.Input`` tensors. Inputs and outputs may be one tensor, a list, or a dict (keyed by name)."""

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._nested_inputs, self._nested_outputs = inputs, outputs
        flat_in = list(inputs.values()) if isinstance(inputs, dict) else _flatten(inputs)
        flat_out = list(outputs.values()) if isinstance(outputs, dict) else _flatten(outputs)
        self._graph = Graph(flat_in, flat_out)
        self.inputs, self.outputs = flat_in, flat_out
        self._input_dtypes = [np.dtype(t.dtype) for t in flat_in]
        self._input_names = [t.node.layer.name for t in flat_in]
        # outputs given as a dict are named by their keys (losses and metrics may be keyed so), else by layer
        self.output_names = list(outputs) if isinstance(outputs, dict) else [t.node.layer.name for t in flat_out]
        if len(flat_in) == 1:
            self.input_spec = _input_spec_for(flat_in[0].shape)
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

    def call(self, inputs, training: bool = False):
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
        flat = [_cast_input(x, dtype) for x, dtype in zip(flat, self._input_dtypes)]
        outs = self._graph.run(flat, training=bool(training))
        return self._pack_outputs(outs)

    def _pack_outputs(self, outs: list):
        structure = self._nested_outputs
        if isinstance(structure, dict):
            return dict(zip(structure.keys(), outs))
        if isinstance(structure, (list, tuple)):
            return list(outs) if isinstance(structure, list) else tuple(outs)
        return outs[0]

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

        def arg(structure):
            if isinstance(structure, (list, tuple)):
                return [arg(item) for item in structure]
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(structure.shape), "dtype": structure.dtype.name,
                               "keras_history": ref(structure)}}

        layer_configs = []
        for layer in graph.layers:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [{"args": [arg(node.inputs)], "kwargs": dict(node.kwargs)}
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

        def resolve(structure):
            if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
                layer_name, node_index, tensor_index = structure
                return outputs_of[(layer_name, node_index)][tensor_index]
            if isinstance(structure, list):
                return [resolve(item) for item in structure]
            if isinstance(structure, dict) and structure.get("class_name") == "__keras_tensor__":
                return resolve(structure["config"]["keras_history"])
            if isinstance(structure, dict):
                return {key: resolve(value) for key, value in structure.items()}
            return structure

        while pending:
            progressed = False
            for item in list(pending):
                name, i, node = item
                try:
                    args = [resolve(a) for a in node.get("args", [])]
                except KeyError:
                    continue  # an input of this call is not made yet
                out = made[name](*args, **node.get("kwargs", {}))
                outputs_of[(name, i)] = _flatten(out)
                pending.remove(item)
                progressed = True
            if not progressed:
                raise ValueError(f"Model config '{config.get('name')}' is not a connected graph: cannot make the calls "
                                 f"of {[p[0] for p in pending]}")
        return cls(resolve(config["input_layers"]), resolve(config["output_layers"]), name=config.get("name"),
                   trainable=config.get("trainable", True))


# --- layers as {"class_name", "config"} ----------------------------------------------------------------------------
def serialize_layer(layer: Layer) -> dict:
    """A layer (or model) as Keras writes it: ``{"class_name": ..., "config": layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _known_classes() -> dict[str, type]:
    from chainrule.keras import layers

    known = {name: obj for name, obj in vars(layers).items() if isinstance(obj, type) and issubclass(obj, Layer)}
    known.update({"Sequential": Sequential, "Functional": Functional, "Model": Functional})
    return known


def deserialize_layer(config: dict, custom_objects: dict | None = None) -> Layer:
    """Rebuild a layer (or model) from ``serialize_layer``'s dict; ``custom_objects`` names your own classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _known_classes().get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a `keras.utils.custom_object_scope` "
                         f"and that this object is included in the scope, or pass it as custom_objects={{'{name}': "
                         f"{name}}}")
    inner = dict(config.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)


def model_from_config(config: dict, custom_objects: dict | None = None) -> Model:
    """A model from ``{"class_name": "Sequential" | "Functional", "config": ...}`` (the ``get_config`` wrapped)."""
    return deserialize_layer(config, custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Model:
    """A model from ``model.to_json()`` (architecture only: the weights are new)."""
    return model_from_config(json.loads(json_string), custom_objects)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, **kwargs) -> Model:
    """Read a model saved with ``model.save`` (see :mod:`chainrule.keras.saving`)."""
    return _io("load_model")(filepath, custom_objects=custom_objects, compile=compile, **kwargs)


def _io(name: str):
    try:
        from chainrule.keras import saving as io
    except ImportError as e:  # pragma: no cover - io ships with the package
        raise NotImplementedError(f"model files need chainrule.keras.saving, which failed to import: {e}") from e
    fn = getattr(io, name, None)
    if fn is None:
        raise NotImplementedError(f"chainrule.keras.saving has no {name}() yet: model files are not available")
    return fn


__all__ = ["Functional", "Model", "Sequential", "deserialize_layer", "load_model", "model_from_config",
           "model_from_json", "serialize_layer"]
