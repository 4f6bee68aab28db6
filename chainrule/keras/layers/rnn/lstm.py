"""LSTMCell and LSTM (Keras 3's arguments and defaults; gates i, f, c, o side by side in the weights).

>>> import numpy as np
>>> out, h, c = LSTM(4, return_sequences=True, return_state=True)(np.ones((2, 5, 3), "float32"))
>>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
((2, 5, 4), (2, 4), (2, 4))
"""
from __future__ import annotations

from chainrule import backend
from chainrule.engine.tensor import as_tensor
from chainrule.keras.layers.rnn.cell import RecurrentCell
from chainrule.keras.layers.rnn.fused_layer import FusedRNN
from chainrule.ops.linalg import Linear, matmul
from chainrule.ops.recurrent import lstm


class LSTMCell(RecurrentCell):
    """One LSTM step; state_size = [units, units] (h, c). ``unit_forget_bias`` starts the forget gate's bias at 1."""

    GATES = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        n, base = self.units, self.bias_initializer

        def bias_initializer(shape, dtype=None):
            # on the namespace of the base initializer's arrays (the current backend's device)
            first, rest = as_tensor(base((n,), dtype=dtype)).data, as_tensor(base((2 * n,), dtype=dtype)).data
            xp = backend.array_namespace(first)
            return xp.concat([first, xp.ones(n, dtype=first.dtype), rest])
        return bias_initializer

    def call(self, inputs, states, training=False):
        inputs, h_tm1 = self._dropped(inputs, states[0], training)
        n, act, gate = self.units, self.activation, self.recurrent_activation
        z = Linear.apply(inputs, self.kernel, self.bias) + matmul(h_tm1, self.recurrent_kernel)
        i, f, o = gate(z[:, :n]), gate(z[:, n:2 * n]), gate(z[:, 3 * n:])
        c = f * states[1] + i * act(z[:, 2 * n:3 * n])
        h = o * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class LSTM(FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), ``keras.layers.LSTM``."""

    CELL = LSTMCell

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         **kwargs)

    def fused(self, sequences, initial_state: list, mask) -> tuple:
        cell = self.cell
        return lstm(sequences, initial_state[0], initial_state[1], cell.kernel, cell.recurrent_kernel, cell.bias,
                    **self.fused_settings(mask))



