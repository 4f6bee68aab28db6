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

import types
from typing import Any, Callable

from chainrule.keras.layers.base import unique_name
from chainrule.keras.ops.symbolic import OpLayer, _named_op
from chainrule.keras.ops.symbolic import symbolic_aware as _symbolic_aware


class TFOpLambda(OpLayer):
    """One call of a TensorFlow function in a functional model, named like TF 2 names it ('tf.math.square'); saved
    with the model as TF 2 saves it, by the function's name (only side-effect-free namespaces are rebuilt)."""

    _namespace_prefix = "tf."

    def __init__(self, function: Callable, symbol: str, args: tuple = (), kwargs: dict | None = None, **layer_kwargs):
        layer_kwargs.setdefault("name", unique_name(f"tf.{symbol}"))
        super().__init__(function, f"tf.{symbol}", args, kwargs, **layer_kwargs)

    @classmethod
    def _resolve(cls, symbol: str) -> Callable:
        import chainrule

        namespace = symbol[len("tf."):].split(".")[0] if symbol.count(".") > 1 else ""
        if namespace not in _REBUILT_NAMESPACES:
            raise ValueError(f"Cannot rebuild the op {symbol!r} from a model config: tf.{namespace} functions are not "
                             f"rebuilt from files")
        return _named_op(chainrule, symbol, "tf.")

    @classmethod
    def _rebuilt(cls, function, symbol: str, args: tuple, kwargs: dict, layer_kwargs: dict) -> "TFOpLambda":
        return cls(function, symbol[len("tf."):], args, kwargs, **layer_kwargs)


# the namespaces of pure tensor functions a saved model may name ("" is tf's top level: tf.concat, tf.square, ...)
_REBUILT_NAMESPACES = frozenset({"", "math", "nn", "linalg", "image", "signal", "strings", "sparse", "ragged",
                                 "bitwise", "dtypes", "random"})


def symbolic_aware(fn: Callable, symbol: str) -> Callable:
    """``fn`` that, given a KerasTensor anywhere in its arguments, adds a TFOpLambda layer instead of computing."""
    return _symbolic_aware(fn, symbol, TFOpLambda)


# names that take no tensors, manage state or are the machinery itself: never wrapped
_PLAIN = frozenset({"function", "grad", "no_grad", "enable_grad", "print", "is_tensor", "set_seed", "zeros", "ones",
                    "fill", "range"})


def wrap_namespace(namespace: dict[str, Any], prefix: str) -> None:
    """Replace each public function of a ``tf`` namespace (a module's dict) by its symbolic-aware wrapper."""
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in _PLAIN or not isinstance(value, types.FunctionType):
            continue
        namespace[name] = symbolic_aware(value, f"{prefix}{name}")
