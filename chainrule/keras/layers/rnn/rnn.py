"""RNN: runs a cell over the time axis of a sequence (Keras 3's ``keras.layers.RNN``), one step at a time through ops.

A cell is a layer (or object) with ``call(inputs, states)`` returning ``(output, new_states)`` and a ``state_size``
(an int, or a list of ints or shapes, one per state); ``output_size`` is optional. Masked steps follow Keras: the
states stay, and the output repeats the previous step's (zeros before the first, or always with
``zero_output_for_mask``). ``go_backwards`` runs from the last step and returns the outputs in that order.

>>> import numpy as np
>>> from chainrule import keras
>>> class MinimalRNNCell(keras.layers.Layer):
...     def __init__(self, units, **kwargs):
...         super().__init__(**kwargs)
...         self.units = self.state_size = units
...     def build(self, input_shape):
...         self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
...         self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")
...     def call(self, inputs, states):
...         output = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(states[0], self.recurrent_kernel)
...         return output, [output]
>>> layer = RNN(MinimalRNNCell(4), return_sequences=True)
>>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
(2, 5, 4)
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor, Variable, as_tensor
from chainrule.keras.layers.base import Layer, holds_symbolic
from chainrule.ops.creation import zeros
from chainrule.ops.math import cast
from chainrule.ops.shape import expand_dims, stack
from chainrule.utils import tree


def _state_shapes(state_size) -> list:
    """``state_size`` as a list with one entry per state: an int, a shape tuple, or a list of those (nested)."""
    sizes = state_size if isinstance(state_size, (list, tuple)) and not _is_shape(state_size) else [state_size]
    return list(sizes)


def _is_shape(size) -> bool:
    return hasattr(size, "as_list") or (isinstance(size, tuple) and all(isinstance(n, (int, np.integer))
                                                                        for n in size) and len(size) > 1)


def _dims(size) -> tuple:
    """One state's size (an int, a TensorShape or a tuple) as a tuple of ints."""
    if hasattr(size, "as_list"):
        size = size.as_list()
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(n) for n in size)


def _zeros_for(size, batch: int, dtype) -> Tensor | list:
    if isinstance(size, list):
        return [_zeros_for(s, batch, dtype) for s in size]
    return zeros((batch,) + _dims(size), dtype=dtype)  # made by a (replayed) op, so that a traced step may hold it


class RNN(Layer):
    """Keras's generic recurrent layer: ``RNN(cell, return_sequences, return_state, go_backwards, stateful, unroll,
    zero_output_for_mask)``; a list of cells is stacked (:class:`StackedRNNCells`)."""

    _untracked_attributes = Layer._untracked_attributes | {"states"}  # stateful layers' state: not a weight (Keras)

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from chainrule.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if getattr(cell, "state_size", None) is None:
            raise ValueError(f"The RNN cell should have a `state_size` attribute (single integer or list of "
                             f"integers, one integer per RNN state). Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None
        self.state_size = _state_shapes(cell.state_size)
        self.single_state = not isinstance(cell.state_size, (list, tuple)) or _is_shape(cell.state_size)

    # --- shapes and masks ---------------------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        first = tree.flatten(sequences_shape, is_leaf=_is_shape_tuple)[0] if not _is_shape_tuple(sequences_shape) \
            else sequences_shape
        if len(first) < 3:
            raise ValueError(f"Layer '{self.name}' expects inputs of shape (batch, time, features), got "
                             f"{tuple(first)}")
        step_shape = tree.map_structure(lambda s: (s[0],) + tuple(s[2:]), sequences_shape, is_leaf=_is_shape_tuple) \
            if not _is_shape_tuple(sequences_shape) else (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        self.built = True

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        if not _is_shape_tuple(sequences_shape):
            return super().compute_output_shape(sequences_shape)
        batch, length = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, (int, np.integer)):
            return super().compute_output_shape(sequences_shape)
        output = (batch, length, int(output_size)) if self.return_sequences else (batch, int(output_size))
        if not self.return_state:
            return output
        states = [tree.map_structure(lambda s: (batch,) + _dims(s), size, is_leaf=_is_size) for size in
                  self.state_size]
        return [output, *states]

    def compute_mask(self, inputs, mask=None):
        mask = tree.flatten(mask)[0] if isinstance(mask, (list, tuple)) else mask
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.state_size) if self.return_state else output_mask

    # --- states -------------------------------------------------------------------------------------------------
    def get_initial_state(self, batch_size: int) -> list:
        if getattr(batch_size, "ndim", 0):  # tf.keras 2's get_initial_state(inputs): a batch of sequences
            batch_size = int(batch_size.shape[0])
        own = getattr(self.cell, "get_initial_state", None)
        if own is not None:
            state = own(batch_size=batch_size)
            return list(state) if isinstance(state, (list, tuple)) else [state]
        return [_zeros_for(size, batch_size, self.compute_dtype) for size in self.state_size]

    def reset_state(self) -> None:
        """Set a stateful layer's states to zeros."""
        if self.states is not None:
            for var in tree.flatten(self.states):
                var.assign(np.zeros(var.shape, dtype=var.dtype))

    def reset_states(self) -> None:
        """Keras 2's name of :meth:`reset_state`."""
        self.reset_state()

    def _stateful_initial_state(self, batch: int) -> list:
        if self.states is None:
            self.states = tree.map_structure(lambda t: Variable(t.data, trainable=False, name="rnn_state"),
                                             self.get_initial_state(batch))
        expected = tree.flatten(self.states)[0].shape[0]
        if batch != expected:
            raise ValueError(f"If an RNN is stateful, the batch size of the input sequences must be the same as the "
                             f"batch size of the initial state. \n- Expected batch size: {expected}\n- Received "
                             f"batch size: {batch}")
        return self.states

    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        if self.stateful and (holds_symbolic(args) or holds_symbolic(tuple(kwargs.values()))):
            self.reset_state()  # the symbolic call's shape probes ran on zeros: no real sequence has been seen
        return outputs

    # --- the loop -----------------------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=False):
        first = tree.flatten(sequences)[0]
        batch, steps = first.shape[0], first.shape[1]
        if steps is None or steps == 0:
            raise ValueError(f"Layer '{self.name}': the input sequences have no time steps (shape {first.shape})")
        if initial_state is None:
            initial_state = self._stateful_initial_state(batch) if self.stateful else self.get_initial_state(batch)
        elif self.stateful:
            self._stateful_initial_state(batch)
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = tree.map_structure(lambda s: as_tensor(s, dtype=self.compute_dtype), list(initial_state))
        if len(initial_state) != len(self.state_size):
            raise ValueError(f"Layer '{self.name}' expects {len(self.state_size)} initial state(s) (the cell's "
                             f"state_size {self.cell.state_size}), got {len(initial_state)}")
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = as_tensor(mask)
        self._reset_dropout_masks(self.cell)
        try:
            last_output, outputs, states = self.inner_loop(sequences, initial_state, mask, training)
        finally:
            self._reset_dropout_masks(self.cell)
        if self.stateful:
            for var, state in zip(tree.flatten(self.states), tree.flatten(states)):
                var.assign(state)
        output = outputs if self.return_sequences else last_output
        return [output, *states] if self.return_state else output

    def inner_loop(self, sequences, initial_state: list, mask, training) -> tuple:
        """(last output, outputs (batch, time, ...) or None, final states), running the cell step by step."""
        cell_kwargs = {"training": training} if isinstance(self.cell, Layer) else {}
        step = self.cell if isinstance(self.cell, Layer) else self.cell.call
        steps = tree.flatten(sequences)[0].shape[1]
        states_in = initial_state
        outputs, previous = [], None
        for t in (range(steps - 1, -1, -1) if self.go_backwards else range(steps)):
            x_t = tree.map_structure(lambda s: s[:, t], sequences)
            output, new_states = step(x_t, states_in, **cell_kwargs)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                keep = cast(expand_dims(mask[:, t], -1), self.compute_dtype)
                if previous is None or self.zero_output_for_mask:
                    previous = tree.map_structure(lambda o: o * 0, output)
                output = tree.map_structure(lambda o, p: _select(keep, o, p), output, previous)
                new_states = tree.map_structure(lambda n, s: _select(keep, n, s), new_states, list(states_in))
            outputs.append(output)
            previous = output
            states_in = new_states
        stacked = tree.map_structure(lambda *steps_: stack(list(steps_), axis=1), *outputs) \
            if self.return_sequences else None
        return outputs[-1], stacked, list(states_in)

    @staticmethod
    def _reset_dropout_masks(cell) -> None:
        for inner in getattr(cell, "cells", [cell]):
            if hasattr(inner, "reset_dropout_mask"):
                inner.reset_dropout_mask()
                inner.reset_recurrent_dropout_mask()

    def get_config(self) -> dict:
        from chainrule.keras.models.serialization import serialize_layer

        return {**super().get_config(), "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask, "cell": serialize_layer(self.cell)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "RNN":
        from chainrule.keras.models.serialization import deserialize_layer

        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _select(keep: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """``new`` on the rows where ``keep`` (0/1, (batch, 1)) is 1, else ``old``; arithmetic rather than ``where`` so
    that a replayed step takes the mask from the step's own inputs (a where's condition is read as a constant)."""
    while keep.ndim < new.ndim:
        keep = expand_dims(keep, -1)
    return new * keep + old * (1 - keep)


def _is_shape_tuple(x) -> bool:
    return isinstance(x, tuple) and all(n is None or isinstance(n, (int, np.integer)) for n in x)


def _is_size(x) -> bool:
    return isinstance(x, (int, np.integer)) or _is_shape(x)

