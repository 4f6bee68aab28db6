"""``tf.data.Options``: settings that belong to a whole input pipeline, set with ``Dataset.with_options`` and read
back merged with ``Dataset.options()``, as in TensorFlow.

Each setting is None until set (TensorFlow's default applies). An unknown name is an AttributeError and a value of
the wrong type a TypeError, as in TensorFlow; merging keeps the last value set, with a warning when it changes one.

The settings steer TensorFlow's runtime (its graph rewrites, autotuner, thread pools and distributed sharding),
which chainrule does not have: they are kept, merged and read back so that TensorFlow programs that set them run
unchanged, and change nothing in how the elements are made (``map``'s own ``deterministic=`` argument does).

>>> options = Options()
>>> options.deterministic = False
>>> options.experimental_distribute.auto_shard_policy = AutoShardPolicy.DATA
>>> merged = merge_options(Options(), options)
>>> merged.deterministic, merged.experimental_distribute.auto_shard_policy
(False, <AutoShardPolicy.DATA: 2>)
"""
from __future__ import annotations

import enum
import logging

log = logging.getLogger(__name__)


class AutoShardPolicy(enum.IntEnum):
    """``tf.data.experimental.AutoShardPolicy``: how a distributed input pipeline is split between workers."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class ExternalStatePolicy(enum.Enum):
    """``tf.data.experimental.ExternalStatePolicy``: what to do with a pipeline that uses external state."""

    WARN = 0
    IGNORE = 1
    FAIL = 2


class OptionsBase:
    """A group of settings: each declared in ``_fields`` as name -> (type, or a factory for a nested group)."""

    _fields: dict[str, type] = {}

    def __init__(self):
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_mutable", True)

    def __getattr__(self, name: str):
        kind = type(self)._fields.get(name)
        if kind is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        if name in self._values:
            return self._values[name]
        if isinstance(kind, type) and issubclass(kind, OptionsBase):  # a nested group exists from the start
            group = kind()
            group._set_mutable(self._mutable)
            self._values[name] = group
            return group
        return None

    def __setattr__(self, name: str, value) -> None:
        if not self._mutable:
            raise ValueError("Mutating `tf.data.Options()` returned by `tf.data.Dataset.options()` has no effect. "
                             "Use `tf.data.Dataset.with_options(options)` to set or update dataset options.")
        kind = type(self)._fields.get(name)
        if kind is None:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f'Property "{name}" must be of type {kind}, got: {value!r} (type: {type(value)})')
        self._values[name] = value

    def __eq__(self, other) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in type(self)._fields)

    def __repr__(self) -> str:
        set_values = ", ".join(f"{name}={value!r}" for name, value in self._values.items())
        return f"{type(self).__name__}({set_values})"

    def _set_mutable(self, mutable: bool) -> None:
        object.__setattr__(self, "_mutable", mutable)
        for value in self._values.values():
            if isinstance(value, OptionsBase):
                value._set_mutable(mutable)


class AutotuneOptions(OptionsBase):
    """``tf.data.experimental.AutotuneOptions``."""

    _fields = {"enabled": bool, "cpu_budget": int, "ram_budget": int, "autotune_algorithm": object}


class DistributeOptions(OptionsBase):
    """``tf.data.experimental.DistributeOptions``."""

    _fields = {"auto_shard_policy": AutoShardPolicy, "num_devices": int}


class OptimizationOptions(OptionsBase):
    """``tf.data.experimental.OptimizationOptions``."""

    _fields = {name: bool for name in (
        "apply_default_optimizations", "filter_fusion", "filter_parallelization", "inject_prefetch",
        "map_and_batch_fusion", "map_and_filter_fusion", "map_fusion", "map_parallelization", "noop_elimination",
        "parallel_batch", "seq_interleave_prefetch", "shuffle_and_repeat_fusion")}


class ThreadingOptions(OptionsBase):
    """``tf.data.ThreadingOptions``."""

    _fields = {"max_intra_op_parallelism": int, "private_threadpool_size": int}


class Options(OptionsBase):
    """``tf.data.Options``: see the module's docstring."""

    _fields = {"autotune": AutotuneOptions, "deterministic": bool, "experimental_deterministic": bool,
               "experimental_distribute": DistributeOptions, "experimental_external_state_policy": ExternalStatePolicy,
               "experimental_optimization": OptimizationOptions, "experimental_slack": bool,
               "experimental_symbolic_checkpoint": bool, "experimental_warm_start": bool,
               "threading": ThreadingOptions, "experimental_threading": ThreadingOptions}


def merge_options(*options_list: OptionsBase) -> OptionsBase:
    """The settings of all of ``options_list`` in one new object; where two set the same one, the last wins."""
    if not options_list:
        raise ValueError("At least one options should be provided")
    kind = type(options_list[0])
    result = kind()
    for options in options_list:
        if not isinstance(options, kind):
            raise TypeError(f"Could not merge incompatible options of type {type(options)} and {kind}.")
        for name, value in options._values.items():
            current = result._values.get(name)
            if isinstance(value, OptionsBase):
                result._values[name] = merge_options(current, value) if current is not None else merge_options(value)
            elif current is None:
                result._values[name] = value
            elif current != value:
                log.warning("Changing the value of option %s from %r to %r.", name, current, value)
                result._values[name] = value
    return result
