"""Keras 3's process-wide switches in ``keras.config``: limits on fit's epochs and on steps per epoch (for quick
debugging runs; also read from ``KERAS_MAX_EPOCHS`` / ``KERAS_MAX_STEPS_PER_EPOCH``), and the flags programs set
or query: flash attention, traceback filtering, unsafe deserialization, Flax NNX, and ``set_backend``.

chainrule computes attention one way and shows its tracebacks whole, so those two flags are recorded and reported
but select nothing; loading a model never runs code from the file, so unsafe deserialization allows nothing more.

>>> set_max_epochs(2); max_epochs()
2
>>> set_max_epochs(None)
>>> set_backend("jax")
Traceback (most recent call last):
ValueError: keras.config.set_backend('jax'): chainrule runs Keras programs on its own backend only ('chainrule'); import chainrule's keras in place of Keras to run them (there is no other backend to switch to)
"""
from __future__ import annotations

import numbers
import os

from chainrule.keras.backend import backend


def _limit(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"keras.config.set_{name}: expected a positive int or None. Received: {name}={value!r}")
    return int(value)


def _from_environment(variable: str, name: str) -> int | None:
    text = os.environ.get(variable)
    return None if not text else _limit(int(text), name)


_settings = {"max_epochs": _from_environment("KERAS_MAX_EPOCHS", "max_epochs"),
             "max_steps_per_epoch": _from_environment("KERAS_MAX_STEPS_PER_EPOCH", "max_steps_per_epoch"),
             "flash_attention": None, "traceback_filtering": True, "safe_mode": True}


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the epochs of every ``fit`` (None: no cap)."""
    _settings["max_epochs"] = _limit(max_epochs, "max_epochs")


def max_epochs() -> int | None:
    return _settings["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of each epoch of ``fit``, ``evaluate`` and ``predict`` (None: no cap)."""
    _settings["max_steps_per_epoch"] = _limit(max_steps_per_epoch, "max_steps_per_epoch")


def max_steps_per_epoch() -> int | None:
    return _settings["max_steps_per_epoch"]


def enable_flash_attention() -> None:
    _settings["flash_attention"] = True


def disable_flash_attention() -> None:
    _settings["flash_attention"] = False


def is_flash_attention_enabled() -> bool | None:
    """True or False once set, None (Keras's "decide per backend") until then."""
    return _settings["flash_attention"]


def enable_traceback_filtering() -> None:
    _settings["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    _settings["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    return _settings["traceback_filtering"]


def enable_unsafe_deserialization() -> None:
    """Keras's switch for loading lambdas from files; chainrule never runs code from a file, so this is recorded
    only (``in_safe_mode()`` turns False)."""
    _settings["safe_mode"] = False


def in_safe_mode() -> bool:
    return _settings["safe_mode"]


def is_nnx_enabled() -> bool:
    """Whether Flax NNX layers are in use: never under chainrule."""
    return False


def set_backend(name: str) -> None:
    """Keras reloads itself on another backend; chainrule has one, so only its own name is accepted."""
    if name == backend():
        return
    raise ValueError(f"keras.config.set_backend({name!r}): chainrule runs Keras programs on its own backend only "
                     f"({backend()!r}); import chainrule's keras in place of Keras to run them (there is no other "
                     f"backend to switch to)")
