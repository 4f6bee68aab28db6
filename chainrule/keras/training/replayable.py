"""Which models' training steps ``fit`` may record and replay (chainrule/engine/tracer.py): those whose every part
does all its work in ops."""
from __future__ import annotations

import functools
import types


@functools.cache
def _pure_layer_types() -> frozenset:
    """chainrule's layers whose whole work is ops (no random draws, no state updated outside ops)."""
    from chainrule.keras import models
    from chainrule.keras.layers import activations, conv, core, merge, norm, pool

    return frozenset({
        models.Sequential, models.Functional, core.InputLayer, core.Dense, core.Dropout, core.Activation, core.Flatten,
        core.Reshape, core.Rescaling, norm.BatchNormalization, conv.Conv2D, pool.MaxPooling2D, pool.AveragePooling2D,
        pool.GlobalAveragePooling2D, pool.GlobalMaxPooling2D, pool.GlobalAveragePooling1D, pool.GlobalMaxPooling1D,
        activations.ReLU, activations.LeakyReLU, activations.ELU, activations.Softmax, merge.Add, merge.Subtract,
        merge.Multiply, merge.Average, merge.Maximum, merge.Minimum, merge.Concatenate})


def _ours(obj) -> bool:
    """Whether a function or class, or the class of an object, comes from chainrule itself (not the user's code)."""
    module = obj.__module__ if isinstance(obj, (types.FunctionType, type)) else type(obj).__module__
    return module.startswith("chainrule.")


def why_not_replayable(model) -> str | None:
    """None when every part of ``model``'s training step is known to do all its work in ops; else the reason."""
    if type(model) not in _pure_layer_types():
        return f"{type(model).__name__} is not a Sequential or functional model"
    if model._custom("compute_loss"):
        return "the model defines its own compute_loss"
    for layer in model._flat_layers():
        if type(layer) not in _pure_layer_types():
            return f"layer {layer.name} ({type(layer).__name__}) may work outside ops"
        if layer.activity_regularizer is not None:
            return f"layer {layer.name} has an activity regularizer"
        activation = getattr(layer, "activation", None)
        if activation is not None and not _ours(activation):
            return f"layer {layer.name} has its own activation function"
        if not all(_ours(reg) for _, reg in layer._regularized):
            return f"layer {layer.name} has its own regularizer"
    if model._compiled_loss is None:
        return "the model has no loss"
    for loss in model._compiled_loss.losses:
        fn = getattr(loss, "fn", None)
        if loss is not None and not (_ours(loss) and (fn is None or _ours(fn))):
            return f"the loss {loss!r} is the user's own"
    return None
