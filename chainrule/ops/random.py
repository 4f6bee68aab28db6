"""Random tensors: draws from chainrule's seeded generator (or a per-call seed); ``tf.random`` and
``keras.backend.random_normal`` are these.

>>> import chainrule as tf
>>> tf.random.normal((2, 3), seed=0).shape
TensorShape([2, 3])
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.ops.creation import _dtype, _shape
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor


def _generator(seed: int | None) -> np.random.Generator:
    return backend.rng() if seed is None else backend.op_rng(seed)


@replayed  # a traced step draws anew on each replay
def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> Tensor:
    return Tensor._wrap(backend.to_device(_generator(seed).normal(mean, stddev, _shape(shape)).astype(_dtype(dtype))))


@replayed  # a traced step draws anew on each replay
def uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None) -> Tensor:
    return Tensor._wrap(backend.to_device(_generator(seed).uniform(minval, maxval, _shape(shape)).astype(
        _dtype(dtype))))


def set_seed(seed: int) -> None:
    """Reseed the generator behind initializers, dropout and shuffling."""
    backend.set_seed(seed)
