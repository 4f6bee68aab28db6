"""Layers that wrap another layer: ``TimeDistributed`` (the layer on every time step) and ``Bidirectional`` (a
recurrent layer run forwards and backwards, the two outputs merged), as Keras 3's.

>>> import numpy as np
>>> from chainrule.keras.layers import Dense
>>> tuple(TimeDistributed(Dense(3))(np.ones((2, 5, 4), "float32")).shape)
(2, 5, 3)
"""
from __future__ import annotations

from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import Layer, _signature, mask_of
from chainrule.ops.math import Cast
from chainrule.ops.shape import GetItem, Reshape, concat

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _serialize(layer: Layer) -> dict:
    from chainrule.keras.models.serialization import serialize_layer  # (models import the layers)

    return serialize_layer(layer)


def _deserialize(config: dict, custom_objects: dict | None) -> Layer:
    from chainrule.keras.models.serialization import deserialize_layer

    return deserialize_layer(config, custom_objects)


class Wrapper(Layer):
    """Base of the layers that wrap one layer (``self.layer``): its config holds the wrapped layer's."""

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped "
                             f"layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None) -> None:
        if not self.layer.built:
            self.layer._build_shapes = input_shape
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Wrapper":
        config = dict(config)
        return cls(_deserialize(config.pop("layer"), custom_objects), **config)


def _merge_time(x: Tensor) -> Tensor:
    """(batch, steps, ...) -> (batch * steps, ...)."""
    return Reshape.apply(x, shape=(x.shape[0] * x.shape[1],) + x.shape[2:])


def _split_time(x: Tensor, batch: int, steps: int) -> Tensor:
    """(batch * steps, ...) -> (batch, steps, ...)."""
    return Reshape.apply(x, shape=(batch, steps) + x.shape[1:])


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every time step: inputs ``(batch, steps, ...)``, the layer sees ``(batch * steps, ...)`` in
    one call (one GEMM for a Dense, not one per step) and its outputs come back as ``(batch, steps, ...)``.

    A ``(batch, steps)`` mask is passed to the wrapped layer per step when its ``call`` takes one, and the output
    carries the wrapped layer's output mask (steps axis restored) or else the input's mask, as tf.keras's does.
    """

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape) -> None:
        super().build(self._child_shape(input_shape))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def _check_mask(self, inputs, mask) -> None:
        if mask.ndim < 2 or tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} that "
                             f"is incompatible with the input shape {tuple(inputs.shape)}. The first two dimensions "
                             f"of the mask (batch size and timesteps) must match the input's first two dimensions.")

    def call(self, inputs, training=None, mask=None):
        self._child_shape(inputs.shape)
        batch, steps = inputs.shape[:2]
        kwargs = {} if training is None else {"training": training}
        if mask is not None:
            self._check_mask(inputs, mask)
            if _signature(type(self.layer)).takes_mask:
                kwargs["mask"] = _merge_time(mask)
        outputs = self.layer(_merge_time(inputs), **kwargs)
        if not isinstance(outputs, Tensor):
            raise ValueError(f"TimeDistributed layer '{self.name}': the wrapped layer '{self.layer.name}' must return "
                             f"one tensor, got {type(outputs).__name__}")
        inner_mask = mask_of(outputs)
        outputs = _split_time(outputs, batch, steps)
        out_mask = mask if inner_mask is None else _split_time(inner_mask, batch, steps)
        if out_mask is not None:
            outputs._keras_mask = out_mask
        return outputs

    def compute_mask(self, inputs, mask=None):
        if not isinstance(inputs, Tensor) or inputs.ndim < 3:
            return mask
        batch, steps = inputs.shape[:2]
        inner = self.layer.compute_mask(_merge_time(inputs), None if mask is None else _merge_time(mask))
        return mask if inner is None else _split_time(inner, batch, steps)


def _reversed_in_time(x: Tensor) -> Tensor:
    return GetItem.apply(x, index=(slice(None), slice(None, None, -1)))


class Bidirectional(Layer):
    """Run a recurrent ``layer`` forwards and a copy of it backwards (``go_backwards`` flipped, or ``backward_layer``)
    over the same sequences and merge the two outputs: ``merge_mode`` 'concat' (the default), 'sum', 'mul', 'ave', or
    None (the two as a list). With ``return_sequences`` the backward outputs are put back in time order first. With
    ``return_state`` the forward layer's states follow the output, then the backward layer's; ``initial_state`` is
    split the same way (first half forwards). A mask reaches both layers. The two layers are new ones made from
    ``layer``'s config, with new weights, as in Keras 3.
    """

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: "
                             f"{backward_layer}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             f'{{"sum", "mul", "ave", "concat", None}}')
        super().__init__(**kwargs)
        self.forward_layer = self._copy(layer, f"forward_{layer.name.removeprefix('forward_')}")
        if backward_layer is None:
            backward_layer = self._copy(layer, f"backward_{layer.name.removeprefix('backward_')}",
                                        go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        self._verify_layer_config()
        for each in (self.forward_layer, self.backward_layer):  # a masked step's output is 0 in a merged sequence
            if getattr(each, "zero_output_for_mask", None) is not None:
                each.zero_output_for_mask = each.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec
        if weights:
            half = len(weights) // 2
            self._initial_weights = (weights[:half], weights[half:])

    @staticmethod
    def _copy(layer: Layer, name: str, **changes) -> Layer:
        config = {**layer.get_config(), "name": name, **changes}
        return type(layer).from_config(config)

    def _verify_layer_config(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different `go_backwards` value. Received: "
                             f"forward_layer.go_backwards {forward.go_backwards}, backward_layer.go_backwards="
                             f"{backward.go_backwards}")
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(f'Forward layer and backward layer are expected to have the same value for attribute '
                                 f'"{name}", got "{getattr(forward, name)}" for forward layer and '
                                 f'"{getattr(backward, name)}" for backward layer')

    def build(self, sequences_shape, initial_state_shape=None) -> None:
        for each in (self.forward_layer, self.backward_layer):
            if not each.built:
                each._build_shapes = tuple(sequences_shape)
                each.build(tuple(sequences_shape))
                each.built = True
        initial = getattr(self, "_initial_weights", None)
        if initial is not None:
            self.forward_layer.set_weights(initial[0])
            self.backward_layer.set_weights(initial[1])
            del self._initial_weights
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if training is not None:
            kwargs["training"] = training
        if mask is not None:
            kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if y.dtype != y_rev.dtype or y.dtype.name != self.compute_dtype:
            y, y_rev = Cast.apply(y, dtype=self.compute_dtype), Cast.apply(y_rev, dtype=self.compute_dtype)
        if self.return_sequences:
            y_rev = _reversed_in_time(y_rev)
        if self.merge_mode == "concat":
            output = concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (list(output) if self.merge_mode is None else [output]) + list(states)
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if self.return_state:
            head = output_mask if isinstance(output_mask, list) else [output_mask]
            return head + [None] * (2 * _state_count(self.forward_layer))
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = []
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            shape = shape[:-1] + (None if shape[-1] is None else shape[-1] * 2,)
        output = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return output + state_shapes + state_shapes
        return output if self.merge_mode is None else shape

    def reset_state(self) -> None:
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    @property
    def states(self):
        """A stateful layer's states, the forward layer's then the backward layer's (None before the first call)."""
        forward, backward = getattr(self.forward_layer, "states", None), getattr(self.backward_layer, "states", None)
        return tuple(forward) + tuple(backward) if forward and backward else None

    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": _serialize(self.forward_layer),
                "backward_layer": _serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Bidirectional":
        config = dict(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = _deserialize(backward, custom_objects)
        return cls(**config)


def _state_count(layer: Layer) -> int:
    """How many states a recurrent layer returns (its cell's ``state_size``: one per entry of a list)."""
    size = getattr(getattr(layer, "cell", None), "state_size", 1)
    return len(size) if isinstance(size, (list, tuple)) else 1
