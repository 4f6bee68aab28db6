"""What SimpleRNNCell, LSTMCell and GRUCell share: Keras's arguments, the weights (gates side by side), the dropout
masks drawn once per sequence, and the config.

Dropout as in Keras's ``DropoutRNNCell``: one mask for the inputs and one for the recurrent state, drawn at the first
step of a sequence (training only) and used at every step until the RNN layer resets them after the sequence.

>>> import numpy as np
>>> from chainrule.keras.layers import LSTMCell
>>> cell = LSTMCell(3)
>>> h, (h_again, c) = cell(np.ones((2, 4), "float32"), [np.zeros((2, 3), "float32")] * 2)
>>> tuple(h.shape), [tuple(w.shape) for w in cell.weights]
((2, 3), [(4, 12), (3, 12), (12,)])
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.ops.creation import ones, zeros
from chainrule.keras import activations, constraints, initializers, regularizers
from chainrule.keras.layers.base import Layer, serialize_object
from chainrule.keras.layers.core import positive_int


def _rate(value, name: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(f"{layer}: {name} must be a float in [0, 1], got {value!r}")
    return min(1.0, max(0.0, float(value)))  # Keras clips the rates into [0, 1]


class RecurrentCell(Layer):
    """A cell with ``GATES`` blocks of ``units`` in its kernel (features, GATES·units), recurrent kernel
    (units, GATES·units) and bias; subclasses define ``call(inputs, states, training)`` and may override
    ``_bias_initializer``/``_bias_shape``."""

    GATES = 1

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.units = positive_int(units, "units", layer)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout", layer)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", layer)
        self.seed = seed
        from chainrule.keras.random import SeedGenerator

        self.seed_generator = SeedGenerator(seed)
        self._dropout_mask = self._recurrent_dropout_mask = None
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"Layer '{self.name}' needs a known last dimension of its input, got shape {input_shape}")
        width = self.GATES * self.units
        self.kernel = self.add_weight(shape=(features, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, width), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        self.built = True

    def _bias_shape(self) -> tuple:
        return (self.GATES * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    # --- dropout masks, one per sequence ------------------------------------------------------------------------
    def _draw(self, like: Tensor, rate: float) -> Tensor:
        from chainrule.keras import random

        return random.dropout(ones(like.shape, dtype=like.dtype), rate, seed=self.seed_generator)

    def get_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """The inputs' dropout mask (scaled keep mask) of this sequence, drawn on first use."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._draw(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state: Tensor) -> Tensor | None:
        """The recurrent state's dropout mask of this sequence, drawn on first use."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw(state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None

    def _dropped(self, inputs, h_tm1, training):
        """The step's inputs and previous state with this sequence's dropout masks applied (when training)."""
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        return inputs, h_tm1

    def get_initial_state(self, batch_size: int | None = None, dtype=None, inputs=None) -> list[Tensor]:
        """Zero states for ``batch_size`` rows. tf.keras 2's forms work too: ``get_initial_state(inputs=x)`` (or x
        first), and ``dtype``, as TensorFlow's guides call it (``batch_size=tf.shape(x)[1], dtype=tf.float32``)."""
        if inputs is None and getattr(batch_size, "ndim", 0):  # tf.keras 2's first argument: a batch of inputs
            inputs, batch_size = batch_size, None
        if batch_size is None and inputs is not None:
            batch_size = inputs.shape[0]
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [zeros((int(batch_size), n), dtype=dtype or self.compute_dtype) for n in sizes]

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_object(initializers, self.kernel_initializer),
                "recurrent_initializer": serialize_object(initializers, self.recurrent_initializer),
                "bias_initializer": serialize_object(initializers, self.bias_initializer),
                "kernel_regularizer": serialize_object(regularizers, self.kernel_regularizer),
                "recurrent_regularizer": serialize_object(regularizers, self.recurrent_regularizer),
                "bias_regularizer": serialize_object(regularizers, self.bias_regularizer),
                "kernel_constraint": serialize_object(constraints, self.kernel_constraint),
                "recurrent_constraint": serialize_object(constraints, self.recurrent_constraint),
                "bias_constraint": serialize_object(constraints, self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


def first_state(states):
    """The first state of a cell's ``states`` (a list, or one tensor)."""
    return states[0] if isinstance(states, (list, tuple)) else states
