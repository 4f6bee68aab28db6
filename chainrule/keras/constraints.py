"""Weight constraints (``keras.constraints``): projections the optimizer applies to a weight after each update.

A layer's ``kernel_constraint=`` (``bias_constraint``, ``embeddings_constraint``, ...) becomes ``variable.constraint``;
after every ``optimizer.apply`` Keras 3 assigns ``variable.constraint(variable)`` to each variable that was updated.

>>> import chainrule as cr
>>> MaxNorm(max_value=1.0)(cr.constant([[3.0], [4.0]])).numpy().round(4)
array([[0.6],
       [0.8]], dtype=float32)
>>> get("non_neg")
NonNeg()
"""
from __future__ import annotations

import inspect

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize

_EPSILON = 1e-7  # keras.backend.epsilon(): keeps a zero column's norm from dividing by zero


class Constraint(_config.Configurable):
    """Base class: ``__call__(w)`` returns the projected weight (the base class returns ``w`` unchanged)."""

    def __call__(self, w: TensorLike) -> Tensor:
        return w


def _norms(w: Tensor, axis) -> Tensor:
    """The Euclidean norm of ``w`` along ``axis`` (an int or a list of them), keeping the reduced axes."""
    return ops.sqrt(ops.sum(w * w, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescale the weights incident to each unit so that their norm along ``axis`` is at most ``max_value``
    (``axis=0`` for a Dense kernel's columns, ``[0, 1, 2]`` for a Conv2D filter)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: TensorLike) -> Tensor:
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set the negative weights to zero."""

    def __call__(self, w: TensorLike) -> Tensor:
        return ops.maximum(as_tensor(w), 0)


class UnitNorm(Constraint):
    """Divide the weights incident to each unit by their norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w: TensorLike) -> Tensor:
        w = as_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Rescale the weights incident to each unit towards a norm in ``[min_value, max_value]``: the new norm is
    ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm`` (``rate=1`` enforces the bounds at once)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: TensorLike) -> Tensor:
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, self.min_value, self.max_value) * self.rate + norms * (1 - self.rate)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 3 exports the classes under their snake_case names too: keras.constraints.max_norm(2.0) is a MaxNorm
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

ALL_CONSTRAINTS = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
ALIASES = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
           "constraint": Constraint}


def deserialize(config: dict, custom_objects: dict | None = None) -> Constraint:
    """The constraint that :func:`serialize` described (``custom_objects`` maps names of your own classes)."""
    cls, config = _config.resolve(config, {**ALL_CONSTRAINTS, **ALIASES}, "constraint", custom_objects)
    return cls.from_config(config)


def get(identifier):
    """A constraint from a name ('max_norm', 'NonNeg', ...), a config dict, an instance or class, or any callable
    ``f(weight) -> weight`` (returned as is); None gives None."""
    if inspect.isclass(identifier) and not issubclass(identifier, Constraint):
        raise ValueError(f"Could not interpret constraint identifier: {identifier}")
    return _config.lookup(identifier, "constraint", Constraint, {**ALL_CONSTRAINTS, **ALIASES}, deserialize,
                          on_callable=lambda fn: fn)


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]
