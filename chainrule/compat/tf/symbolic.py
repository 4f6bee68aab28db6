"""TensorFlow functions on symbolic inputs: ``tf.square(x)`` where ``x`` comes from ``keras.Input`` adds a layer to
the functional model (TF 2's ``TFOpLambda``), so Keras 2-era programs that put ``tf`` functions between layers run.

>>> import numpy as np
>>> import chainrule as tf
>>> x = tf.keras.Input((3,))
>>> model = tf.keras.Model(x, tf.reduce_sum(tf.square(x), axis=-1))
>>> model(np.full((1, 3), 2.0, "float32")).numpy()
array([12.], dtype=float32)
"""
from __future__ import annotations

import functools
import types
from typing import Any, Callable

from chainrule.keras.graph import KerasTensor
from chainrule.keras.layers.base import unique_name
from chainrule.keras.layers.core import Lambda


class _Slot:
    """Where the k-th symbolic input sits among a call's arguments."""

    def __init__(self, index: int):
        self.index = index


def _template(value, found: list):
    """``value`` with each KerasTensor replaced by a _Slot (one level of lists, tuples and dicts, as TF's ops take)."""
    if isinstance(value, KerasTensor):
        found.append(value)
        return _Slot(len(found) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_template(v, found) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, found) for k, v in value.items()}
    return value


def _fill(value, tensors: list):
    if isinstance(value, _Slot):
        return tensors[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _fill(v, tensors) for k, v in value.items()}
    return value


def _holds_symbolic(args: tuple, kwargs: dict) -> bool:
    for value in (*args, *kwargs.values()):
        if isinstance(value, KerasTensor):
            return True
        if isinstance(value, (list, tuple)) and any(isinstance(v, KerasTensor) for v in value):
            return True
    return False


class TFOpLambda(Lambda):
    """One call of a TensorFlow function in a functional model, named like TF 2 names it ('tf.math.square')."""

    def __init__(self, function: Callable, symbol: str, args: tuple = (), kwargs: dict | None = None, **layer_kwargs):
        layer_kwargs.setdefault("name", unique_name(f"tf.{symbol}"))
        super().__init__(function, **layer_kwargs)
        self.symbol = symbol
        self._args, self._kwargs = args, dict(kwargs or {})

    def call(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return self.function(*_fill(self._args, tensors), **_fill(self._kwargs, tensors))

    def get_config(self) -> dict:
        raise NotImplementedError(f"Layer '{self.name}' applies tf.{self.symbol} inside a functional model; its "
                                  f"arguments are not saved in a model config. Save the weights (save_weights), or "
                                  f"wrap the computation in a Layer subclass with get_config")


def symbolic_aware(fn: Callable, symbol: str) -> Callable:
    """``fn`` that, given a KerasTensor anywhere in its arguments, adds a TFOpLambda layer instead of computing."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _holds_symbolic(args, kwargs):
            return fn(*args, **kwargs)
        found: list[KerasTensor] = []
        args_t, kwargs_t = _template(args, found), _template(kwargs, found)
        layer = TFOpLambda(fn, symbol, args_t, kwargs_t)
        return layer(found[0] if len(found) == 1 else found)

    wrapper.__chainrule_op__ = fn  # what keras.activations.get takes it for
    return wrapper


# names that take no tensors, manage state or are the machinery itself: never wrapped
_PLAIN = frozenset({"function", "grad", "no_grad", "enable_grad", "print", "is_tensor", "set_seed", "zeros", "ones",
                    "fill", "range"})


def wrap_namespace(namespace: dict[str, Any], prefix: str) -> None:
    """Replace each public function of a ``tf`` namespace (a module's dict) by its symbolic-aware wrapper."""
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in _PLAIN or not isinstance(value, types.FunctionType):
            continue
        namespace[name] = symbolic_aware(value, f"{prefix}{name}")
