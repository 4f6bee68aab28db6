"""``Sequential``: a plain stack of layers, each feeding the next.

Once its input shape is known it holds the same :class:`chainrule.keras.graph.Graph` a functional model runs (as
Keras 3's Sequential builds a Functional); before that, or when a layer cannot be called symbolically, it calls its
layers in order.

>>> from chainrule.keras import layers
>>> seq = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(2)])
>>> seq.output_shape
(None, 2)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.graph import Graph, KerasTensor
from chainrule.keras.layers.base import InputSpec, Layer, _context as _call_context
from chainrule.keras.models.model import Model, cast_input, input_spec_for, is_shape_list
from chainrule.keras.models.serialization import deserialize_layer, serialize_layer


class Sequential(Model):
    """A plain stack of layers, each feeding the next: ``Sequential([Dense(128, input_shape=(784,)), Dense(10)])``.

    Built as soon as the input shape is known (an ``input_shape=`` on the first layer, a ``keras.Input``, or the first
    data it is called on).
    """

    def __init__(self, layers: list | None = None, trainable: bool = True, name: str | None = None, **kwargs):
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._layers: list[Layer] = []
        self._input_layer = None
        self._first_call_dtype = None  # the dtype of the inputs a model without a declared input is first called on
        self._layer_outputs: list[KerasTensor] = []
        self._graph: Graph | None = None  # None until the input shape is known
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
            self.input_spec = input_spec_for(layer.batch_shape)
            self._input_batch_shapes = [layer.batch_shape]
            return self._maybe_rebuild() if rebuild else None
        if any(existing.name == layer.name and existing is not layer for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name '{layer.name}' "
                             f"is already the name of a layer in this model. Update the `name` argument to pass a "
                             f"unique name.")
        self._layers.append(layer)
        if not rebuild:
            return None
        if self._graph is not None:  # built: call the new layer on the current output
            x = self._layer_outputs[-1] if self._layer_outputs else self.inputs[0]
            out = self._symbolic_call(layer, x)
            self._layer_outputs.append(out)
            self.outputs = [out]
            self._graph = Graph(self.inputs, self.outputs)
            return None
        return self._maybe_rebuild()

    def pop(self) -> Layer:
        """Remove and return the top layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        self._layer_outputs, self.outputs, self._graph = [], None, None
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
            declared = self._input_layer is not None or self._layers[0].input_shape_arg is not None
            try:
                self.build(shape)
            except ValueError:
                if declared:
                    raise
                # the shape a nested model was first called on (TensorFlow's data-augmentation tutorial calls one on
                # a single image) need not fit the next layers: left unbuilt, built by its first call, as tf.keras 2
                self._input_layer, self.input_spec, self._input_batch_shapes = None, None, None
                self.inputs = self.outputs = self._graph = None
                self._layer_outputs = []
                self.built = False

    # --- building and calling ----------------------------------------------------------------------------------------
    def _build_on_call(self, inputs, rest: tuple, kwargs: dict) -> None:
        # built by a call on text (a StringLookup first): the input is a string one, as tf.keras 2 builds on the data
        dtype = getattr(inputs, "dtype", None)
        if dtype is not None and self._input_layer is None:
            self._first_call_dtype = "string" if backend.as_dtype(dtype).kind in "USO" else None
        super()._build_on_call(inputs, rest, kwargs)

    def _maybe_build(self, shape) -> None:
        if not self.built:
            if not is_shape_list(shape):
                # built inside a symbolic call's probe: its made-up sizes stand for unknown ones (Keras builds on
                # None); the feature axis is kept, as a layer's weights are made from it
                made_up = _call_context.probing[1] if _call_context.probing else None
                shape = (None,) + tuple(None if n == made_up else n for n in shape[1:-1]) + tuple(shape[1:][-1:])
            declared = self._declared_input_shape() is not None
            self.build(shape)
            if not declared:
                # built by its first call, not declared: later calls may bring other sizes (Keras runs the layers on
                # them; TensorFlow's time-series tutorial calls a model fitted on 1 step on 24), the layers check
                self.input_spec = InputSpec(ndim=len(shape))

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first, may be None) by calling them on a
        symbolic input; the output shapes are kept for ``summary``."""
        from chainrule.keras.layers.core import InputLayer

        if input_shape is None:
            input_shape = self._declared_input_shape()
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument to build a Sequential model whose first "
                                 "layer has no input shape")
        if is_shape_list(input_shape):
            raise ValueError(f"Sequential models take one input; got input shapes {input_shape}. Use the functional "
                             f"API (keras.Model(inputs, outputs)) for several inputs")
        input_shape = tuple(input_shape)
        if self._input_layer is None or tuple(self._input_layer.batch_shape) != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=self._first_call_dtype or backend.floatx(),
                                           name=_unique_input_name())
        x = self._input_layer.output
        self.inputs = [x]
        self._layer_outputs, self._graph = [], None
        self.input_spec = input_spec_for(input_shape)
        self._input_batch_shapes = [input_shape]
        try:
            for layer in self._layers:
                x = self._symbolic_call(layer, x)
                self._layer_outputs.append(x)
        except NotImplementedError:  # a layer that cannot run symbolically: call the layers in order (as Keras)
            self.outputs = None
        else:
            self.outputs = [x]
            self._graph = Graph(self.inputs, self.outputs)
        self.built = True

    @staticmethod
    def _symbolic_call(layer: Layer, x: KerasTensor) -> KerasTensor:
        y = layer(x)
        if isinstance(y, (list, tuple)):
            raise ValueError(f"All layers in a Sequential model should have a single output tensor; layer "
                             f"'{layer.name}' returned {len(y)}. For multi-output layers, use the functional API.")
        return y

    def call(self, inputs, training: bool = False, mask=None):
        if self._input_layer is not None:
            inputs = cast_input(inputs, backend.as_dtype(self._input_layer.dtype))
        if mask is not None and isinstance(inputs, Tensor):
            inputs._keras_mask = mask  # masks travel on the tensors; each layer takes its input's
        if self._graph is not None:
            return self._graph.run([inputs], training=training)[0]
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_mask(self, inputs, mask=None):
        """None: the outputs already carry the masks the layers inside gave them (so a mask passed in is not
        reported as dropped)."""
        return None

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
