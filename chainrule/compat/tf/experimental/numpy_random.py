"""``tnp.random`` (``tf.experimental.numpy.random``): NumPy's random functions returning tensors, drawn from
chainrule's random state (``tf.random.set_seed`` or ``tnp.random.seed`` make them repeatable). As in TensorFlow
NumPy, floats are float64 unless ``tnp.experimental_enable_numpy_behavior(prefer_float32=True)``.

>>> import chainrule.experimental.numpy as tnp
>>> tnp.random.seed(1)
>>> x = tnp.random.randn(2, 3)
>>> tuple(x.shape), x.dtype
((2, 3), dtype('float64'))
>>> int(tnp.random.randint(3, 4))
3
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chainrule.compat.tf.random import set_seed
from chainrule.engine.tensor import Tensor
from chainrule.keras import random as keras_random

_prefer = {"float32": False}  # set by tnp.experimental_enable_numpy_behavior(prefer_float32=...)


def _float() -> str:
    return "float32" if _prefer["float32"] else "float64"


def _size(size) -> tuple[int, ...]:
    if size is None:
        return ()
    return (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)


def seed(s: int) -> None:
    """Make the draws that follow repeatable (``np.random.seed``)."""
    set_seed(int(s))


def randn(*args: int) -> Tensor:
    """Standard normal samples of shape ``args`` (``np.random.randn(2, 3)``)."""
    return keras_random.normal(_size(args), dtype=_float())


def standard_normal(size: int | Sequence[int] | None = None) -> Tensor:
    """Standard normal samples of shape ``size``."""
    return keras_random.normal(_size(size), dtype=_float())


def rand(*size: int) -> Tensor:
    """Uniform samples on [0, 1) of shape ``size`` (``np.random.rand(2, 3)``)."""
    return keras_random.uniform(_size(size), dtype=_float())


def random(size: int | Sequence[int] | None = None) -> Tensor:
    """Uniform samples on [0, 1) of shape ``size``."""
    return keras_random.uniform(_size(size), dtype=_float())


def uniform(low: float = 0.0, high: float = 1.0, size: int | Sequence[int] | None = None) -> Tensor:
    """Uniform samples on [low, high) of shape ``size``."""
    return keras_random.uniform(_size(size), minval=low, maxval=high, dtype=_float())


def randint(low: int, high: int | None = None, size: int | Sequence[int] | None = None, dtype=np.int64) -> Tensor:
    """Integers drawn uniformly from [low, high) (from [0, low) when ``high`` is None)."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: low >= high ({low} >= {high})")
    return keras_random.randint(_size(size), low, high, dtype=np.dtype(dtype).name)


__all__ = ["rand", "randint", "randn", "random", "seed", "standard_normal", "uniform"]
