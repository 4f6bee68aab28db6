"""What a model file's config may make its layers allocate: no more weight values than the file stores.

Loading a model builds it from its config first (the layers allocate and initialize their weights), then assigns the
stored arrays. A damaged or hostile config, a 5 KB file asking for ``Dense(10**9)``, would allocate gigabytes before
the shape check could refuse it. So while :func:`load_model <chainrule.keras.saving.load_model>` rebuilds a model,
``Layer.add_weight`` charges each weight's size to a budget set by the values the file holds (:func:`charge_weight`),
before it allocates anything, and the weight that would overrun it is refused with a ModelFileError naming the
file. :func:`check_input_shapes` does the same for the input shapes a config declares, since building runs the
layers on zeros of those shapes.

>>> with weight_budget(10, "small.keras"):
...     charge_weight("dense", "kernel", (3, 10**9))
Traceback (most recent call last):
...
chainrule.keras.saving.file_format.ModelFileError: small.keras: its config makes layer 'dense' create weight \
'kernel' of shape (3, 1000000000) (3,000,000,000 values), far more than the 10 weight values the file holds in \
all: the config does not match the stored weights (damaged or edited?)
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Iterator
from typing import Any

from chainrule.keras.saving.file_format import ModelFileError

# Values a declared input may make building allocate (2**27 float32 values: 512 MiB): building runs each layer on a
# small batch of zeros of the input's shape; no real input comes near, while a damaged config's 2**40 would.
MAX_INPUT_VALUES = 1 << 27
_SLACK = 1 << 16
_BATCHED_KEYS = ("batch_shape", "batch_input_shape", "build_input_shape", "shape")  # these count the batch axis
_SHAPE_KEYS = (*_BATCHED_KEYS, "input_shape")


class _Budget:
    def __init__(self, values: int, path: str):
        self.values, self.path, self.used = values, path, 0
        # a config slightly off (a layer one unit wider) still builds, so that the shape check after it can name the
        # layer that differs; only what is far beyond the file (twice its values, plus 64K) is refused here
        self.limit = 2 * values + _SLACK


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("weight_budget", default=None)


@contextlib.contextmanager
def weight_budget(values: int, path: str | os.PathLike) -> Iterator[None]:
    """Within the block, layers may create at most ``values`` weight values in all (the file at ``path`` holds
    that many); one more raises ModelFileError before it is allocated."""
    token = _budget.set(_Budget(int(values), os.fspath(path)))
    try:
        yield
    finally:
        _budget.reset(token)


def charge_weight(layer: str, name: str | None, shape: tuple[int, ...]) -> None:
    """Count a weight of ``shape`` that ``layer`` is about to allocate against the budget, if one is in force."""
    budget = _budget.get()
    if budget is None:
        return
    size = math.prod(shape)
    budget.used += size
    if budget.used > budget.limit:
        raise ModelFileError(budget.path, f"its config makes layer {layer!r} create weight {name!r} of shape "
                                          f"{tuple(shape)} ({size:,} values), far more than the {budget.values:,} "
                                          f"weight values the file holds in all: the config does not match the stored "
                                          f"weights (damaged or edited?)")


def check_input_shapes(config: Any, path: str | os.PathLike, batched: bool = False) -> None:
    """Refuse an input shape declared anywhere in ``config`` (a model config, or with ``batched=True`` a build
    config, as JSON) that would make building fill more than MAX_INPUT_VALUES zeros, before it does.
    Shapes that are not lists of sizes are left to the builder, which refuses them."""
    from chainrule.keras.graph import PROBE_SIZES  # (here: the graph imports the layers, which import this module)

    probe_batch, probe_axis = map(max, zip(*PROBE_SIZES))  # the largest sizes building gives an unknown axis
    where = "build config" if batched else "config"
    for key, shape in _declared_shapes(config, None):
        if key in _BATCHED_KEYS or batched:
            batch, sizes = (shape[0] if shape else 1), shape[1:]
        else:
            batch, sizes = None, shape
        values = (probe_batch if batch is None else batch) * math.prod(probe_axis if n is None else n for n in sizes)
        if values > MAX_INPUT_VALUES:
            raise ModelFileError(path, f"its {where} declares an input {key} {shape} that building would fill with "
                                       f"{values:,} values, more than the {MAX_INPUT_VALUES:,} a model file may "
                                       f"ask for (damaged or edited?)")


def _declared_shapes(config: Any, key: str | None) -> Iterator[tuple[str, list]]:
    """(key, shape) for each list of sizes under a shape key (``key``: the key ``config`` is under, if one)."""
    if isinstance(config, dict):
        for name, value in config.items():
            yield from _declared_shapes(value, name if name in _SHAPE_KEYS or name.endswith("_shape") else None)
    elif isinstance(config, list):
        if key is not None and config and all(n is None or _is_size(n) for n in config):
            yield key, config
        else:
            for item in config:
                yield from _declared_shapes(item, key if isinstance(item, list) else None)


def _is_size(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0
