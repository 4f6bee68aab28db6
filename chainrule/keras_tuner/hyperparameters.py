"""``HyperParameters``: the search space a hypermodel declares while it builds, and the values of one trial.

A hypermodel asks ``hp.Float("lr", 1e-4, 1e-1, sampling="log")``; the first time, the parameter is registered in
the space and its default returned; in a trial, the value the oracle chose is returned. The kinds and their
arguments are those of the ``keras_tuner`` package: ``Float``, ``Int``, ``Choice``, ``Boolean``, ``Fixed``, with
``sampling`` ``'linear'``, ``'log'`` or ``'reverse_log'`` and an optional ``step``; ``conditional_scope`` makes
parameters that exist only for some values of another.

>>> hp = HyperParameters()
>>> hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
0.0001
>>> hp.Choice("units", [16, 32, 64])
16
>>> hp.values
{'learning_rate': 0.0001, 'units': 16}
>>> hp.Int("layers", 1, 3), hp.space[2].values
(1, (1, 2, 3))
"""
from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator, Sequence
from typing import Any


class HyperParameter:
    """One entry of the search space: its name, default, the conditions under which it is active, how to sample
    it (``prob_to_value`` maps a number in [0, 1) to a value) and its ``values`` for grid search."""

    def __init__(self, name: str, default: Any = None, conditions: Sequence[Condition] = ()):
        if not isinstance(name, str) or not name:
            raise ValueError(f"a hyperparameter's name must be a non-empty string, got {name!r}")
        self.name = name
        self._default = default
        self.conditions = list(conditions)

    @property
    def default(self):
        return self._default

    @property
    def values(self) -> Sequence:
        raise NotImplementedError

    def prob_to_value(self, prob: float):
        raise NotImplementedError

    def value_to_prob(self, value) -> float:
        """Where ``value`` lies in [0, 1] (the centre of its slice for a discrete value): ``prob_to_value``'s
        inverse, the coordinates Bayesian optimization models."""
        raise NotImplementedError

    def random_sample(self, seed: int | None = None):
        return self.prob_to_value(random.Random(seed).random())

    def get_config(self) -> dict:
        return {"name": self.name, "default": self._default, "conditions": [c.get_config() for c in self.conditions]}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["conditions"] = [Condition.from_config(c) for c in config.get("conditions", ())]
        return cls(**config)


class Numerical(HyperParameter):
    """A number between ``min_value`` and ``max_value``, sampled on a linear, log or reverse-log scale, on a grid of
    ``step`` (added on a linear scale, multiplied on the log scales) when given."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=()):
        super().__init__(name, default, conditions)
        self.min_value, self.max_value, self.step = min_value, max_value, step
        kind = type(self).__name__
        if min_value > max_value:
            raise ValueError(f"For HyperParameters.{kind}(name='{name}'), min_value {min_value} is greater than "
                             f"the max_value {max_value}.")
        self.sampling = (sampling or "linear").lower()
        if self.sampling not in ("linear", "log", "reverse_log"):
            raise ValueError(f"For HyperParameters.{kind}(name='{name}'), sampling must be one of 'linear', 'log', "
                             f"'reverse_log', got {sampling!r}")
        if self.sampling != "linear" and min_value <= 0:
            raise ValueError(f"For HyperParameters.{kind}(name='{name}'), sampling='{self.sampling}' does not "
                             f"support negative values, found min_value: {min_value}.")
        if self.sampling != "linear" and step is not None and step <= 1:
            raise ValueError(f"For HyperParameters.{kind}(name='{name}'), expected step > 1 with "
                             f"sampling='{self.sampling}'. Received: step={step}.")
        if self.sampling == "linear" and step is not None and step <= 0:
            raise ValueError(f"For HyperParameters.{kind}(name='{name}'), step must be above 0, got {step}")

    @property
    def default(self):
        return self.min_value if self._default is None else self._default

    def _scaled(self, prob: float, max_value=None):
        """The number at ``prob`` of the way from min_value to max_value on the sampling's scale."""
        low, high = self.min_value, self.max_value if max_value is None else max_value
        if self.sampling == "linear":
            return low + prob * (high - low)
        if self.sampling == "log":
            return low * math.pow(high / low, prob)
        return high + low - low * math.pow(high / low, 1 - prob)  # reverse_log: dense near max_value

    def _count(self) -> int:
        if self.sampling == "linear":
            return int((self.max_value - self.min_value) // self.step + 1)
        return int(math.log(self.max_value / self.min_value, self.step) + 1e-8) + 1

    def _at(self, index: int):
        if self.sampling == "linear":
            return self.min_value + index * self.step
        if self.sampling == "log":
            return self.min_value * math.pow(self.step, index)
        return self.max_value + self.min_value - self.min_value * math.pow(self.step, index)

    @property
    def values(self) -> tuple:
        """Every value on the ``step`` grid; without a step, 10 values evenly spread on the sampling's scale (the
        centres of 10 equal slices, as keras_tuner's grid search takes them)."""
        if self.step is None:
            return tuple(dict.fromkeys(self.prob_to_value(i * 0.1 + 0.05) for i in range(10)))
        return tuple(self._cast(self._at(i)) for i in range(self._count()))

    def prob_to_value(self, prob: float):
        if self.step is None:
            return self._cast(self._scaled(prob))
        return self._cast(self._at(min(int(prob * self._count()), self._count() - 1)))

    def value_to_prob(self, value) -> float:
        if self.step is None:
            return self._unscaled(value)
        return _slice_centre(self._index_of(value), self._count())

    def _unscaled(self, value, max_value=None) -> float:
        """``_scaled``'s inverse: how far ``value`` is from min_value to max_value on the sampling's scale."""
        low, high = self.min_value, self.max_value if max_value is None else max_value
        if high == low:
            return 0.5
        if self.sampling == "linear":
            return (value - low) / (high - low)
        if self.sampling == "log":
            return math.log(value / low) / math.log(high / low)
        return 1.0 - math.log((high + low - value) / low) / math.log(high / low)

    def _index_of(self, value) -> int:
        if self.sampling == "linear":
            index = (value - self.min_value) / self.step  # rounded below: 0.9 / 0.1 is 8.999...
        elif self.sampling == "log":
            index = math.log(value / self.min_value, self.step)
        else:
            index = math.log((self.max_value - value + self.min_value) / self.min_value, self.step)
        return int(round(index))

    def _cast(self, value):
        return value

    def get_config(self) -> dict:
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value, "step": self.step,
                "sampling": self.sampling}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name: '{self.name}', min_value: {self.min_value}, max_value: "
                f"{self.max_value}, step: {self.step}, sampling: {self.sampling}, default: {self.default})")


class Float(Numerical):
    """A float in [min_value, max_value]. ``Float("lr", 1e-4, 1e-1, sampling="log")`` samples its exponent
    uniformly; a ``step`` puts it on a grid."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=()):
        super().__init__(name, float(min_value), float(max_value), None if step is None else float(step), sampling,
                         default, conditions)

    def _cast(self, value):
        return float(value)


class Int(Numerical):
    """An integer in [min_value, max_value] (both included); step 1 by default on the linear scale."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=()):
        if step is None and (sampling or "linear").lower() == "linear":
            step = 1
        super().__init__(name, _whole(min_value, "min_value"), _whole(max_value, "max_value"),
                         None if step is None else _whole(step, "step"), sampling, default, conditions)

    def prob_to_value(self, prob: float):
        if self.step is None:  # log scales without a step: every integer reachable, max_value included
            return min(int(self._scaled(prob, self.max_value + 1)), self.max_value)
        return super().prob_to_value(prob)

    def value_to_prob(self, value) -> float:
        if self.step is None:  # the centre of the integer's slice, max_value's included
            return self._unscaled(value + 0.5, self.max_value + 1)
        return super().value_to_prob(value)

    @property
    def values(self) -> tuple:
        if self.step is None:
            return super().values
        return tuple(int(round(self._at(i))) for i in range(self._count()))

    def _cast(self, value):
        return int(round(value)) if self.step is not None else int(value)


class Choice(HyperParameter):
    """One of ``values`` (all ints, all floats, all strings or all bools); the first is the default."""

    def __init__(self, name, values, ordered=None, default=None, conditions=()):
        super().__init__(name, default, conditions)
        if not values:
            raise ValueError("`values` must be provided for `Choice`.")
        values = list(values)
        types = {type(v) for v in values}
        if len(types) > 1:
            raise TypeError(f"A `Choice` can contain only one type of value, found values: {values} with types "
                            f"{types}.")
        if not isinstance(values[0], (int, float, str, bool)):
            raise TypeError(f"A `Choice` can contain only `int`, `float`, `str`, or `bool`, found values: {values} "
                            f"with types: {type(values[0])}")
        if default is not None and default not in values:
            raise ValueError(f"The default value should be one of the choices. You passed: values={values}, "
                             f"default={default}")
        numeric = isinstance(values[0], (int, float)) and not isinstance(values[0], bool)
        if ordered and not numeric:
            raise ValueError("`ordered` must be `False` for non-numeric types.")
        self._values = values
        self.ordered = numeric if ordered is None else ordered

    @property
    def values(self) -> list:
        return self._values

    @property
    def default(self):
        return self._values[0] if self._default is None else self._default

    def prob_to_value(self, prob: float):
        return self._values[min(int(prob * len(self._values)), len(self._values) - 1)]

    def value_to_prob(self, value) -> float:
        return _slice_centre(self._values.index(value), len(self._values))

    def get_config(self) -> dict:
        return {**super().get_config(), "values": self._values, "ordered": self.ordered}

    def __repr__(self) -> str:
        return f"Choice(name: '{self.name}', values: {self._values}, ordered: {self.ordered}, default: {self.default})"


class Boolean(HyperParameter):
    """True or False."""

    def __init__(self, name, default=False, conditions=()):
        if default not in (True, False):
            raise ValueError(f"`default` must be a Python boolean. You passed: default={default}")
        super().__init__(name, bool(default), conditions)

    @property
    def values(self) -> tuple:
        return (True, False)

    def prob_to_value(self, prob: float) -> bool:
        return bool(prob >= 0.5)

    def value_to_prob(self, value) -> float:
        return 0.75 if value else 0.25

    def __repr__(self) -> str:
        return f'Boolean(name: "{self.name}", default: {self.default})'


class Fixed(HyperParameter):
    """A value that is not tuned (recorded with the trial all the same)."""

    def __init__(self, name, value, conditions=()):
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"`Fixed` value must be an `int`, `float`, `str`, or `bool`, found {value!r}")
        super().__init__(name, value, conditions)
        self.value = value

    @property
    def values(self) -> tuple:
        return (self.value,)

    def prob_to_value(self, prob: float):
        return self.value

    def value_to_prob(self, value) -> float:
        return 0.5

    def get_config(self) -> dict:
        config = super().get_config()
        config["value"] = config.pop("default")
        return config

    def __repr__(self) -> str:
        return f"Fixed(name: {self.name}, value: {self.value})"


KINDS = {kind.__name__: kind for kind in (Float, Int, Choice, Boolean, Fixed)}


class Condition:
    """Active when the parameter ``name`` has one of ``values`` (keras_tuner's ``conditions.Parent``)."""

    def __init__(self, name: str, values):
        self.name = name
        self.values = list(values) if isinstance(values, (list, tuple, set)) else [values]

    def is_active(self, values: dict) -> bool:
        return self.name in values and values[self.name] in self.values

    def get_config(self) -> dict:
        return {"name": self.name, "values": self.values}

    @classmethod
    def from_config(cls, config: dict) -> Condition:
        return cls(config["name"], config["values"])

    def __eq__(self, other) -> bool:
        return isinstance(other, Condition) and (self.name, self.values) == (other.name, other.values)


class HyperParameters:
    """The search space (``space``) and the current values (``values``: the active parameters only)."""

    def __init__(self):
        self._space: list[HyperParameter] = []
        self._conditions: list[Condition] = []
        self._name_scopes: list[str] = []
        self.values: dict[str, Any] = {}

    # --- declaring ----------------------------------------------------------------------------------------------
    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None, parent_name=None,
              parent_values=None) -> float | None:
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(Float(self._name(name), min_value, max_value, step, sampling, default,
                                        self._conditions))

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None, parent_name=None,
            parent_values=None) -> int | None:
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(Int(self._name(name), min_value, max_value, step, sampling, default,
                                      self._conditions))

    def Choice(self, name, values, ordered=None, default=None, parent_name=None, parent_values=None):
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(Choice(self._name(name), values, ordered, default, self._conditions))

    def Boolean(self, name, default=False, parent_name=None, parent_values=None) -> bool | None:
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(Boolean(self._name(name), default, self._conditions))

    def Fixed(self, name, value, parent_name=None, parent_values=None):
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(Fixed(self._name(name), value, self._conditions))

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values) -> Iterator[None]:
        """Parameters declared inside exist only while ``parent_name`` has one of ``parent_values``; while it has
        not, they return None and stay out of ``values``."""
        parent_name = self._name(parent_name)
        if not any(hp.name == parent_name for hp in self._space):
            raise ValueError(f"`HyperParameter` named: {parent_name} not defined.")
        self._conditions.append(Condition(parent_name, parent_values))
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names declared inside with ``name/``."""
        self._name_scopes.append(name)
        try:
            yield
        finally:
            self._name_scopes.pop()

    # --- reading ------------------------------------------------------------------------------------------------
    def get(self, name: str):
        """The value of ``name``; KeyError if it was never declared, ValueError if it is inactive."""
        name = self._name(name)
        if name in self.values:
            return self.values[name]
        if any(hp.name == name for hp in self._space):
            raise ValueError(f"{name} is currently inactive.")
        raise KeyError(f"{name} does not exist.")

    def __getitem__(self, name: str):
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
        except (KeyError, ValueError):
            return False
        return True

    @property
    def space(self) -> list[HyperParameter]:
        return self._space

    def is_active(self, hp: HyperParameter | str) -> bool:
        if isinstance(hp, HyperParameter):
            return all(c.is_active(self.values) for c in hp.conditions)
        return any(self.is_active(entry) for entry in self._space if entry.name == hp)

    def ensure_active_values(self, rng: random.Random | None = None) -> None:
        """Give each active parameter without a value one (random with ``rng``, else its default), and drop the
        values of inactive ones, in declaration order (a parent before its children)."""
        for hp in self._space:
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.prob_to_value(rng.random()) if rng else hp.default
            else:
                self.values.pop(hp.name, None)

    # --- copies and files ---------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"space": [{"class_name": type(hp).__name__, "config": hp.get_config()} for hp in self._space],
                "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: dict) -> HyperParameters:
        hps = cls()
        for entry in config["space"]:
            if entry["class_name"] not in KINDS:
                raise ValueError(f"unknown hyperparameter kind {entry['class_name']!r}: expected one of "
                                 f"{', '.join(KINDS)}")
            hps._space.append(KINDS[entry["class_name"]].from_config(entry["config"]))
        hps.values = dict(config["values"])
        return hps

    def copy(self) -> HyperParameters:
        return HyperParameters.from_config(self.get_config())

    def merge(self, hps: HyperParameters | Sequence[HyperParameter], overwrite: bool = True) -> None:
        """Add the entries of ``hps`` (a HyperParameters or a list) to this space."""
        for hp in (hps.space if isinstance(hps, HyperParameters) else hps):
            if self._exists(hp.name, hp.conditions) and not overwrite:
                continue
            self._register(hp, overwrite)

    # --- inside -------------------------------------------------------------------------------------------------
    def _retrieve(self, hp: HyperParameter):
        if self._exists(hp.name, hp.conditions):
            return self.values.get(hp.name) if self.is_active(hp) else None
        return self._register(hp)

    def _register(self, hp: HyperParameter, overwrite: bool = False):
        if any(c.name == hp.name for c in hp.conditions):
            raise ValueError(f"A conditional `HyperParameter` cannot have the same name as its parent. Found: "
                             f"{hp.name} and parent_name: {hp.name}")
        hp = type(hp).from_config(hp.get_config())  # its own copy of the conditions
        self._space = [old for old in self._space if not (old.name == hp.name and old.conditions == hp.conditions)]
        self._space.append(hp)
        if self.is_active(hp):
            if overwrite or hp.name not in self.values:
                self.values[hp.name] = hp.default
            return self.values[hp.name]
        return None

    def _exists(self, name: str, conditions) -> bool:
        return any(hp.name == name and hp.conditions == list(conditions) for hp in self._space)

    def _name(self, name: str) -> str:
        return "/".join([*self._name_scopes, str(name)])

    @contextlib.contextmanager
    def _maybe_conditional_scope(self, parent_name, parent_values) -> Iterator[None]:
        if parent_name:
            with self.conditional_scope(parent_name, parent_values):
                yield
        else:
            yield


def _slice_centre(index: int, count: int) -> float:
    """The centre of slice ``index`` of [0, 1] cut in ``count`` equal slices."""
    return (index + 0.5) / count


def _whole(value, argument: str) -> int:
    if int(value) != value:
        raise ValueError(f"{argument} must be an int, Received: {value} of type {type(value)}.")
    return int(value)
