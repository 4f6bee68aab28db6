"""``keras.Operation``: the base class of a computation that runs on tensors and, given symbolic tensors
(``keras.Input`` and what layers make of them), adds itself to a functional model instead; subclasses define
``call``. Its constructor arguments are its config, as in Keras.

>>> import numpy as np
>>> from chainrule import keras
>>> class Scale(keras.Operation):
...     def __init__(self, factor, name=None):
...         super().__init__(name=name)
...         self.factor = factor
...     def call(self, x):
...         return keras.ops.multiply(x, self.factor)
>>> Scale(3.0)(np.ones(2, "float32")).numpy(), Scale(3.0).get_config()
(array([3., 3.], dtype=float32), {'factor': 3.0, 'name': 'scale'})
>>> inputs = keras.Input((2,))
>>> keras.Model(inputs, Scale(2.0)(inputs))(np.ones((1, 2), "float32")).numpy()
array([[2., 2.]], dtype=float32)
"""
from __future__ import annotations

import inspect

from chainrule.keras.layers.base import holds_symbolic
from chainrule.keras.ops.symbolic import symbolic_aware
from chainrule.utils.naming import to_snake_case


class Operation:
    """Subclasses define ``call(*args, **kwargs)``; ``op(...)`` runs it, or records it in a functional graph when an
    argument is symbolic (``symbolic_call``, whose outputs ``compute_output_spec`` returns)."""

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        try:  # the constructor's arguments, by name: Keras's default get_config
            bound = inspect.signature(cls.__init__).bind(instance, *args, **kwargs)
            bound.apply_defaults()
            instance._init_config = {k: v for k, v in list(bound.arguments.items())[1:]
                                     if inspect.signature(cls.__init__).parameters[k].kind
                                     not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        except TypeError:
            instance._init_config = None  # the constructor itself reports the bad arguments
        return instance

    def __init__(self, name: str | None = None):
        if name is None:
            name = to_snake_case(type(self).__name__)
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. Received: "
                             f"name={name} (of type {type(name)})")
        self.name = name

    def __call__(self, *args, **kwargs):
        if holds_symbolic(args) or kwargs and holds_symbolic(kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def symbolic_call(self, *args, **kwargs):
        """The symbolic outputs of this operation applied to symbolic arguments, recorded in their graph."""
        return symbolic_aware(self.call, f"keras.Operation.{self.name}")(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """The outputs' shapes and dtypes, as symbolic tensors (found by running ``call`` on the graph's probe)."""
        return self.symbolic_call(*args, **kwargs)

    def get_config(self) -> dict:
        config = dict(self._init_config or {})
        config["name"] = self.name
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Operation":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"
