"""Weight penalties (``keras.regularizers``): ``reg(weight) -> scalar Tensor`` added to the training loss.

Keras's factors are not halved: ``L2(0.01)`` adds ``0.01 * sum(w²)``. The penalty is built from chainrule ops, so it
is differentiable with respect to the weight.

>>> import chainrule as cr
>>> w = cr.Variable([1.0, -2.0])
>>> round(float(L1L2(l1=0.1, l2=0.01)(w)), 6)
0.35
"""
from __future__ import annotations

import math

from chainrule import backend, ops
from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def _factor(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: `{name}` must be a finite non-negative number, got {name}={value!r}")
    return float(value)


class Regularizer(_config.Configurable):
    """Base class: subclasses define ``__call__(x) -> scalar Tensor`` and ``get_config``."""

    def __call__(self, x: TensorLike) -> Tensor:
        return as_tensor(0.0)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x²)``; both factors default to 0 (the string 'l1_l2' gives 0.01 each)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", type(self).__name__)
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", type(self).__name__)

    def __call__(self, x: TensorLike) -> Tensor:
        x = as_tensor(x)
        penalty = None
        if self.l1:
            penalty = ops.sum(ops.abs(x)) * self.l1
        if self.l2:
            l2 = ops.sum(x * x) * self.l2
            penalty = l2 if penalty is None else penalty + l2
        return penalty if penalty is not None else Tensor._wrap(backend.xp.zeros((), x.dtype))

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x²)``."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """``L1L2`` with both factors 0.01 by default (what the string 'l1_l2' means)."""
    return L1L2(l1=l1, l2=l2)


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode='rows'``) or columns (``'columns'``) of a 2-D weight towards orthogonality:
    ``factor * 0.5 * sum |cosine similarity of each distinct pair| / number of pairs``, the vectors L2-normalised.

    >>> import chainrule as cr
    >>> round(float(OrthogonalRegularizer(factor=1.0)(cr.constant([[1.0, 0.0], [1.0, 1.0]]))), 4)
    0.7071
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. "
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, x: TensorLike) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        vectors = x if self.mode == "rows" else ops.transpose(x)
        unit = vectors / ops.sqrt(ops.maximum(ops.sum(vectors * vectors, axis=1, keepdims=True), 1e-12))
        size = unit.shape[0]
        if size < 2:  # no pair to compare
            return Tensor._wrap(backend.xp.zeros((), x.dtype))
        off_diagonal = 1.0 - backend.xp.eye(size, dtype=x.dtype)
        similarity = ops.abs(ops.matmul(unit, ops.transpose(unit)) * off_diagonal)
        return ops.sum(similarity) * (self.factor * 0.5 / (size * (size - 1) / 2.0))

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


l1, l2 = L1, L2  # keras.regularizers.l2(0.01) is the class
orthogonal_regularizer = OrthogonalRegularizer

ALL_REGULARIZERS = {"Regularizer": Regularizer, "L1L2": L1L2, "L1": L1, "L2": L2,
                    "OrthogonalRegularizer": OrthogonalRegularizer}
ALIASES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "orthogonal_regularizer": OrthogonalRegularizer}


def deserialize(config: dict, custom_objects: dict | None = None) -> Regularizer:
    cls, config = _config.resolve(config, ALL_REGULARIZERS, "regularizer", custom_objects)
    return cls.from_config(config)


def get(identifier):
    """A regularizer from a name ('l1', 'l2', 'l1_l2', 'L2'), a config dict, an instance, or any callable
    ``f(weight) -> scalar`` (returned as is). None gives None."""
    return _config.lookup(identifier, "regularizer", Regularizer, {**ALL_REGULARIZERS, **ALIASES}, deserialize,
                          on_callable=lambda fn: fn)
