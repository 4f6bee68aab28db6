"""SimpleRNNCell and SimpleRNN: ``h_t = activation(x_t W + h_{t-1} U + b)`` (Keras 3's arguments and defaults).

>>> import numpy as np
>>> layer = SimpleRNN(4, return_sequences=True)
>>> tuple(layer(np.ones((2, 5, 3), "float32")).shape), [tuple(w.shape) for w in layer.weights]
((2, 5, 4), [(3, 4), (4, 4), (4,)])
"""
from __future__ import annotations

from chainrule.keras.layers.rnn.cell import RecurrentCell, first_state
from chainrule.keras.layers.rnn.fused_layer import FusedRNN
from chainrule.ops.linalg import Linear, matmul
from chainrule.ops.recurrent import simple_rnn


class SimpleRNNCell(RecurrentCell):
    """One step of a fully connected RNN; state_size = units."""

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def call(self, inputs, states, training=False):
        inputs, h_tm1 = self._dropped(inputs, first_state(states), training)
        h = self.activation(Linear.apply(inputs, self.kernel, self.bias) + matmul(h_tm1, self.recurrent_kernel))
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class SimpleRNN(FusedRNN):
    """A fully connected RNN whose output is fed back as its input (``keras.layers.SimpleRNN``)."""

    CELL = SimpleRNNCell

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def fused(self, sequences, initial_state: list, mask) -> tuple:
        cell = self.cell
        return simple_rnn(sequences, initial_state[0], cell.kernel, cell.recurrent_kernel, cell.bias,
                          **self.fused_settings(mask))
