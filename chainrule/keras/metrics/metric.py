"""The ``Metric`` base class: a stateful summary updated batch by batch."""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.keras import configurable as _config
from chainrule.keras.losses import _snake_case
from chainrule.engine.tensor import Tensor


class Metric(_config.Configurable):
    """Base class: subclasses define ``update_state``, ``result`` and ``reset_state`` (state in NumPy)."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = np.dtype(backend.floatx() if dtype is None else dtype)
        self.reset_state()

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define result")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define reset_state")

    def reset_states(self) -> None:
        """The TF 2.x name of :meth:`reset_state`."""
        self.reset_state()

    def _value(self, x) -> Tensor:
        """A result as a Tensor of the metric's dtype."""
        return Tensor._wrap(backend.xp.asarray(np.asarray(x, dtype=self.dtype)))

    def __call__(self, *args, **kwargs) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
