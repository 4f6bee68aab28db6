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
from chainrule.compat.tf.module import Module
from chainrule.engine.tensor import Tensor, Variable, as_tensor

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


_MASK = (1 << 64) - 1


def _state_words(rng: np.random.Generator) -> np.ndarray:
    """A PCG64 generator's whole state as six int64 words (its 128-bit state and increment, the buffered half)."""
    state = rng.bit_generator.state
    s, inc = state["state"]["state"], state["state"]["inc"]
    words = [s >> 64, s & _MASK, inc >> 64, inc & _MASK, state["has_uint32"], state["uinteger"]]
    return np.array(words, dtype=np.uint64).view(np.int64)


def _set_state_words(rng: np.random.Generator, words: np.ndarray) -> None:
    w = [int(x) for x in np.asarray(words, np.int64).view(np.uint64)]
    rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1],
                                                                  "inc": (w[2] << 64) | w[3]},
                               "has_uint32": w[4], "uinteger": w[5]}


class Generator(Module):
    """TensorFlow's random-number generator object: each draw moves its state on, so the next differs. Its state
    is the int64 Variable ``state`` (a tf.Module, so tf.train.Checkpoint saves and restores it with the rest)."""

    def __init__(self, copy_from: "Generator | None" = None, state=None, alg="auto_select"):
        if alg not in _ALGORITHMS:
            raise ValueError(f"tf.random.Generator: unsupported algorithm {alg!r} (expected 'philox', 'threefry' or "
                             f"'auto_select')")
        super().__init__(name="generator")
        self.algorithm = alg
        if copy_from is not None:
            self._rng = np.random.default_rng()
            self._rng.bit_generator.state = copy_from._generator().bit_generator.state
        else:
            self._rng = np.random.default_rng(None if state is None else np.asarray(state, np.uint64) % 2**63)
        self._synced = _state_words(self._rng)
        self.state = Variable(self._synced, trainable=False, name="state")

    def _generator(self) -> np.random.Generator:
        """The NumPy generator, first set from ``state`` when that was assigned (a checkpoint restored)."""
        words = self.state.numpy()
        if not np.array_equal(words, self._synced):
            _set_state_words(self._rng, words)
            self._synced = words
        return self._rng

    def _moved(self) -> None:
        self._synced = _state_words(self._rng)
        self.state.assign(self._synced)

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
        self._moved()

    def split(self, count: int = 1) -> list["Generator"]:
        """``count`` new generators with streams independent of this one's and of each other (NumPy's spawned
        children of its seed); this generator's own stream moves on."""
        children = []
        for child in self._generator().spawn(int(count)):
            generator = Generator(alg=self.algorithm)
            generator._rng = child
            generator._moved()
            children.append(generator)
        self._rng.random()  # (TensorFlow's split advances the parent's state too)
        self._moved()
        return children

    @replayed
    def make_seeds(self, count: int = 1) -> Tensor:
        """``count`` seeds for the stateless draws, as an int64 tensor of shape [2, count] (a seed per column)."""
        values = self._generator().integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (2, int(count)),
                                            dtype=np.int64, endpoint=True)
        self._moved()
        return _wrap(values)

    @replayed
    def normal(self, shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        values = self._generator().standard_normal(tuple(shape))
        self._moved()
        return _wrap((values * stddev + mean).astype(backend.as_dtype(dtype)))

    @replayed
    def uniform(self, shape: Sequence[int], minval=0, maxval=None, dtype="float32", name=None) -> Tensor:
        kind = backend.as_dtype(dtype)
        rng = self._generator()
        if kind.kind in "iu":
            if maxval is None:
                raise ValueError("tf.random.Generator.uniform: `maxval` must be given for an integer dtype")
            values = rng.integers(minval, maxval, tuple(shape))
        else:
            values = rng.uniform(minval, 1.0 if maxval is None else maxval, tuple(shape))
        self._moved()
        return _wrap(values.astype(kind))

    @replayed
    def truncated_normal(self, shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        rng = self._generator()
        values = rng.standard_normal(tuple(shape))
        outside = np.abs(values) > 2.0
        while outside.any():  # draw again where a value is more than two standard deviations out
            values[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        self._moved()
        return _wrap((values * stddev + mean).astype(backend.as_dtype(dtype)))


_global: Generator | None = None


def get_global_generator() -> Generator:
    """The global generator (``tf.random.get_global_generator()``): made on first use from chainrule's random
    stream, so ``tf.random.set_seed`` before it makes its draws repeat."""
    global _global
    if _global is None:
        _global = Generator(state=[int(backend.rng().integers(2**63))])
    return _global


def set_global_generator(generator: Generator) -> None:
    """Replace the global generator (``tf.random.set_global_generator``)."""
    global _global
    if not isinstance(generator, Generator):
        raise TypeError(f"tf.random.set_global_generator expects a tf.random.Generator, got "
                        f"{type(generator).__name__}")
    _global = generator


__all__ = ["Generator", "get_global_generator", "set_global_generator", "split"]
