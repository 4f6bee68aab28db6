"""Layer: the Keras contract — lazy ``build`` from the first input's shape, weights, regularization, config.

>>> import numpy as np
>>> from chainrule.keras.layers import Dense
>>> layer = Dense(3)
>>> layer(np.ones((2, 4), "float32")).shape
(2, 3)
>>> [w.shape for w in layer.get_weights()]
[(4, 3), (3,)]
"""
from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, Variable, as_tensor
from chainrule.utils.naming import to_snake_case

_name_counts: defaultdict[str, int] = defaultdict(int)


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... as Keras names layers."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


class InputSpec:
    """What a built layer accepts: the rank and the sizes of some axes (batch excluded)."""

    def __init__(self, ndim: int | None = None, min_ndim: int | None = None, axes: dict[int, int] | None = None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, axes or {}

    def check(self, layer_name: str, shape: tuple[int, ...]) -> None:
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected ndim="
                             f"{self.ndim}, found ndim={len(shape)}. Full shape received: {shape}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected "
                             f"min_ndim={self.min_ndim}, found ndim={len(shape)}. Full shape received: {shape}")
        for axis, size in self.axes.items():
            if shape[axis] != size:
                raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected axis "
                                 f"{axis} of input shape to have value {size}, but received input with shape {shape}")


class Layer:
    """Base class of every layer: subclasses define ``build(input_shape)`` and ``call(inputs, training=None)``."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: str | None = None,
                 input_shape: tuple | None = None, batch_input_shape: tuple | None = None,
                 input_dim: int | None = None, activity_regularizer=None, **kwargs: Any):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {sorted(kwargs)}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._own_trainable: list[Variable] = []  # weights created trainable: they follow ``layer.trainable``
        self.dtype = dtype or backend.floatx()
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.input_shape_arg = None if input_shape is None else tuple(input_shape)
        self.built = False
        self.input_spec: InputSpec | None = None
        self._weights: list[Variable] = []
        self._regularized: list[tuple[Variable, Any]] = []
        self._activity_losses: list[Tensor] = []
        from chainrule.keras import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze, as Keras: the layer's trainable weights (and sublayers') stop or start getting
        gradients; weights created non-trainable (BatchNormalization's moving statistics) stay so."""
        self._trainable = bool(value)
        for var in self._own_trainable:
            var.trainable = var.requires_grad = self._trainable
        for layer in self._sublayers():
            layer.trainable = value

    # --- building -------------------------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""
        self.built = True

    def add_weight(self, shape: tuple, initializer="glorot_uniform", regularizer=None, trainable: bool = True,
                   name: str | None = None, dtype: str | None = None, constraint=None) -> Variable:
        """Create a Variable owned by this layer, as ``keras.layers.Layer.add_weight``."""
        from chainrule.keras import initializers
        from chainrule.keras import regularizers

        value = initializers.get(initializer)(tuple(shape), dtype=dtype or self.dtype)
        var = Variable(value, trainable=trainable and self.trainable, name=f"{self.name}/{name or 'weight'}")
        self._weights.append(var)
        if trainable:
            self._own_trainable.append(var)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((var, reg))
        return var

    def _maybe_build(self, shape) -> None:
        if not self.built:
            self.build(_batch_free(shape))
            self.built = True

    # --- calling --------------------------------------------------------------------------------------------------
    def __call__(self, inputs, training: bool | None = None, **kwargs):
        if type(inputs) is not Tensor:  # arrays, several inputs, or symbolic KerasTensors (the functional API)
            from chainrule.keras.graph import KerasTensor, call_symbolic

            if _any_symbolic(inputs, KerasTensor):
                return call_symbolic(self, inputs, **kwargs)
        inputs = self._checked_input(inputs)
        if self._call_takes_training():
            kwargs["training"] = bool(training)
        outputs = self.call(inputs, **kwargs)
        if self.activity_regularizer is not None:  # Keras: the penalty of the latest call's outputs, per sample
            flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            self._activity_losses = [self.activity_regularizer(out) / out.shape[0] if out.ndim and out.shape[0]
                                     else self.activity_regularizer(out) for out in flat]
        return outputs

    def _checked_input(self, inputs):
        """``inputs`` as Tensors of this layer's dtype, the layer built for them and its input spec checked."""
        inputs = self._convert(inputs)
        if not self.built:
            if self.input_spec is not None and isinstance(inputs, Tensor):  # a spec set in __init__: check first
                self.input_spec.check(self.name, inputs.shape)
            self._maybe_build(_shape_of(inputs))
        if self.input_spec is not None and isinstance(inputs, Tensor):
            self.input_spec.check(self.name, inputs.shape)
        return inputs

    def call(self, inputs, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def _convert(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(self._convert(x) for x in inputs)
        t = as_tensor(inputs)
        if t.dtype.kind == "f" and t.dtype != self.dtype:
            from chainrule.ops import cast

            t = cast(t, self.dtype)
        return t

    @classmethod
    def _call_takes_training(cls) -> bool:
        cached = cls.__dict__.get("_takes_training")
        if cached is None:
            cached = "training" in inspect.signature(cls.call).parameters
            cls._takes_training = cached
        return cached

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The output shape for ``input_shape``, found by running the layer on a batch of one zero input."""
        from chainrule.engine.autograd import no_grad

        def zeros(shape):
            return np.zeros((1,) + tuple(shape[1:]), dtype=self.dtype)

        sample = [zeros(s) for s in input_shape] if _is_shape_list(input_shape) else zeros(input_shape)
        with no_grad():
            out = self(sample)
        return (None,) + tuple(out.shape[1:])

    # --- the symbolic graph ---------------------------------------------------------------------------------------
    @property
    def input(self):
        """The symbolic input of this layer's first call on symbolic tensors (Keras's ``layer.input``)."""
        return self._first_node("input").inputs

    @property
    def output(self):
        """The symbolic output of this layer's first call on symbolic tensors, e.g. for a feature extractor:
        ``keras.Model(model.inputs, model.layers[0].output)``."""
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def _first_node(self, what: str):
        nodes = getattr(self, "_inbound_nodes", None)
        if not nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic input, so it has no {what}. "
                                 f"Call it in a model with a known input (keras.Input(shape) or input_shape=) first")
        return nodes[0]

    # --- weights --------------------------------------------------------------------------------------------------
    @property
    def weights(self) -> list[Variable]:
        return list(self._weights) + [w for layer in self._sublayers() for w in layer.weights]

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if not w.trainable or not self.trainable]

    def _sublayers(self) -> list["Layer"]:
        return []

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in Keras's order (e.g. Dense: kernel, bias)."""
        return [w.numpy() for w in self.weights]  # weights are Variables: numpy() is a copy already

    def set_weights(self, weights: list) -> None:
        """Load weights given in ``get_weights`` order; shapes must match exactly."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weights, but set_weights received "
                             f"{len(weights)}")
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(f"Layer '{self.name}' weight '{var.name}' has shape {var.shape}, but the value "
                                 f"given has shape {value.shape}")
            var.assign(value.astype(var.dtype, copy=False))

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties of this layer's weights (recomputed, so they are differentiable)."""
        own = [reg(var) for var, reg in self._regularized] + list(self._activity_losses)
        return own + [loss for layer in self._sublayers() for loss in layer.losses]

    # --- config ---------------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:
            from chainrule.keras import regularizers

            config["activity_regularizer"] = serialize_object(regularizers, self.activity_regularizer)
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def serialize_object(module, obj):
    """An initializer or regularizer as JSON-able config for ``get_config``: ``module.serialize(obj)`` for the
    library's objects, None for None, and the function's name for a plain function."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return module.serialize(obj)
    return getattr(obj, "__name__", repr(obj))


def check_no_constraint(layer: str, **constraints) -> None:
    """Weight constraints are not implemented: accept None (as Keras configs write it) and refuse anything else."""
    for key, value in constraints.items():
        if value is not None:
            raise NotImplementedError(f"{layer}: {key}={value!r} is not supported (chainrule has no weight "
                                      f"constraints yet); pass None")


def _any_symbolic(inputs, kind) -> bool:
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(x, kind) for x in inputs)
    return isinstance(inputs, kind)


def _shape_of(inputs) -> tuple:
    if isinstance(inputs, (list, tuple)):
        return [x.shape for x in inputs]
    return inputs.shape


def _batch_free(shape):
    """The shape(s) with the batch axis replaced by None, as ``build`` receives them."""
    if _is_shape_list(shape):
        return [(None,) + tuple(s[1:]) for s in shape]
    return (None,) + tuple(shape[1:])


def _is_shape_list(shape) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))
