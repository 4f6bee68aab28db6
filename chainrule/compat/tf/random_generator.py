"""``tf.random.Generator`` (a random-number generator object with its own state: ``from_seed``,
``from_non_deterministic_state``, ``make_seeds`` for the stateless draws, ``normal``, ``uniform``,
``truncated_normal``) and ``tf.random.split`` (new stateless seeds from one).

A Generator's draws repeat for the same seed; its values differ from TensorFlow's Philox streams (another
algorithm), their distributions do not. ``tf.random.split`` derives ``num`` seeds of shape [2] from a seed, the same
each time for the same seed.

>>> import chainrule as tf
>>> g = tf.random.Generator.from_seed(123, alg="philox")
>>> seeds = g.make_seeds(2)
>>> seeds.shape, seeds.dtype
(TensorShape([2, 2]), dtype('int64'))
>>> bool((tf.random.split([1, 2], num=3).numpy() == tf.random.split([1, 2], num=3).numpy()).all())
True
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, as_tensor

_ALGORITHMS = ("philox", "threefry", "auto_select", 1, 2, 3)


def _seed_pair(seed, fn: str) -> np.ndarray:
    pair = np.asarray(as_tensor(seed).data if isinstance(seed, Tensor) else seed)
    if pair.shape != (2,) or pair.dtype.kind not in "iu":
        raise ValueError(f"tf.random.{fn}: `seed` must be a shape [2] integer Tensor (two ints), got {seed!r}")
    return pair.astype(np.int64)


def _wrap(values: np.ndarray) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(values))


@replayed
def split(seed, num: int = 2, alg="auto_select") -> Tensor:
    """``num`` new seeds (an int64 tensor of shape [num, 2]) derived from ``seed`` (two ints), the same each time."""
    rng = np.random.default_rng(_seed_pair(seed, "split") % 2**32)
    return _wrap(rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (int(num), 2), dtype=np.int64,
                              endpoint=True))


class Generator:
    """TensorFlow's random-number generator object: each draw moves its state on, so the next differs."""

    def __init__(self, copy_from: "Generator | None" = None, state=None, alg="auto_select"):
        if alg not in _ALGORITHMS:
            raise ValueError(f"tf.random.Generator: unsupported algorithm {alg!r} (expected 'philox', 'threefry' or "
                             f"'auto_select')")
        self.algorithm = alg
        if copy_from is not None:
            self._rng = np.random.default_rng()
            self._rng.bit_generator.state = copy_from._rng.bit_generator.state
        else:
            self._rng = np.random.default_rng(None if state is None else np.asarray(state, np.uint64) % 2**63)

    @classmethod
    def from_seed(cls, seed: int, alg="auto_select") -> "Generator":
        """A generator whose draws repeat for the same ``seed``."""
        return cls(state=[int(seed)], alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg="auto_select") -> "Generator":
        """A generator seeded from the operating system's entropy."""
        return cls(alg=alg)

    def reset_from_seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(np.asarray([int(seed)], np.uint64) % 2**63)

    @replayed
    def make_seeds(self, count: int = 1) -> Tensor:
        """``count`` seeds for the stateless draws, as an int64 tensor of shape [2, count] (a seed per column)."""
        return _wrap(self._rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (2, int(count)),
                                        dtype=np.int64, endpoint=True))

    @replayed
    def normal(self, shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        return _wrap((self._rng.standard_normal(tuple(shape)) * stddev + mean).astype(backend.as_dtype(dtype)))

    @replayed
    def uniform(self, shape: Sequence[int], minval=0, maxval=None, dtype="float32", name=None) -> Tensor:
        kind = backend.as_dtype(dtype)
        if kind.kind in "iu":
            if maxval is None:
                raise ValueError("tf.random.Generator.uniform: `maxval` must be given for an integer dtype")
            return _wrap(self._rng.integers(minval, maxval, tuple(shape)).astype(kind))
        high = 1.0 if maxval is None else maxval
        return _wrap(self._rng.uniform(minval, high, tuple(shape)).astype(kind))

    @replayed
    def truncated_normal(self, shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        values = self._rng.standard_normal(tuple(shape))
        outside = np.abs(values) > 2.0
        while outside.any():  # draw again where a value is more than two standard deviations out
            values[outside] = self._rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        return _wrap((values * stddev + mean).astype(backend.as_dtype(dtype)))


__all__ = ["Generator", "split"]
