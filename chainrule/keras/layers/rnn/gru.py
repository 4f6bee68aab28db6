"""GRUCell and GRU (Keras 3's arguments and defaults; gates z, r, h side by side in the weights).

``reset_after=True`` (the default, and PyTorch's GRU) applies the reset gate after the recurrent product and keeps
two biases, (2, 3·units); ``reset_after=False`` applies it to the state before the product, with one bias.

>>> import numpy as np
>>> layer = GRU(4)
>>> tuple(layer(np.ones((2, 5, 3), "float32")).shape), [tuple(w.shape) for w in layer.weights]
((2, 4), [(3, 12), (4, 12), (2, 12)])
"""
from __future__ import annotations

from chainrule.keras.layers.rnn.cell import RecurrentCell, first_state
from chainrule.keras.layers.rnn.fused_layer import FusedRNN
from chainrule.ops.linalg import Linear, matmul
from chainrule.ops.recurrent import gru


class GRUCell(RecurrentCell):
    """One GRU step; state_size = units."""

    GATES = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 reset_after: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        h_given = first_state(states)
        inputs, h_tm1 = self._dropped(inputs, h_given, training)
        n, gate = self.units, self.recurrent_activation
        input_bias = self.bias[0] if self.use_bias and self.reset_after else self.bias
        x = Linear.apply(inputs, self.kernel, input_bias)
        if self.reset_after:
            inner = matmul(h_tm1, self.recurrent_kernel)
            if self.use_bias:
                inner = inner + self.bias[1]
        else:
            inner = matmul(h_tm1, self.recurrent_kernel[:, :2 * n])
        z = gate(x[:, :n] + inner[:, :n])
        r = gate(x[:, n:2 * n] + inner[:, n:2 * n])
        if self.reset_after:
            recurrent_h = r * inner[:, 2 * n:]
        else:
            recurrent_h = matmul(r * h_tm1, self.recurrent_kernel[:, 2 * n:])
        hh = self.activation(x[:, 2 * n:] + recurrent_h)
        h = z * h_given + (1 - z) * hh
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_config(self) -> dict:
        return {**super().get_config(), "reset_after": self.reset_after}


class GRU(FusedRNN):
    """Gated Recurrent Unit (Cho et al. 2014), ``keras.layers.GRU``."""

    CELL = GRUCell

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         **kwargs)

    def fused(self, sequences, initial_state: list, mask) -> tuple:
        cell = self.cell
        return gru(sequences, initial_state[0], cell.kernel, cell.recurrent_kernel, cell.bias,
                   reset_after=cell.reset_after, **self.fused_settings(mask))
