"""Learning-rate schedules (``keras.optimizers.schedules``): a function of the optimizer's step count.

An optimizer given a schedule evaluates it at ``optimizer.iterations`` (the number of updates already applied) before
each update, so the first update uses ``schedule(0)``.

>>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> s(0), s(10), s(20)
(0.1, 0.05, 0.025)
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize


class LearningRateSchedule(_config.Configurable):
    """Base class: subclasses define ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config() to be saved")


def _step_values(step):
    """A step count as a float; an array or tensor of steps as a float64 array, evaluated elementwise as TensorFlow
    evaluates a schedule on a tensor of steps (``lr_schedule(np.linspace(0, 100000))`` to plot it)."""
    values = np.asarray(step.numpy() if hasattr(step, "numpy") else step, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def _positive(value, name: str, owner: str) -> float:
    if value <= 0:
        raise ValueError(f"{owner}: argument `{name}` must be > 0, got {name}={value}")
    return value


class _RateDecay(LearningRateSchedule):
    """A decay driven by ``p = step / decay_steps`` (floored with ``staircase``) and a ``decay_rate``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive(decay_steps, "decay_steps", type(self).__name__)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = _step_values(step) / self.decay_steps
        if self.staircase:
            return np.floor(p) if isinstance(p, np.ndarray) else math.floor(p)
        return p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; ``staircase`` floors the exponent. An array of
    steps gives an array of rates."""

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self._progress(step)


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; ``staircase`` floors the fraction. An array
    of steps gives an array of rates."""

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``,
    and ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: the length of `values` must be the length of `boundaries` "
                             f"plus 1, got {len(boundaries)} boundaries and {len(values)} values")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay: `boundaries` must be increasing, got {list(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step) -> float:
        return float(self.values[bisect.bisect_left(self.boundaries, float(step))])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` down to ``end_learning_rate`` over ``decay_steps`` along
    ``(1 - step / decay_steps) ** power``; with ``cycle`` the horizon grows by ``decay_steps`` each time it is
    passed."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive(decay_steps, "decay_steps", "PolynomialDecay")
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step) -> float:
        step, horizon = float(step), float(self.decay_steps)
        if self.cycle:
            horizon *= max(1.0, math.ceil(step / horizon))  # step 0 keeps one horizon
        else:
            step = min(step, horizon)
        span = float(self.initial_learning_rate) - float(self.end_learning_rate)
        return span * (1.0 - step / horizon) ** float(self.power) + float(self.end_learning_rate)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then a
    half-cosine from there (or from ``initial_learning_rate`` without warmup) down to ``alpha`` times it over
    ``decay_steps``; the rate stays at that floor afterwards."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str = "CosineDecay",
                 warmup_target: float | None = None, warmup_steps: int = 0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive(decay_steps, "decay_steps", "CosineDecay")
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step, initial = float(step), float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), initial)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return (float(self.warmup_target) - initial) * step / self.warmup_steps + initial
        return self._decay(step - self.warmup_steps, float(self.warmup_target))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): a half-cosine from ``initial_learning_rate`` down to ``alpha`` times
    it over ``first_decay_steps``, then again over ``t_mul`` times as many steps, each period starting ``m_mul``
    times as high as the last.

    >>> s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    >>> [round(float(s(step)), 4) for step in (0, 5, 10, 20, 30)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0, m_mul: float = 1.0,
                 alpha: float = 0.0, name: str = "SGDRDecay"):
        if first_decay_steps <= 0:
            raise ValueError(f"Argument `first_decay_steps` must be > 0. Received: first_decay_steps="
                             f"{first_decay_steps}")
        if t_mul <= 0:
            raise ValueError(f"CosineDecayRestarts: argument `t_mul` must be > 0, got t_mul={t_mul}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul, self._m_mul = t_mul, m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = np.asarray(_step_values(step), dtype=np.float64) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:  # periods of equal length
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:  # period i lasts t_mul**i first periods: find the one the step falls in and the share of it done
            restart = np.floor(np.log(1.0 - fraction * (1.0 - t_mul)) / np.log(t_mul))
            done_before = (1.0 - t_mul ** restart) / (1.0 - t_mul)
            fraction = (fraction - done_before) / t_mul ** restart
        cosine = 0.5 * float(self._m_mul) ** restart * (1.0 + np.cos(np.pi * fraction))
        rate = float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)
        return float(rate) if np.ndim(rate) == 0 else rate

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


ALL_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                                PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s dict (``custom_objects`` maps names of your own classes)."""
    cls, config = _config.resolve(config, ALL_SCHEDULES, "learning-rate schedule", custom_objects)
    return cls.from_config(config)
