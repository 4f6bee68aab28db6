"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D: LSTMs whose input and recurrent transformations are convolutions (Shi et al.
2015), as Keras 3 has them: the generic ``RNN`` loop over :class:`ConvLSTMCell`.

The kernel is ``kernel_size + (channels, 4 * filters)`` and the recurrent kernel ``kernel_size + (filters,
4 * filters)``, the gates i, f, c, o side by side on the last axis; the input convolution takes the layer's strides,
padding and dilation, the recurrent one is 'same' with stride 1, so the states keep the input convolution's output
shape. Without dropout each step is one input and one recurrent convolution over all four gates; with dropout, as in
Keras, each gate gets its own mask (four per sequence, for the inputs and for the state) and its own convolutions.

>>> import numpy as np
>>> layer = ConvLSTM2D(4, 3, padding="same", return_sequences=True)
>>> tuple(layer(np.ones((2, 5, 8, 8, 1), "float32")).shape)
(2, 5, 8, 8, 4)
>>> [tuple(w.shape) for w in layer.weights]
[(3, 3, 1, 16), (3, 3, 4, 16), (16,)]
"""
from __future__ import annotations

from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.conv import conv_output_length, normalize_padding, normalize_tuple
from chainrule.keras.layers.conv1d import check_strides_and_dilation
from chainrule.keras.layers.core import check_data_format, positive_int
from chainrule.keras.layers.rnn.cell import RecurrentCell
from chainrule.keras.layers.rnn.lstm import LSTMCell
from chainrule.keras.layers.rnn.rnn import RNN
from chainrule.keras.ops.nn import conv
from chainrule.ops.creation import zeros
from chainrule.ops.shape import reshape, split

_CELL_ARGUMENTS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate")
_CELL_SETTINGS = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout")


class ConvLSTMCell(RecurrentCell):
    """One ConvLSTM step on (batch, *spatial, channels) inputs (channels first with ``data_format``); states
    [h, c], each of the input convolution's output shape with ``filters`` channels."""

    GATES = 4

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, **kwargs):
        name = f"ConvLSTM{rank}D" if rank in (1, 2, 3) else "ConvLSTM"
        if rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. Received: rank={rank}")
        super().__init__(positive_int(filters, "filters", name), activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.rank = rank
        self.filters = self.units
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", name, n=rank)
        self.strides = normalize_tuple(strides, "strides", name, n=rank)
        self.padding = normalize_padding(padding, name)
        self.data_format = check_data_format(data_format, name, allow_channels_first=True)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", name, n=rank)
        check_strides_and_dilation(self.strides, self.dilation_rate, name)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = self.output_size = -1  # (Keras's placeholder) the shapes are known once built
        self.spatial_dims = None

    _bias_initializer = LSTMCell._bias_initializer  # the forget gate's bias starts at 1 (unit_forget_bias)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer '{self.name}' expects steps of rank {self.rank + 2} (batch, *spatial, channels), "
                             f"got shape {input_shape}")
        channels_first = self.data_format == "channels_first"
        spatial = input_shape[2:] if channels_first else input_shape[1:-1]
        channels = input_shape[1] if channels_first else input_shape[-1]
        if None in spatial:
            raise ValueError(f"ConvLSTM layers only support static input shapes for the spatial dimension. Received "
                             f"invalid input shape: input_shape={input_shape}")
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs should be defined. Found None. Full input shape "
                             f"received: input_shape={input_shape}")
        self.spatial_dims, self.input_dim = tuple(spatial), channels
        width = self.GATES * self.filters
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=self.kernel_size + (self.filters, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(width,), initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        state = self.state_shape()
        self.state_size = [state, state]
        self.output_size = state
        self.built = True

    # --- shapes -------------------------------------------------------------------------------------------------
    def state_shape(self) -> tuple:
        """The shape of h (and c) without the batch axis: the input convolution's output."""
        sizes = tuple(conv_output_length(n, k, self.padding, s, d)
                      for n, k, s, d in zip(self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate))
        if any(n <= 0 for n in sizes):
            raise ValueError(f"Layer '{self.name}': the kernel {self.kernel_size} does not fit the input's spatial "
                             f"shape {self.spatial_dims} (padding '{self.padding}')")
        return (self.filters, *sizes) if self.data_format == "channels_first" else (*sizes, self.filters)

    def get_initial_state(self, batch_size: int | None = None) -> list[Tensor]:
        shape = (batch_size,) + self.state_shape()
        return [zeros(shape, dtype=self.compute_dtype), zeros(shape, dtype=self.compute_dtype)]

    # --- one step -----------------------------------------------------------------------------------------------
    def _draw(self, like: Tensor, rate: float) -> Tensor:
        # four masks, one per gate, as Keras's ConvLSTMCell draws them (dropout_mask_count = 4)
        return super()._draw(zeros((self.GATES,) + tuple(like.shape), dtype=like.dtype), rate)

    def _input_conv(self, x, kernel, bias):
        y = conv(x, kernel, strides=self.strides, padding=self.padding, data_format=self.data_format,
                 dilation_rate=self.dilation_rate)
        if bias is None:
            return y
        return y + (reshape(bias, (-1,) + (1,) * self.rank) if self.data_format == "channels_first" else bias)

    def _recurrent_conv(self, h, kernel):
        return conv(h, kernel, strides=1, padding="same", data_format=self.data_format)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        channel_axis = 1 if self.data_format == "channels_first" else -1
        drop_in = training and 0.0 < self.dropout < 1.0
        drop_state = training and 0.0 < self.recurrent_dropout < 1.0
        if drop_in or drop_state:  # a mask per gate: each gate convolves its own masked inputs and state
            in_masks = self.get_dropout_mask(inputs) if drop_in else None
            state_masks = self.get_recurrent_dropout_mask(h_tm1) if drop_state else None
            kernels = split(self.kernel, self.GATES, axis=-1)
            recurrent_kernels = split(self.recurrent_kernel, self.GATES, axis=-1)
            biases = split(self.bias, self.GATES) if self.use_bias else [None] * self.GATES
            z = [self._input_conv(inputs if in_masks is None else inputs * in_masks[g], kernels[g], biases[g])
                 + self._recurrent_conv(h_tm1 if state_masks is None else h_tm1 * state_masks[g],
                                        recurrent_kernels[g]) for g in range(self.GATES)]
        else:  # the four gates in one input and one recurrent convolution
            z = split(self._input_conv(inputs, self.kernel, self.bias)
                      + self._recurrent_conv(h_tm1, self.recurrent_kernel), self.GATES, axis=channel_axis)
        gate, act = self.recurrent_activation, self.activation
        i, f, o = gate(z[0]), gate(z[1]), gate(z[3])
        c = f * c_tm1 + i * act(z[2])
        h = o * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("units")
        return {**config, **{name: getattr(self, name) for name in _CELL_ARGUMENTS},
                "rank": self.rank, "unit_forget_bias": self.unit_forget_bias}


class ConvLSTM(RNN):
    """The RNN over a :class:`ConvLSTMCell` of rank 1, 2 or 3: inputs (batch, time, *spatial, channels)."""

    RANK = None

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed=None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False, **kwargs):
        kwargs.pop("rank", None)
        kwargs.pop("unroll", None)  # (Keras's ConvLSTM does not take it; configs of RNN carry it)
        kwargs.pop("zero_output_for_mask", None)
        cell = ConvLSTMCell(self.RANK, filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
                            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)

    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        if len(sequences_shape) != self.RANK + 3:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects inputs of rank {self.RANK + 3} "
                             f"(batch, time, *spatial, channels), got shape {sequences_shape}")
        super().build(sequences_shape, initial_state_shape)
        self.state_size = list(self.cell.state_size)  # shapes the cell knows once built

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        if not self.cell.built:
            self.cell.build((batch,) + tuple(sequences_shape[2:]))
        state = self.cell.state_shape()
        output = (batch, steps, *state) if self.return_sequences else (batch, *state)
        return [output, (batch, *state), (batch, *state)] if self.return_state else output

    def get_config(self) -> dict:
        config = super().get_config()
        cell = config.pop("cell")["config"]
        for key in ("name", "trainable", "dtype", "rank", "units"):
            cell.pop(key, None)
        for key in ("unroll", "zero_output_for_mask"):
            config.pop(key, None)
        return {**config, **cell}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "ConvLSTM":
        return cls(**config)


for _name in _CELL_ARGUMENTS + _CELL_SETTINGS:  # Keras's ConvLSTM exposes its cell's arguments as its own
    setattr(ConvLSTM, _name, property(lambda self, name=_name: getattr(self.cell, name)))
del _name


class ConvLSTM1D(ConvLSTM):
    """``keras.layers.ConvLSTM1D``: inputs (batch, time, steps, channels)."""

    RANK = 1


class ConvLSTM2D(ConvLSTM):
    """``keras.layers.ConvLSTM2D``: inputs (batch, time, rows, cols, channels)."""

    RANK = 2


class ConvLSTM3D(ConvLSTM):
    """``keras.layers.ConvLSTM3D``: inputs (batch, time, depth, rows, cols, channels)."""

    RANK = 3


__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
