"""What SimpleRNN, LSTM and GRU share: Keras's arguments split between the cell and the RNN, the config (the cell's
arguments at the top level, as Keras writes it), and the choice between the fused op and the cell loop.

The fused ops (chainrule/ops/recurrent.py) run the whole sequence in one node. A layer uses them, as Keras uses
cuDNN, whenever its configuration is one they compute: the standard activations (tanh, with sigmoid gates), no
recurrent dropout while training, ``unroll=False``, and ``use_cudnn`` not False. Otherwise the cell runs step by
step. Both give the same numbers (input dropout is one mask per sequence either way).
"""
from __future__ import annotations

from chainrule import ops
from chainrule.keras import activations
from chainrule.keras.layers.base import InputSpec
from chainrule.keras.layers.rnn.rnn import RNN
from chainrule.ops.shape import expand_dims
from chainrule.utils.naming import to_snake_case

RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")
LAYER_ARGUMENTS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "input_dim",
                   "activity_regularizer", "autocast")


def is_tanh(fn) -> bool:
    return fn is activations.tanh or fn is ops.tanh


def is_sigmoid(fn) -> bool:
    return fn is activations.sigmoid or fn is ops.sigmoid


class FusedRNN(RNN):
    """An RNN over a built-in cell (``CELL``), made from the cell's arguments and the RNN's."""

    CELL: type = None

    def __init__(self, units, use_cudnn="auto", **kwargs):
        rnn_arguments = {key: kwargs.pop(key) for key in RNN_ARGUMENTS if key in kwargs}
        layer_arguments = {key: kwargs.pop(key) for key in LAYER_ARGUMENTS if key in kwargs}
        kwargs.pop("implementation", None)  # Keras's choice of kernel layout: no effect on the results
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid valid received for argument `use_cudnn`. Expected one of {{'auto', True, "
                             f"False}}. Received: use_cudnn={use_cudnn}")
        cell = self.CELL(units, dtype=layer_arguments.get("dtype"), trainable=layer_arguments.get("trainable", True),
                         name=to_snake_case(self.CELL.__name__), **kwargs)
        super().__init__(cell, **rnn_arguments, **layer_arguments)
        self.use_cudnn = use_cudnn
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # the cell's arguments read on the layer, as Keras's properties (layer.units, layer.dropout, ...)
        if name in _CELL_ATTRIBUTES and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def fused_supported(self, training) -> bool:
        """Whether the fused op computes this configuration (the cell loop runs otherwise)."""
        cell = self.cell
        return (self.use_cudnn is not False and not self.unroll and is_tanh(cell.activation)
                and (not hasattr(cell, "recurrent_activation") or is_sigmoid(cell.recurrent_activation))
                and not (training and cell.recurrent_dropout > 0))

    def fused(self, sequences, initial_state: list, mask) -> tuple:
        """The fused op's (outputs, *final states) for these sequences."""
        raise NotImplementedError

    def fused_settings(self, mask) -> dict:
        """The RNN's arguments to the fused op. Every step's outputs only where the layer returns them or takes the
        last one from them (zeros may replace it): else the op packs none (``inner_loop`` then uses the final h)."""
        return dict(mask=mask, go_backwards=self.go_backwards, zero_output_for_mask=self.zero_output_for_mask,
                    return_sequences=self.return_sequences or (mask is not None and self.zero_output_for_mask))

    def inner_loop(self, sequences, initial_state: list, mask, training) -> tuple:
        if not self.fused_supported(training):
            if self.use_cudnn is True:
                raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for this layer "
                                 "configuration with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN "
                                 "implementation.")
            return super().inner_loop(sequences, initial_state, mask, training)
        if training and 0.0 < self.cell.dropout < 1.0:  # the cell's mask for this sequence, at every step
            sequences = sequences * expand_dims(self.cell.get_dropout_mask(sequences[:, 0]), 1)
        outputs, *states = self.fused(sequences, initial_state, mask)
        # the last output is the final h, except where zeros replace masked outputs (Keras's outputs[-1] then)
        last = outputs[:, -1] if mask is not None and self.zero_output_for_mask else states[0]
        return last, outputs, states

    def get_config(self) -> dict:
        config = super().get_config()
        cell_config = config.pop("cell")["config"]
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**config, **cell_config, "use_cudnn": self.use_cudnn}

    @classmethod
    def from_config(cls, config: dict) -> "FusedRNN":
        return cls(**config)


_CELL_ATTRIBUTES = frozenset({"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                              "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                              "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                              "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed",
                              "unit_forget_bias", "reset_after"})
