"""``keras.random``: random tensors with Keras 3's seeding rules.

``seed`` is one of three things. An int: the same values on every call (a stateless draw from the seed ``[seed, 0]``,
as Keras's NumPy backend draws). A :class:`SeedGenerator`: the next values of its sequence (its state advances at
each draw, so a layer holding one gets new noise every call and the same run twice gets the same noise). None: the
global generator (``chainrule.backend.rng()``), which ``keras.utils.set_random_seed`` reseeds. Each draw is
``replayed``: a traced training step draws anew on every replay.

>>> from chainrule.keras import random
>>> a = random.normal((2,), seed=1); b = random.normal((2,), seed=1)
>>> bool((a.numpy() == b.numpy()).all())
True
>>> gen = random.SeedGenerator(1)
>>> bool((random.normal((2,), seed=gen).numpy() == random.normal((2,), seed=gen).numpy()).all())
False
"""
from __future__ import annotations

import math
import random as python_random
from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, TensorLike, Variable, as_tensor
from chainrule.keras.layers.base import unique_name
from chainrule.ops import indexing as _indexing
from chainrule.ops.creation import _shape
from chainrule.ops.reduce import _normalize_axis

_SEED_MODULUS = 2**32  # Keras's seed state is uint32


def make_default_seed() -> int:
    """A seed for a SeedGenerator made without one: from Python's ``random``, which set_random_seed seeds."""
    return python_random.randint(1, int(1e9))


class SeedGenerator:
    """A random state that advances at each draw: ``[seed, counter]`` in a non-trainable Variable, as in Keras 3.

    >>> gen = SeedGenerator(seed=42)
    >>> gen.next().tolist(), gen.next().tolist()
    ([42, 0], [42, 1])
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        if kwargs.pop("backend", None) is not None:
            raise ValueError("SeedGenerator: chainrule has one backend; `backend=` is not supported")
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self.state = Variable(np.array([int(seed) % _SEED_MODULUS, 0], dtype=np.uint32), trainable=False,
                              name="seed_generator_state")

    def next(self, ordered: bool = True) -> np.ndarray:
        """The current state (a copy), then the state moves on: the counter + 1 (``ordered``), or a scramble."""
        # the draws seed a host generator (draw_generator), so the state is read there; a device's copy is renewed
        state = backend.to_host(self.state.data)
        state = state if state is self.state.data else state.copy()
        value = state.copy()
        if ordered:
            state[1] += np.uint32(1)
        else:
            state[...] = ((value.astype(np.uint64) + 1) * 5387 % 933199).astype(np.uint32)
        if state is not self.state.data:
            self.state.data = backend.to_device(state)
        return value

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name} state={backend.to_host(self.state.data).tolist()}>"


def draw_generator(seed) -> np.random.Generator:
    """The NumPy generator a draw with this ``seed`` uses (see the module docstring for the three kinds)."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(np.array([int(seed) % _SEED_MODULUS, 0], dtype=np.uint32))
    raise ValueError(f"Argument `seed` must be either an integer or an instance of `SeedGenerator`. Received: "
                     f"seed={seed} (of type {type(seed)})")


def _float_dtype(dtype, name: str) -> np.dtype:
    kind = backend.as_dtype(dtype)
    if kind.kind != "f":
        raise ValueError(f"`keras.random.{name}` requires a floating point `dtype`. Received: dtype={dtype} ")
    return kind


def _sizes(shape) -> tuple[int, ...]:
    sizes = _shape(shape)
    if any(n < 0 for n in sizes):
        raise ValueError(f"Argument `shape` must hold non-negative sizes. Received: shape={shape}")
    return sizes


@replayed
def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Samples of a normal distribution."""
    kind = _float_dtype(dtype, "normal")
    return Tensor._wrap(backend.to_device(draw_generator(seed).normal(mean, stddev, _sizes(shape)).astype(kind)))


@replayed
def uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Samples of a uniform distribution on ``[minval, maxval)``."""
    kind = _float_dtype(dtype, "uniform")
    return Tensor._wrap(backend.to_device(draw_generator(seed).uniform(minval, maxval, _sizes(shape)).astype(kind)))


@replayed
def randint(shape: Sequence[int], minval: int, maxval: int, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    kind = backend.as_dtype(dtype)
    if kind.kind not in "iu":
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} ")
    if not maxval > minval:
        raise ValueError(f"keras.random.randint: `maxval` ({maxval}) must be greater than `minval` ({minval})")
    return Tensor._wrap(backend.to_device(draw_generator(seed).integers(minval, maxval, _sizes(shape), dtype=kind)))


@replayed
def truncated_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Normal samples within two standard deviations of the mean (the others drawn again), as in Keras."""
    kind, sizes = _float_dtype(dtype, "truncated_normal"), _sizes(shape)
    rng, count = draw_generator(seed), math.prod(sizes)
    kept = np.empty(0)
    while kept.size < count:
        batch = rng.normal(mean, stddev, count)
        kept = np.append(kept, batch[(batch >= mean - 2 * stddev) & (batch <= mean + 2 * stddev)])
    return Tensor._wrap(backend.xp.asarray(kept[:count].astype(kind).reshape(sizes)))


@replayed
def _dropout_scale(noise_shape: tuple, rate: float, dtype: str, seed) -> Tensor:
    """``keep / (1 - rate)`` for a mask drawn of ``noise_shape`` (a sample is kept when uniform < 1 - rate)."""
    keep = draw_generator(seed).uniform(size=noise_shape) < 1.0 - rate
    return Tensor._wrap(backend.xp.asarray(keep.astype(dtype) * np.asarray(1.0 / (1.0 - rate), dtype)))


def dropout(inputs: TensorLike, rate: float, noise_shape=None, seed=None) -> Tensor:
    """Zero each value with probability ``rate`` and scale the others by ``1 / (1 - rate)``; ``noise_shape``
    (None entries: the input's size) shares one draw along its axes of size 1. Differentiable in ``inputs``."""
    inputs = as_tensor(inputs)
    if inputs.dtype.kind != "f":
        raise TypeError(f"keras.random.dropout: `inputs` must be floating point, got dtype {inputs.dtype}")
    rate = float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"keras.random.dropout: `rate` must be in [0, 1]. Received: rate={rate}")
    if rate == 0.0:
        return inputs
    if rate == 1.0:
        return inputs * 0.0
    noise = inputs.shape if noise_shape is None else \
        tuple(inputs.shape[i] if n is None else int(n) for i, n in enumerate(noise_shape))
    if len(noise) != inputs.ndim or any(n not in (1, s) for n, s in zip(noise, inputs.shape)):
        raise ValueError(f"keras.random.dropout: `noise_shape` {tuple(noise_shape)} must have one entry per axis of "
                         f"`inputs` {inputs.shape}, each 1 or that axis's size")
    return inputs * _dropout_scale(noise, rate, inputs.dtype.name, seed)


@replayed
def _permutation(n: int, seed) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(draw_generator(seed).permutation(n)))


def shuffle(x: TensorLike, axis: int = 0, seed=None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order (each slice kept whole, as TensorFlow and JAX shuffle);
    the gradient flows back to each slice."""
    x = as_tensor(x)
    axis = _normalize_axis(axis, x.ndim, "shuffle")[0]
    return _indexing.take(x, _permutation(x.shape[axis], seed), axis=axis)


@replayed
def categorical(logits: TensorLike, num_samples: int, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class ids per row of ``logits`` (batch, classes), drawn with probabilities softmax(row)."""
    logits = backend.to_host(as_tensor(logits).data)  # the draws are made on the host: the logits go there once
    if logits.ndim != 2:
        raise ValueError(f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: "
                         f"logits.shape={logits.shape}")
    rng = draw_generator(seed)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = shifted / shifted.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(probs, axis=-1)
    draws = rng.uniform(size=(logits.shape[0], int(num_samples), 1))
    samples = np.minimum((draws >= cumulative[:, None, :]).sum(axis=-1), logits.shape[1] - 1)
    return Tensor._wrap(backend.to_device(samples.astype(backend.as_dtype(dtype))))


@replayed
def gamma(shape: Sequence[int], alpha: float, dtype=None, seed=None) -> Tensor:
    """Samples of a Gamma(alpha, 1) distribution."""
    kind = _float_dtype(dtype, "gamma")
    return Tensor._wrap(backend.to_device(draw_generator(seed).gamma(alpha, 1.0, _sizes(shape)).astype(kind)))


@replayed
def beta(shape: Sequence[int], alpha, beta, dtype=None, seed=None) -> Tensor:
    """Samples of a Beta(alpha, beta) distribution."""
    kind = _float_dtype(dtype, "beta")
    return Tensor._wrap(backend.to_device(draw_generator(seed).beta(alpha, beta, _sizes(shape)).astype(kind)))


@replayed
def binomial(shape: Sequence[int], counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Successes out of ``counts`` trials of probability ``probabilities``."""
    kind = _float_dtype(dtype, "binomial")
    return Tensor._wrap(backend.to_device(draw_generator(seed).binomial(counts, probabilities, _sizes(shape)).astype(kind)))


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]
