"""``tf.random``: TensorFlow 2's random draws, with its argument names, defaults and seeds.

``seed`` is TensorFlow's op-level seed: with a global seed (``set_seed``) a run repeats, while two calls with the
same op seed draw different values (the seed's sequence moves on). The ``stateless_*`` draws take a seed of two ints
and give the same values for the same seed every time (their values differ from TensorFlow's Philox streams). Every
draw is ``replayed``: a traced step (``tf.function``, ``fit``) draws anew on each replay.

>>> import chainrule as tf
>>> tf.random.uniform((2,), seed=0).shape
TensorShape([2])
>>> tf.random.uniform((3,), maxval=10, dtype=tf.int32).dtype.name
'int32'
>>> tf.random.gamma([5], alpha=[1.0, 2.0], beta=2.0).shape  # shape + the parameters' shape
TensorShape([5, 2])
>>> a = tf.random.stateless_normal((2,), seed=[1, 2]); b = tf.random.stateless_normal((2,), seed=[1, 2])
>>> bool((a.numpy() == b.numpy()).all())
True
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import indexing as _indexing
from chainrule.ops.creation import _shape
from chainrule.ops.random import set_seed
from chainrule.compat.tf.candidate_sampling import log_uniform_candidate_sampler, uniform_candidate_sampler
from chainrule.compat.tf.random_generator import Generator, get_global_generator, set_global_generator, split


def _generator(seed) -> np.random.Generator:
    """The generator of an op-level seed (TensorFlow's rule), or the global one."""
    return backend.rng() if seed is None else backend.op_rng(int(seed))


def _stateless_generator(seed, name: str) -> np.random.Generator:
    """A generator made from a stateless draw's seed: a shape [2] integer tensor, as TensorFlow requires."""
    pair = np.asarray(as_tensor(seed).data if isinstance(seed, Tensor) else seed)
    if pair.shape != (2,) or pair.dtype.kind not in "iu":
        raise ValueError(f"tf.random.{name}: `seed` must be a shape [2] integer Tensor (two ints), got {seed!r}")
    return np.random.default_rng(pair.astype(np.int64) % 2**32)


def _dtype(dtype, name: str, kinds: str = "f") -> np.dtype:
    kind = backend.as_dtype(dtype)
    if kind.kind not in kinds:
        wanted = {"f": "a floating point", "fiu": "a floating point or integer", "iu": "an integer"}[kinds]
        raise ValueError(f"tf.random.{name}: `dtype` must be {wanted} dtype, got {kind.name}")
    return kind


def _wrap(values: np.ndarray, dtype: np.dtype) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(np.asarray(values).astype(dtype)))


def _param(value) -> np.ndarray:
    """A distribution's parameter (a number, list or tensor) as an array."""
    value = value.data if isinstance(value, Tensor) else value
    # the draws are made on the host: a device's parameter goes there once
    return np.asarray(backend.to_host(value) if backend.is_array(value) else value, dtype=np.float64)


def _normal(rng, shape, mean, stddev, dtype) -> Tensor:
    return _wrap(rng.normal(_param(mean), _param(stddev), _shape(shape)), _dtype(dtype, "normal"))


def _uniform(rng, shape, minval, maxval, dtype, name: str) -> Tensor:
    kind = _dtype(dtype, name, "fiu")
    if kind.kind in "iu":
        if maxval is None:
            raise ValueError(f"tf.random.{name}: Must specify maxval for integer dtype {kind.name}")
        low, high = int(_param(minval)), int(_param(maxval))
        if not high > low:
            raise ValueError(f"tf.random.{name}: Need minval < maxval: {low} >= {high}")
        return _wrap(rng.integers(low, high, _shape(shape)), kind)
    return _wrap(rng.uniform(_param(minval), _param(1.0 if maxval is None else maxval), _shape(shape)), kind)


def _truncated_normal(rng, shape, mean, stddev, dtype) -> Tensor:
    """Normal draws further than two standard deviations from the mean drawn again, as TensorFlow does."""
    kind, sizes = _dtype(dtype, "truncated_normal"), _shape(shape)
    count = math.prod(sizes)
    kept = np.empty(0)
    while kept.size < count:
        draws = rng.standard_normal(count)
        kept = np.append(kept, draws[np.abs(draws) <= 2.0])
    return _wrap(kept[:count].reshape(sizes) * _param(stddev) + _param(mean), kind)


@replayed
def normal(shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    """Samples of a normal distribution."""
    return _normal(_generator(seed), shape, mean, stddev, dtype)


@replayed
def uniform(shape: Sequence[int], minval=0, maxval=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Samples of a uniform distribution on ``[minval, maxval)`` (maxval 1 for floats; integers need one)."""
    return _uniform(_generator(seed), shape, minval, maxval, dtype, "uniform")


@replayed
def truncated_normal(shape: Sequence[int], mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    """Samples of a normal distribution within two standard deviations of the mean."""
    return _truncated_normal(_generator(seed), shape, mean, stddev, dtype)


@replayed
def gamma(shape: Sequence[int], alpha, beta=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Samples of Gamma(alpha, beta) (beta the rate: the draws are divided by it), of shape ``shape`` followed by
    the broadcast shape of alpha and beta."""
    kind = _dtype(dtype, "gamma")
    alpha, rate = np.broadcast_arrays(_param(alpha), _param(1.0 if beta is None else beta))
    sizes = _shape(shape) + alpha.shape
    return _wrap(_generator(seed).gamma(alpha, 1.0, sizes) / rate, kind)


@replayed
def poisson(shape: Sequence[int], lam, dtype="float32", seed=None, name=None) -> Tensor:
    """Samples of Poisson(lam), of shape ``shape`` followed by lam's shape."""
    kind = _dtype(dtype, "poisson", "fiu")
    lam = _param(lam)
    return _wrap(_generator(seed).poisson(lam, _shape(shape) + lam.shape), kind)


def _categorical(logits: TensorLike, num_samples: int, dtype, rng, name: str) -> Tensor:
    logits = _param(as_tensor(logits))
    if logits.ndim != 2:
        raise ValueError(f"tf.random.{name}: `logits` should be a matrix [batch_size, num_classes], got shape "
                         f"{logits.shape}")
    kind = _dtype("int64" if dtype is None else dtype, name, "iu")
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(shifted / shifted.sum(axis=-1, keepdims=True), axis=-1)
    draws = rng.uniform(size=(logits.shape[0], int(num_samples), 1))
    return _wrap(np.minimum((draws >= cumulative[:, None, :]).sum(axis=-1), logits.shape[1] - 1), kind)


@replayed
def categorical(logits: TensorLike, num_samples: int, dtype=None, seed=None, name=None) -> Tensor:
    """``num_samples`` class ids (int64 by default) per row of ``logits`` [batch, classes], drawn with
    probabilities softmax(row)."""
    return _categorical(logits, num_samples, dtype, _generator(seed), "categorical")


@replayed
def _permutation(n: int, seed) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(_generator(seed).permutation(n)))


def shuffle(value: TensorLike, seed=None, name=None) -> Tensor:
    """``value`` with its rows (first axis) in a random order."""
    value = as_tensor(value)
    if value.ndim == 0:
        raise ValueError("tf.random.shuffle: `value` must be at least 1-D, got a scalar")
    return _indexing.take(value, _permutation(value.shape[0], seed), axis=0)


@replayed  # (its seed may be a tensor that changes from one replay to the next)
def stateless_normal(shape: Sequence[int], seed, mean=0.0, stddev=1.0, dtype="float32", name=None,
                     alg="auto_select") -> Tensor:
    """Normal samples, the same for the same ``seed`` (two ints)."""
    return _normal(_stateless_generator(seed, "stateless_normal"), shape, mean, stddev, dtype)


@replayed
def stateless_uniform(shape: Sequence[int], seed, minval=0, maxval=None, dtype="float32", name=None,
                      alg="auto_select") -> Tensor:
    """Uniform samples, the same for the same ``seed`` (two ints)."""
    return _uniform(_stateless_generator(seed, "stateless_uniform"), shape, minval, maxval, dtype,
                    "stateless_uniform")


@replayed
def stateless_truncated_normal(shape: Sequence[int], seed, mean=0.0, stddev=1.0, dtype="float32", name=None,
                               alg="auto_select") -> Tensor:
    """Truncated normal samples, the same for the same ``seed`` (two ints)."""
    return _truncated_normal(_stateless_generator(seed, "stateless_truncated_normal"), shape, mean, stddev, dtype)


@replayed
def stateless_categorical(logits: TensorLike, num_samples: int, seed, dtype="int64", name=None) -> Tensor:
    """Class ids drawn from ``logits``, the same for the same ``seed`` (two ints)."""
    return _categorical(logits, num_samples, dtype, _stateless_generator(seed, "stateless_categorical"),
                        "stateless_categorical")


__all__ = ["Generator", "categorical", "get_global_generator", "set_global_generator", "gamma", "log_uniform_candidate_sampler", "split", "normal", "poisson", "set_seed", "shuffle",
           "stateless_categorical", "uniform_candidate_sampler",
           "stateless_normal", "stateless_truncated_normal", "stateless_uniform", "truncated_normal", "uniform"]
