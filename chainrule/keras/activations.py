"""Activation functions by name, as ``keras.activations``: ``get('relu')``, ``serialize(fn) -> 'relu'``.

Each activation is one op or a few differentiable ops, so layers stay fast and gradients of every order work.
``softmax`` is the :class:`chainrule.ops.activation.Softmax` op itself: the losses recognise it and fuse
cross-entropy stably.

>>> import chainrule as cr
>>> from chainrule import activations
>>> activations.get("relu")(cr.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
>>> activations.serialize(activations.get(None))
'linear'
"""
from __future__ import annotations

import functools
from typing import Callable

from chainrule import ops
from chainrule.ops.activation import Relu
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def relu(x: TensorLike, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """``max(x, 0)``; with options: ``negative_slope * (x - threshold)`` below ``threshold``, capped at ``max_value``."""
    x = as_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return Relu.apply(x)
    if threshold == 0.0:
        y = Relu.apply(x) if negative_slope == 0.0 else ops.leaky_relu(x, negative_slope)
    else:
        y = ops.where(x.data >= threshold, x, (x - threshold) * negative_slope)
    return y if max_value is None else ops.minimum(y, float(max_value))


def relu6(x: TensorLike) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return ops.minimum(ops.relu(x), 6.0)


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere (Keras's default slope 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return ops.elu(x, alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(x: TensorLike) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al."""
    return ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def gelu(x: TensorLike, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit ``x * Φ(x)`` (exact by default, as Keras 3)."""
    return ops.gelu(x, approximate)


def sigmoid(x: TensorLike) -> Tensor:
    return ops.sigmoid(x)


def tanh(x: TensorLike) -> Tensor:
    return ops.tanh(x)


def softplus(x: TensorLike) -> Tensor:
    """``log(1 + exp(x))``, stable."""
    return ops.softplus(x)


def softsign(x: TensorLike) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return x / (ops.abs(x) + 1.0)


def silu(x: TensorLike) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = as_tensor(x)
    return x * ops.sigmoid(x)


def hard_sigmoid(x: TensorLike) -> Tensor:
    """``relu6(x + 3) / 6``, as Keras 3."""
    return relu6(as_tensor(x) + 3.0) * (1.0 / 6.0)


def hard_silu(x: TensorLike) -> Tensor:
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    x = as_tensor(x)
    return x * hard_sigmoid(x)


def mish(x: TensorLike) -> Tensor:
    """``x * tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * ops.tanh(ops.softplus(x))


def exponential(x: TensorLike) -> Tensor:
    return ops.exp(x)


def log_sigmoid(x: TensorLike) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable."""
    return -ops.softplus(-as_tensor(x))


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """Probabilities along ``axis``: the Softmax op, which the cross-entropy losses fuse with."""
    return ops.softmax(x, axis)


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    return ops.log_softmax(x, axis)


def linear(x: TensorLike) -> Tensor:
    """The identity (what ``activation=None`` means)."""
    return as_tensor(x)


def _nn():
    """keras.ops.nn, imported when first needed (it imports the losses, which need this module)."""
    from chainrule.keras.ops import nn

    return nn


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``."""
    return _nn().celu(x, alpha)


def glu(x: TensorLike, axis: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves a, b of ``x`` along ``axis``."""
    return _nn().glu(x, axis)


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return _nn().hard_shrink(x, threshold)


def hard_tanh(x: TensorLike) -> Tensor:
    """``clip(x, -1, 1)``."""
    return _nn().hard_tanh(x)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` moved ``threshold`` towards 0, and 0 within ``threshold`` of it."""
    return _nn().soft_shrink(x, threshold)


def sparse_plus(x: TensorLike) -> Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)² / 4`` between."""
    return _nn().sparse_plus(x)


def sparse_sigmoid(x: TensorLike) -> Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    return _nn().sparse_sigmoid(x)


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The projection onto the probability simplex along ``axis`` (a softmax with exact zeros)."""
    return _nn().sparsemax(x, axis)


def squareplus(x: TensorLike, b: float = 4) -> Tensor:
    """``(x + sqrt(x² + b)) / 2``."""
    return _nn().squareplus(x, b)


def tanh_shrink(x: TensorLike) -> Tensor:
    """``x - tanh(x)``."""
    return _nn().tanh_shrink(x)


def threshold(x: TensorLike, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _nn().threshold(x, threshold, default_value)


_BY_NAME: dict[str, Callable] = {f.__name__: f for f in (
    relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, tanh, softplus, softsign, silu, hard_sigmoid, hard_silu,
    mish, exponential, log_sigmoid, softmax, log_softmax, linear, celu, glu, hard_shrink, hard_tanh, soft_shrink,
    sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
# the plain ops (``tf.nn.relu`` is ``chainrule.ops.relu``) serialize under their activation's name
_OP_NAMES = {ops.relu: "relu", ops.sigmoid: "sigmoid", ops.tanh: "tanh", ops.softplus: "softplus",
             ops.softmax: "softmax", ops.log_softmax: "log_softmax", ops.elu: "elu", ops.gelu: "gelu",
             ops.leaky_relu: "leaky_relu", ops.exp: "exponential"}


def get(identifier) -> Callable:
    """An activation function from a name ('relu'), a serialized dict, a callable (returned as is), or None."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):  # Keras's {"class_name": "function", "config": "relu", ...}
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name not in _BY_NAME:
            from chainrule.keras.saving.object_registration import get_registered_object

            registered = get_registered_object(identifier)  # your own, registered or in a custom_object_scope
            if callable(registered):
                return registered
            raise ValueError(f"Unknown activation {identifier!r}; known: {sorted(set(_BY_NAME) | set(_ALIASES))}")
        return _BY_NAME[name]
    if callable(identifier):
        if identifier in _PUBLIC:
            return identifier
        # tf.nn.relu and the other tf functions are the ops behind a wrapper for symbolic inputs: take the op itself,
        # so fusion and serialization recognise it
        return getattr(identifier, "__chainrule_op__", identifier)
    raise TypeError(f"Could not interpret activation identifier {identifier!r}: give a name, a callable or None")


def serialize(activation: Callable | None) -> str:
    """The name ``get`` turns back into ``activation`` ('linear' for None)."""
    if activation is None:
        return "linear"
    if _BY_NAME.get(getattr(activation, "__name__", None)) is activation:
        return activation.__name__
    activation = getattr(activation, "__chainrule_op__", activation)
    if activation in _OP_NAMES:
        return _OP_NAMES[activation]
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {activation!r}: it has no name")
    from chainrule.keras.saving.object_registration import get_registered_name

    return get_registered_name(activation)  # "package>name" for a registered function


def deserialize(name, custom_objects: dict | None = None) -> Callable:
    if custom_objects and isinstance(name, str) and name in custom_objects:
        return custom_objects[name]
    return get(name)


def _symbolic_aware(fn: Callable) -> Callable:
    """``fn`` that, called on a KerasTensor, adds a layer applying it to a functional model (Keras 3's
    ``keras.activations.sigmoid(logits) * 5`` between layers)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from chainrule.keras.layers.base import holds_symbolic  # imported here: the layers import this module

        if holds_symbolic(args) or kwargs and holds_symbolic(kwargs):
            from chainrule.keras.ops.symbolic import symbolic_aware

            return symbolic_aware(fn, f"keras.activations.{fn.__name__}")(*args, **kwargs)
        return fn(*args, **kwargs)

    wrapper.__chainrule_op__ = fn
    return wrapper


# the public names (what get() returns and serialize() names) take symbolic tensors too
_BY_NAME = {name: _symbolic_aware(fn) for name, fn in _BY_NAME.items()}
_PUBLIC = frozenset(_BY_NAME.values())
globals().update(_BY_NAME)
__all__ = sorted(_BY_NAME) + ["swish", "hard_swish", "get", "serialize", "deserialize"]
swish, hard_swish = silu, hard_silu
