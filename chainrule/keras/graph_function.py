"""``keras.Function``: a callable graph from ``keras.Input`` tensors to outputs, without a model's training
machinery (Keras 3's base of the functional model): ``fn(x)`` runs the layers in order.

>>> import numpy as np
>>> from chainrule import keras
>>> x = keras.Input((3,))
>>> fn = keras.Function(x, keras.layers.Dense(2, kernel_initializer="ones")(x), name="fn")
>>> fn(np.ones((1, 3), "float32")).numpy(), [type(op).__name__ for op in fn.operations]
(array([[3., 3.]], dtype=float32), ['InputLayer', 'Dense'])
"""
from __future__ import annotations

from chainrule.keras.models.functional import Functional


class Function:
    """The graph from ``inputs`` to ``outputs`` (a tensor, list or dict of each); call it on data of the inputs'
    structure to get the outputs'."""

    def __init__(self, inputs, outputs, name: str | None = None):
        self._graph = Functional(inputs, outputs, name=name)
        self.name = self._graph.name

    @property
    def inputs(self):
        return self._graph._nested_inputs

    @property
    def outputs(self):
        return self._graph._nested_outputs

    @property
    def operations(self) -> list:
        """The layers of the graph (its Input layers first), in the order they run."""
        return self._graph.layers

    def call(self, inputs):
        return self._graph(inputs)

    def __call__(self, inputs):
        return self.call(inputs)

    def compute_output_shape(self, input_shape):
        return self._graph.compute_output_shape(input_shape)

    def __repr__(self) -> str:
        return f"<Function name={self.name}>"
