"""The numbers ``fit``/``evaluate``/``predict`` take (batch sizes, epochs, steps, the validation split) checked before
any work starts, each refused with a message naming the argument, as Keras refuses them, instead of a silent
default or an empty history.

>>> positive_count(32, "batch_size")
32
>>> positive_count(0, "batch_size")
Traceback (most recent call last):
...
ValueError: Argument `batch_size` must be a positive integer (or None). Received: batch_size=0
>>> count(-1, "epochs")
Traceback (most recent call last):
...
ValueError: Argument `epochs` must be a non-negative integer. Received: epochs=-1
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def positive_count(value: Any, name: str, optional: bool = True) -> int | None:
    """``value`` as an int when it is a positive integer (None passes when ``optional``); else a ValueError."""
    if value is None and optional:
        return None
    if not _is_integer(value) or value <= 0:
        allowed = " (or None)" if optional else ""
        raise ValueError(f"Argument `{name}` must be a positive integer{allowed}. Received: {name}={value!r}")
    return int(value)


def count(value: Any, name: str) -> int:
    """``value`` as an int when it is an integer >= 0; else a ValueError naming ``name``."""
    if not _is_integer(value) or value < 0:
        raise ValueError(f"Argument `{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def validation_split(value: Any) -> float:
    """The fraction of the data held out for validation: a number in [0, 1)."""
    if value is None:  # (as Keras, which tests it for truth)
        return 0.0
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"Argument `validation_split` must be a number in [0, 1) (the fraction of the samples held "
                         f"out for validation). Received: validation_split={value!r}")
    return float(value)


def validation_freq(value: Any):
    """Validate every ``value`` epochs (a positive integer) or after the epochs listed (1-based)."""
    if _is_integer(value):
        return positive_count(value, "validation_freq", optional=False)
    if isinstance(value, (list, tuple, set, range)) and all(_is_integer(e) and e > 0 for e in value):
        return value
    raise ValueError(f"Argument `validation_freq` must be a positive integer or a collection of epoch numbers "
                     f"(1-based). Received: validation_freq={value!r}")


def input_count(x: Any, expected: int | None, model_name: str) -> None:
    """Refuse ``x``, a list or tuple of arrays (read as one array per model input), for a model that takes another
    number of inputs: a list of samples would otherwise be stacked or split silently."""
    if expected is None or not isinstance(x, (list, tuple)) or len(x) == expected or not x:
        return
    if not all(isinstance(item, np.ndarray) or hasattr(item, "__array__") for item in x):
        return  # nested lists of numbers: one array
    if len({np.shape(item)[:1] for item in x}) > 1:
        return  # arrays of different lengths: the sample count check says more (adapters._check_rows)
    shapes = ", ".join(str(np.shape(item)) for item in x[:3]) + (", ..." if len(x) > 3 else "")
    raise ValueError(f"Model {model_name!r} expects {expected} input(s), but x is a {type(x).__name__} of {len(x)} "
                     f"arrays (shapes {shapes}), which is read as one array per model input. If each array is one "
                     f"sample, stack them into one array first (np.stack(x); samples of different lengths must be "
                     f"padded to one length)")


_RULES = {
    "batch_size": positive_count, "validation_batch_size": positive_count, "steps_per_epoch": positive_count,
    "validation_steps": positive_count, "steps": positive_count, "epochs": count, "initial_epoch": count,
    "validation_split": lambda value, name: validation_split(value),
    "validation_freq": lambda value, name: validation_freq(value),
}


def check_arguments(**values: Any) -> None:
    """Check each named argument of fit/evaluate/predict by its rule (see the functions above).

    >>> check_arguments(batch_size=None, epochs=3, validation_split=0.2)
    >>> check_arguments(steps_per_epoch=-1)
    Traceback (most recent call last):
    ...
    ValueError: Argument `steps_per_epoch` must be a positive integer (or None). Received: steps_per_epoch=-1
    """
    for name, value in values.items():
        _RULES[name](value, name)


def expected_inputs(model) -> int | None:
    """How many input arrays ``model`` takes: 1 for a Sequential, a functional model's number of inputs, None for a
    subclassed model (its ``call`` decides)."""
    from chainrule.keras.models.sequential import Sequential

    if isinstance(model, Sequential):
        return 1
    inputs = getattr(model, "inputs", None)
    return len(inputs) if isinstance(inputs, list) and inputs and hasattr(model, "_graph") else None
