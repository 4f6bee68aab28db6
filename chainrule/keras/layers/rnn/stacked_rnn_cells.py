"""StackedRNNCells: several cells run as one, each step feeding the next cell's output to the one above (Keras 3).

>>> import numpy as np
>>> from chainrule.keras.layers import LSTMCell, RNN, SimpleRNNCell
>>> stacked = StackedRNNCells([SimpleRNNCell(4), LSTMCell(3)])
>>> stacked.state_size, stacked.output_size
([4, [3, 3]], 3)
>>> tuple(RNN(stacked)(np.ones((2, 5, 6), "float32")).shape)
(2, 3)
"""
from __future__ import annotations

from chainrule.keras.layers.base import Layer


class StackedRNNCells(Layer):
    """Wraps a list of cells; its states are the list of each cell's states (Keras's order, bottom cell first)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError(f"All cells must have a `state_size` attribute. Received cell without a "
                                 f"`state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        if size is not None:
            return size
        return last.state_size[0] if isinstance(last.state_size, (list, tuple)) else last.state_size

    def get_initial_state(self, batch_size: int | None = None) -> list:
        from chainrule.keras.layers.rnn.rnn import _zeros_for

        states = []
        for cell in self.cells:
            own = getattr(cell, "get_initial_state", None)
            states.append(own(batch_size=batch_size) if own is not None else
                          _zeros_for(cell.state_size, batch_size, self.compute_dtype))
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            size = getattr(cell, "output_size", None) or (cell.state_size[0] if isinstance(cell.state_size, (list,
                                                          tuple)) else cell.state_size)
            input_shape = tuple(input_shape[:-1]) + (size,)
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            single = not isinstance(cell.state_size, (list, tuple))
            given = [cell_states] if single and not isinstance(cell_states, (list, tuple)) else list(cell_states)
            kwargs = {"training": training} if isinstance(cell, Layer) else {}
            inputs, cell_new = (cell if isinstance(cell, Layer) else cell.call)(inputs, given, **kwargs)
            cell_new = list(cell_new) if isinstance(cell_new, (list, tuple)) else [cell_new]
            new_states.append(cell_new[0] if single else cell_new)
        return inputs, new_states

    def get_config(self) -> dict:
        from chainrule.keras.models.serialization import serialize_layer

        return {**super().get_config(), "cells": [serialize_layer(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "StackedRNNCells":
        from chainrule.keras.models.serialization import deserialize_layer

        config = dict(config)
        cells = [deserialize_layer(cell, custom_objects) for cell in config.pop("cells")]
        return cls(cells, **config)
