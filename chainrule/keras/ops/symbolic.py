"""Functions on symbolic tensors: ``ops.relu(x)`` where ``x`` comes from ``keras.Input`` adds a layer to the functional
model that applies the function to the real tensors later (Keras 3 records an operation in the graph; TF 2 a
``TFOpLambda`` layer), so ops can sit between layers of a functional model.

>>> import numpy as np
>>> from chainrule import keras
>>> from chainrule.keras import ops
>>> x = keras.Input((3,))
>>> y = ops.sum(ops.square(x), axis=-1)
>>> y.shape
(None,)
>>> keras.Model(x, y)(np.full((1, 3), 2.0, "float32")).numpy()
array([12.], dtype=float32)
"""
from __future__ import annotations

import functools
import numbers
import types
from typing import Any, Callable

from chainrule.keras.graph import KerasTensor
from chainrule.keras.layers.base import Layer, holds_symbolic, unique_name
from chainrule.keras.layers.core import Lambda


class _Slot:
    """Where the k-th symbolic input sits among a call's arguments."""

    def __init__(self, index: int):
        self.index = index


def template(value, found: list):
    """``value`` with each KerasTensor replaced by a slot (inside lists, tuples and dicts too), appended to ``found``."""
    if isinstance(value, KerasTensor):
        found.append(value)
        return _Slot(len(found) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(template(v, found) for v in value)
    if isinstance(value, dict):
        return {k: template(v, found) for k, v in value.items()}
    return value


def fill(value, tensors: list):
    """A :func:`template` with its slots filled from ``tensors``."""
    if isinstance(value, _Slot):
        return tensors[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(fill(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: fill(v, tensors) for k, v in value.items()}
    return value


class OpLayer(Lambda):
    """One call of a function in a functional model: the arguments kept, the symbolic ones filled in at each call."""

    def __init__(self, function: Callable, symbol: str, args: tuple = (), kwargs: dict | None = None,
                 **layer_kwargs):
        layer_kwargs.setdefault("name", unique_name(symbol.rsplit(".", 1)[-1]))
        super().__init__(function, **layer_kwargs)
        self.symbol = symbol
        self._args, self._kwargs = args, dict(kwargs or {})

    def call(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return self.function(*fill(self._args, tensors), **fill(self._kwargs, tensors))

    # the namespace whose functions this class's configs name (a subclass for other namespaces resolves its own)
    _namespace_prefix = "keras.ops."

    def get_config(self) -> dict:
        """The function's name and its arguments, the symbolic ones as ``{"__slot__": k}`` (Keras 3 saves the ops of a
        functional model, TF 2 its TFOpLambda layers); arguments other than numbers, strings, None and lists or
        dicts of them cannot be written, and say so."""
        base = {key: value for key, value in Layer.get_config(self).items() if key != "input_shape"}
        try:
            arguments = {"args": _encoded(self._args), "kwargs": _encoded(self._kwargs)}
        except TypeError as error:
            raise NotImplementedError(f"Layer '{self.name}' applies {self.symbol} inside a functional model with an "
                                      f"argument a model config cannot hold ({error}). Save the weights "
                                      f"(save_weights), or wrap the computation in a Layer subclass with get_config") \
                from None
        return {**base, "symbol": self.symbol, **arguments}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "OpLayer":
        config = dict(config)
        symbol = config.pop("symbol")
        function = cls._resolve(symbol)
        args, kwargs = _decoded(config.pop("args", [])), _decoded(config.pop("kwargs", {}))
        return cls._rebuilt(function, symbol, tuple(args), kwargs, config)

    @classmethod
    def _resolve(cls, symbol: str) -> Callable:
        """The function a config names, looked up among this namespace's symbolic-aware functions only (a model file
        never names arbitrary code to run)."""
        from chainrule.keras import ops

        return _named_op(ops, symbol, cls._namespace_prefix)

    @classmethod
    def _rebuilt(cls, function: Callable, symbol: str, args: tuple, kwargs: dict, layer_kwargs: dict) -> "OpLayer":
        return cls(function, symbol, args, kwargs, **layer_kwargs)


def _named_op(root, symbol: str, prefix: str) -> Callable:
    """``root``'s function at the dotted ``symbol`` (which starts with ``prefix``), if it is a symbolic-aware op."""
    if not isinstance(symbol, str) or not symbol.startswith(prefix):
        raise ValueError(f"Cannot rebuild the op {symbol!r} from a model config: expected a name starting {prefix!r}")
    found = root
    for part in symbol[len(prefix):].split("."):
        found = getattr(found, part, None) if not part.startswith("_") else None
    if not callable(found) or not hasattr(found, "__chainrule_op__"):
        raise ValueError(f"Cannot rebuild the op {symbol!r} from a model config: no such function")
    return found.__chainrule_op__


def _encoded(value):
    """A call's argument template as JSON values: slots as ``{"__slot__": k}``, tuples as lists."""
    if isinstance(value, _Slot):
        return {"__slot__": value.index}
    if isinstance(value, (list, tuple)):
        return [_encoded(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value) or "__slot__" in value:
            raise TypeError(f"a dict with keys {list(value)}")
        return {k: _encoded(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):  # NumPy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r}")


def _decoded(value):
    """The inverse of :func:`_encoded` (lists stay lists: the ops take them where tuples were given)."""
    if isinstance(value, dict):
        if set(value) == {"__slot__"}:
            return _Slot(int(value["__slot__"]))
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def symbolic_aware(fn: Callable, symbol: str, layer_class: type = OpLayer) -> Callable:
    """``fn`` that, given a KerasTensor among its arguments, adds a ``layer_class`` layer instead of computing."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not (holds_symbolic(args) or kwargs and holds_symbolic(kwargs)):
            return fn(*args, **kwargs)
        found: list[KerasTensor] = []
        args_t, kwargs_t = template(args, found), template(kwargs, found)
        layer = layer_class(fn, symbol, args_t, kwargs_t)
        return layer(found[0] if len(found) == 1 else found)

    wrapper.__chainrule_op__ = fn  # the function itself: keras.activations.get takes it, wrap_namespace skips it
    return wrapper


# functions that answer from the static shape, run Python control flow or make no tensor from their arguments
_PLAIN = frozenset({"shape", "dtype", "ndim", "is_tensor", "convert_to_numpy", "standardize_dtype", "cond", "switch",
                    "fori_loop", "while_loop", "scan", "map", "vectorized_map", "custom_gradient",
                    "associative_scan", "vectorize", "jvp"})


def wrap_namespace(namespace: dict[str, Any], names, prefix: str) -> None:
    """Replace each listed function of a module's namespace by its symbolic-aware wrapper."""
    for name in names:
        value = namespace.get(name)
        if name in _PLAIN or not isinstance(value, types.FunctionType) or hasattr(value, "__chainrule_op__"):
            continue
        namespace[name] = symbolic_aware(value, f"{prefix}{name}")
