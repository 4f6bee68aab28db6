"""``Model``: a layer of layers that can be trained, and the base of ``Sequential`` and ``Functional``.

A model is a Layer made of layers, plus the training loop (:class:`chainrule.keras.training.Trainer`: ``compile``,
``fit``, ``evaluate``, ``predict``). Subclass it and define ``call``; layers assigned to attributes are tracked:

>>> import numpy as np
>>> from chainrule.keras import layers
>>> class Tiny(Model):
...     def __init__(self):
...         super().__init__()
...         self.dense = layers.Dense(2)
...     def call(self, inputs):
...         return self.dense(inputs)
>>> Tiny()(np.ones((3, 4), "float32")).shape
TensorShape([3, 2])
"""
from __future__ import annotations

import inspect
import json

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import InputSpec, Layer
from chainrule.keras.models.serialization import saving_function, serialize_layer
from chainrule.keras.training import Trainer


class Model(Trainer, Layer):
    """A layer of layers that can be trained. ``Model(inputs, outputs)`` makes a functional model; subclass it and
    define ``call`` for anything else (layers assigned to attributes are tracked: their weights are the model's)."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and functional_init_arguments(args, kwargs):  # Model(inputs, outputs): a functional model
            from chainrule.keras.models.functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)  # a subclass takes whatever its own __init__ takes

    def __init__(self, *args, **kwargs):
        if functional_init_arguments(args, kwargs):
            # a subclass built as Custom(inputs, outputs), or whose __init__ passes them on: Functional behind it
            from chainrule.keras.models.functional import Functional, functional_subclass

            if not isinstance(self, Functional):
                self.__class__ = functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args and args != (self,):  # (tf.keras 2 ignored the model itself: TF's text-generation tutorial passes it)
            raise TypeError(f"{type(self).__name__}: Model.__init__() takes keyword arguments only (name=, "
                            f"trainable=, dtype=), got {len(args)} positional; a functional model is "
                            f"Model(inputs, outputs)")
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    def export(self, filepath, format: str = "tf_saved_model", verbose: bool | None = None, input_signature=None,
               **kwargs) -> None:
        """Keras's export for inference: the folder ``tf.saved_model.load(filepath)`` reads, whose ``serve``
        endpoint calls the model in inference mode (chainrule.keras.saving.export; "tf_saved_model" only)."""
        from chainrule.keras.saving.export import export_model

        if format != "tf_saved_model":
            raise ValueError(f"Model.export: chainrule exports format='tf_saved_model' only (a folder that "
                             f"tf.saved_model.load reads); received format={format!r}")
        export_model(self, filepath, "Model.export")
        if verbose is None or verbose:
            print(f"Saved artifact at '{filepath}'. The following endpoints are available:\n\n* Endpoint 'serve'")

    # --- the layers inside ------------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, in the order they were assigned (subclassed models) or are called (graphs)."""
        return self._sublayers()

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

    def _flat_layers(self) -> list[Layer]:
        """Every layer inside, depth first (nested models open up), each once."""
        return self._flatten_layers(include_self=False)

    # --- building and calling ----------------------------------------------------------------------------------------
    def _maybe_build(self, shape) -> None:
        # a subclassed model builds its layers by running ``call``; one with a ``build`` of its own (making its
        # weights and layers there, as keras-io's Perceiver) has it called first, as Keras's Layer.__call__ does
        if not self.built:
            if _defines_build(type(self)):
                Layer._maybe_build(self, shape)
            else:
                self.built = True

    def build(self, input_shape) -> None:
        """Build the layers by running ``call`` once on zeros shaped ``input_shape`` (batch axis may be None).

        Reached through ``super().build(input_shape)`` from a subclass's own ``build``, it only marks the model
        built, as Keras 3's ``Layer.build`` (the subclass made what it needs; running ``call`` there would build
        it again)."""
        from chainrule.engine.autograd import no_grad

        if _defines_build(type(self)):
            self.built = True
            return

        shapes = input_shape if is_shape_list(input_shape) else None
        sample = ([np.zeros(_batch_of_one(s), backend.floatx()) for s in shapes] if shapes is not None
                  else np.zeros(_batch_of_one(input_shape), backend.floatx()))
        with no_grad():
            self(sample)
        self.built = True

    @property
    def input_dtype(self) -> str:
        """A model takes float inputs in its variable dtype (its Input's, as Keras 3's functional models); each
        layer inside casts to its own compute dtype."""
        return self.variable_dtype

    def _convert(self, inputs):
        shapes = self._input_batch_shapes
        if isinstance(inputs, dict):
            inputs = {key: Layer._convert(self, value) for key, value in inputs.items()}
            names = getattr(self, "_input_names", None)  # a functional model's: the inputs' keys, in order
            if shapes is None or names is None or len(names) != len(shapes):
                return inputs
            declared = dict(zip(names, shapes))
            return {key: _adjust_rank(x, declared[key]) if key in declared else x for key, x in inputs.items()}
        inputs = Layer._convert(self, inputs)
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
        """The model ``get_config`` described: a functional config rebuilds the graph (for ``Model`` and for
        subclasses made as ``Custom(inputs, outputs)``), any other config is passed to the constructor."""
        from chainrule.keras.models.functional import Functional

        if {"layers", "input_layers", "output_layers"} <= set(config) and _revivable_as_functional(cls):
            return Functional.from_config.__func__(Functional if cls is Model else cls, config, custom_objects)
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            config = {k: v for k, v in config.items() if k in params}
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(f"Unable to revive model from config. When overriding the `get_config()` method, make "
                            f"sure that the returned config contains all items used as arguments in the constructor "
                            f"to {cls}, which is the default behavior. You can override this default behavior by "
                            f"defining a `from_config(cls, config)` class method to specify how to create an instance "
                            f"of {cls.__name__} from its config.\n\nReceived config={config}\n\nError encountered "
                            f"during deserialization: {e}") from e

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON: ``{"class_name": ..., "config": ...}`` (``model_from_json`` reads it back)."""
        return json.dumps(serialize_layer(self), **kwargs)

    # --- files (chainrule.keras.saving) ---------------------------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write the whole model (architecture, weights, optimizer state) to one file (see :mod:`chainrule.keras.saving`)."""
        saving_function("save_model")(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write the weights alone (see :mod:`chainrule.keras.saving`)."""
        saving_function("save_weights")(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, **kwargs) -> None:
        """Read weights written by ``save_weights`` (or ``save``) into this model."""
        saving_function("load_weights")(self, filepath, **kwargs)

    def find_learning_rate(self, x, y=None, **kwargs):
        """The learning-rate range test (an exponential sweep; the weights and optimizer are left as they were):
        returns a LearningRateFinder with ``lrs``, ``losses``, ``suggestion`` and ``plot()``. The arguments
        (start_lr=1e-7, end_lr=10, num_steps=100 or epochs=, batch_size=32, stop_factor=4, smoothing=0.98,
        method='valley') are :func:`chainrule.keras.lr_finder.find_learning_rate`'s."""
        from chainrule.keras.lr_finder import find_learning_rate

        return find_learning_rate(self, x, y, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def functional_init_arguments(args: tuple, kwargs: dict) -> bool:
    """Keras's test for a constructor call that makes a functional model: ``(inputs, outputs)`` positionally, or
    ``inputs``/``outputs`` by keyword."""
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


def _revivable_as_functional(cls: type) -> bool:
    """Whether ``cls(inputs, outputs, name=...)`` makes a functional model (Keras's rule in ``Model.from_config``)."""
    from chainrule.keras.models.functional import Functional

    if cls is Model or issubclass(cls, Functional):
        return True
    spec = inspect.getfullargspec(cls.__init__)
    return spec.args[1:3] == ["inputs", "outputs"] or (spec.varargs is not None and spec.varkw is not None)


# what the graph and the training loop keep on a model, never parts of it (the variables the step updates, ...)
Model._untracked_attributes = Layer._untracked_attributes | {
    "_input_layer", "_graph", "_layer_outputs", "inputs", "outputs", "_nested_inputs", "_nested_outputs", "history",
    "optimizer", "loss", "_compiled", "_train_vars", "_step_records"}


def _defines_build(cls) -> bool:
    """Whether a subclassed model's class has a ``build`` of its own (Model's is the default)."""
    return cls.build is not Model.build


def is_shape_list(shape) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


def _batch_of_one(shape) -> tuple[int, ...]:
    return (1,) + tuple(1 if n is None else int(n) for n in tuple(shape)[1:])


def cast_input(x, dtype):
    """Inputs of integer or boolean dtype become the input layer's float dtype, as Keras converts a model's inputs to
    its Input's dtype (images in uint8; int64 features from pandas or timeseries_dataset_from_array)."""
    if isinstance(x, Tensor) and x.dtype != dtype and x.dtype.kind in "uib" and dtype.kind == "f":
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


def input_spec_for(batch_shape: tuple) -> InputSpec:
    return InputSpec(ndim=len(batch_shape), axes={i: n for i, n in enumerate(batch_shape) if i and n is not None})
