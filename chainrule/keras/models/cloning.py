"""``keras.models.clone_model``: the same architecture with new layers, hence new weights (Keras 3's
``keras/src/models/cloning.py``).

A Sequential model is rebuilt from its layers' clones; a functional one by calling each layer's clone on the new
inputs in the order of the original graph (a layer used twice is cloned once and used twice); any other model from
its config. ``clone_function(layer)`` makes each clone (by default ``layer.__class__.from_config(layer.get_config())``),
``call_function(layer, *args, **kwargs)`` makes each call of a functional model, and ``recursive=True`` clones the
models nested inside with the same functions. As in Keras, the clone of a compiled Sequential model is compiled
alike (a new optimizer of the same config, new metric objects).

>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> clone = clone_model(model)
>>> clone.layers[0] is model.layers[0], clone.output_shape
(False, (None, 2))
"""
from __future__ import annotations

from typing import Callable

from chainrule.keras.graph import KerasTensor
from chainrule.keras.layers.base import Layer
from chainrule.keras.models.functional import Functional
from chainrule.keras.models.sequential import Sequential
from chainrule.keras.models.serialization import deserialize_layer, serialize_layer
from chainrule.utils import tree


def clone_model(model, input_tensors=None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False, **kwargs):
    """A copy of a Sequential or functional ``model`` made of new layers (new weights); see the module's note."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(f"`call_function` argument is not supported with Sequential models.  In a Sequential "
                             f"model, layers aren't called at model-construction time (they're merely listed). Use "
                             f"`call_function` with Functional models only. Received model of type "
                             f"'{type(model).__name__}', with call_function={call_function}")
        clone = _wrap_clone_function(clone_function, None, recursive, cache)
        return _clone_sequential_model(model, clone, input_tensors)
    if isinstance(model, Functional) and (type(model).get_config is Functional.get_config
                                          or clone_function or input_tensors):
        clone = _wrap_clone_function(clone_function, call_function, recursive, cache)
        return _clone_functional_model(model, clone, input_tensors, call_function)
    if clone_function or input_tensors:
        raise ValueError(f"Arguments `clone_function` and `input_tensors` are only supported for Sequential models or "
                         f"Functional models. Received model of type '{type(model).__name__}', with "
                         f"clone_function={clone_function} and input_tensors={input_tensors}")
    if call_function is not None:
        raise ValueError(f"Argument `call_function` is only supported for Functional models. Received model of type "
                         f"'{type(model).__name__}', with call_function={call_function}")
    return deserialize_layer(serialize_layer(model), custom_objects={type(model).__name__: type(model)})


def _clone_layer(layer: Layer) -> Layer:
    return layer.__class__.from_config(layer.get_config())


def _wrap_clone_function(clone_function, call_function, recursive: bool, cache: dict | None) -> Callable:
    """``clone_function`` (or the config round trip) made once per layer, going into nested models when
    ``recursive``."""
    clone_function = clone_function or _clone_layer
    if not callable(clone_function):
        raise ValueError(f"Expected `clone_function` argument to be a callable. Received: "
                         f"clone_function={clone_function}")
    cache = {} if cache is None else cache

    def wrapped(layer):
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and isinstance(layer, (Sequential, Functional)):
            call = call_function if isinstance(layer, Functional) else None
            made = clone_model(layer, clone_function=clone_function, call_function=call, recursive=True, cache=cache)
        else:
            made = clone_function(layer)
        cache[id(layer)] = made
        return made
    return wrapped


def _new_input(like: KerasTensor) -> KerasTensor:
    from chainrule.keras.layers.core import Input

    return Input(batch_shape=like.shape, dtype=like.dtype, name=like.node.layer.name)


def _clone_sequential_model(model: Sequential, clone: Callable, input_tensors=None) -> Sequential:
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(f"Argument `input_tensors` must be a KerasTensor. Received invalid value: "
                             f"input_tensors={input_tensors}")
        layers = [input_tensors] + layers
    elif model._input_layer is not None:
        layer = model._input_layer
        layers = [_new_input(layer.output)] + layers
    cloned = Sequential(layers, name=model.name, trainable=model.trainable)
    if getattr(model, "compiled", False):
        _compile_like(cloned, model)
    return cloned


def _clone_functional_model(model: Functional, clone: Callable, input_tensors=None,
                            call_function: Callable | None = None) -> Functional:
    if input_tensors is not None:
        if not all(isinstance(x, KerasTensor) for x in tree.flatten(input_tensors)):
            raise ValueError(f"All entries in `input_tensors` must be KerasTensors. Received invalid values: "
                             f"inputs_tensors={input_tensors}")
        try:
            tree.assert_same_structure(input_tensors, model.input)
        except ValueError as error:
            raise ValueError(f"`input_tensors` must have the same structure as model.input\nReference structure: "
                             f"{model.input}\nReceived structure: {input_tensors}") from error
    else:
        input_tensors = tree.map_structure(_new_input, model.input)
    new_of = {id(old): new for old, new in zip(tree.flatten(model.input), tree.flatten(input_tensors))}

    def renewed(value):
        return new_of[id(value)] if isinstance(value, KerasTensor) else value

    for node in model._graph.nodes:
        if type(node.layer).__name__ == "InputLayer":
            continue
        layer = clone(node.layer)
        args = tree.map_structure(renewed, list(node.args))
        kwargs = tree.map_structure(renewed, dict(node.kwargs))
        out = call_function(layer, *args, **kwargs) if call_function else layer(*args, **kwargs)
        new_of.update({id(old): new for old, new in zip(node.outputs, tree.flatten(out))})
    outputs = tree.map_structure(renewed, model.output)
    cls = type(model) if type(model).__init__ is Functional.__init__ else Functional
    cloned = cls(input_tensors, outputs, name=model.name)
    losses = getattr(model, "_symbolic_losses", None)
    if losses:
        cloned.add_loss([renewed(t) for t in losses])
    return cloned


def _compile_like(clone, model) -> None:
    """Compile ``clone`` as ``model`` was: an optimizer of the same config, the same losses and loss weights, new
    metric objects of the same configs."""
    from chainrule.keras import optimizers
    from chainrule.keras.configurable import serialize
    from chainrule.keras.metrics import Metric

    def fresh(spec):
        return tree.map_structure(lambda m: type(m).from_config(m.get_config()) if isinstance(m, Metric) else m,
                                  spec)

    metrics, loss = model._compiled_metrics, model._compiled_loss
    clone.compile(optimizer=optimizers.deserialize(serialize(model.optimizer)), loss=model.loss,
                  loss_weights=None if loss is None else list(loss.weights), metrics=fresh(metrics.spec),
                  weighted_metrics=fresh(metrics.weighted_spec), run_eagerly=model.run_eagerly)


__all__ = ["clone_model"]
