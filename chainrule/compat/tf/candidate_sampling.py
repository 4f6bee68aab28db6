"""TensorFlow's candidate samplers (``tf.random.log_uniform_candidate_sampler``, ``tf.random.uniform_candidate_sampler``,
also under ``tf.nn``): ``num_sampled`` class ids drawn from a fixed distribution over ``[0, range_max)``, as negative
classes for sampled losses and word2vec's negative sampling, with the expected number of times each true and each
sampled class would be drawn.

The expected counts follow TensorFlow's sampler: ``p * num_sampled`` when every draw is kept, and with
``unique=True`` (draws repeated until ``num_sampled`` distinct ids came up, after ``num_tries`` draws)
``1 - (1 - p) ** num_tries``. The ids differ from TensorFlow's (another random stream), their distribution does not.

>>> import chainrule as tf
>>> ids, true_expected, sampled_expected = tf.random.log_uniform_candidate_sampler(
...     true_classes=[[2]], num_true=1, num_sampled=4, unique=True, range_max=10, seed=1)
>>> ids.dtype, ids.shape, true_expected.shape, sampled_expected.shape, len(set(ids.numpy().tolist()))
(dtype('int64'), TensorShape([4]), TensorShape([1, 1]), TensorShape([4]), 4)
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, as_tensor


def _log_uniform_probability(classes: np.ndarray, range_max: int) -> np.ndarray:
    """Zipf-like: P(k) = log((k + 2) / (k + 1)) / log(range_max + 1), more frequent ids first."""
    return np.log((classes + 2.0) / (classes + 1.0)) / math.log1p(range_max)


def _log_uniform_draws(rng: np.random.Generator, count: int, range_max: int) -> np.ndarray:
    # inverse of the distribution's CDF, log(k + 1) / log(range_max + 1); the clip guards a draw of exactly 1.0
    return np.minimum(np.exp(rng.random(count) * math.log1p(range_max)).astype(np.int64) - 1, range_max - 1)


def _uniform_probability(classes: np.ndarray, range_max: int) -> np.ndarray:
    return np.full(classes.shape, 1.0 / range_max)


def _uniform_draws(rng: np.random.Generator, count: int, range_max: int) -> np.ndarray:
    return rng.integers(0, range_max, count, dtype=np.int64)


def _check(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int, name: str) -> np.ndarray:
    classes = np.asarray(as_tensor(true_classes).data)
    if classes.ndim != 2 or classes.dtype.kind not in "iu":
        raise ValueError(f"tf.random.{name}: `true_classes` must be an integer matrix [batch_size, num_true], got "
                         f"shape {classes.shape} of dtype {classes.dtype}")
    if classes.shape[1] != num_true:
        raise ValueError(f"tf.random.{name}: `true_classes` has {classes.shape[1]} columns, but num_true={num_true}")
    if range_max < 1:
        raise ValueError(f"tf.random.{name}: `range_max` must be at least 1, got {range_max}")
    if unique and num_sampled > range_max:
        raise ValueError(f"tf.random.{name}: with unique=True, `num_sampled` ({num_sampled}) cannot exceed "
                         f"`range_max` ({range_max})")
    return classes


def _sample(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int, seed, name: str,
            draw: Callable, probability: Callable) -> tuple[Tensor, Tensor, Tensor]:
    num_true, num_sampled, range_max = int(num_true), int(num_sampled), int(range_max)
    classes = _check(true_classes, num_true, num_sampled, unique, range_max, name)
    rng = backend.rng() if seed is None else backend.op_rng(int(seed))
    if unique:  # draw until num_sampled distinct ids came up, counting every draw (TensorFlow's num_tries)
        chosen: dict[int, None] = {}
        tries = 0
        while len(chosen) < num_sampled:
            for value in draw(rng, 2 * (num_sampled - len(chosen)), range_max).tolist():
                tries += 1
                chosen.setdefault(value)
                if len(chosen) == num_sampled:
                    break
        sampled = np.fromiter(chosen, dtype=np.int64, count=num_sampled)
    else:
        sampled = draw(rng, num_sampled, range_max)
        tries = num_sampled

    def expected(ids: np.ndarray) -> Tensor:
        p = probability(ids.astype(np.float64), range_max)
        counts = p * num_sampled if tries == num_sampled else -np.expm1(tries * np.log1p(-p))
        return Tensor._wrap(backend.xp.asarray(counts.astype(np.float32)))

    return Tensor._wrap(backend.xp.asarray(sampled)), expected(classes), expected(sampled)


@replayed
def log_uniform_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
                                  seed=None, name=None) -> tuple[Tensor, Tensor, Tensor]:
    """``(sampled_candidates, true_expected_count, sampled_expected_count)``: ``num_sampled`` int64 ids drawn with
    P(k) = log((k + 2) / (k + 1)) / log(range_max + 1) (distinct ones with ``unique=True``), and the expected
    counts, float32, of ``true_classes`` [batch_size, num_true] and of the sampled ids."""
    return _sample(true_classes, num_true, num_sampled, unique, range_max, seed, "log_uniform_candidate_sampler",
                   _log_uniform_draws, _log_uniform_probability)


@replayed
def uniform_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
                              seed=None, name=None) -> tuple[Tensor, Tensor, Tensor]:
    """As :func:`log_uniform_candidate_sampler`, with every id in ``[0, range_max)`` equally likely."""
    return _sample(true_classes, num_true, num_sampled, unique, range_max, seed, "uniform_candidate_sampler",
                   _uniform_draws, _uniform_probability)


__all__ = ["log_uniform_candidate_sampler", "uniform_candidate_sampler"]
