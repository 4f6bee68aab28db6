"""``HyperModel``: builds a model from hyperparameters (``build(hp)``) and trains it (``fit(hp, model, ...)``).

Subclass it, or pass the tuner a plain function ``build(hp) -> model``; override ``fit`` to tune how a model is
trained (batch size, epochs, data augmentation): it returns ``fit``'s History or a dict of final metrics.

>>> from chainrule.keras_tuner.hyperparameters import HyperParameters
>>> class Widths(HyperModel):
...     def build(self, hp):
...         return hp.Int("units", 8, 32, step=8)
>>> Widths().build(HyperParameters())
8
"""
from __future__ import annotations

from collections.abc import Callable


class HyperModel:
    """``build(hp)`` makes a compiled model; ``fit(hp, model, *args, **kwargs)`` trains it (``model.fit`` by
    default)."""

    def __init__(self, name: str | None = None, tunable: bool = True):
        self.name, self.tunable = name, tunable

    def build(self, hp):
        raise NotImplementedError(f"{type(self).__name__}.build(hp) must return a model")

    def declare_hyperparameters(self, hp) -> None:
        """Declare hyperparameters before any build (none by default)."""

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """A HyperModel around a function ``build(hp) -> model``."""

    def __init__(self, build: Callable):
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp):
        return self._build(hp)


def get_hypermodel(hypermodel) -> HyperModel:
    """``hypermodel`` as a HyperModel: itself, or a function wrapped."""
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return FunctionHyperModel(hypermodel)
    raise ValueError(f"The `hypermodel` argument should be either a callable with signature `build(hp)` returning "
                     f"a model, or an instance of `HyperModel`; got {hypermodel!r}")
