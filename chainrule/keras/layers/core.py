"""Core layers: Dense, Activation, Flatten, Reshape, Dropout, InputLayer, Lambda.

>>> import numpy as np
>>> layer = Dense(4, activation="relu")
>>> layer(np.ones((2, 3), "float32")).shape
TensorShape([2, 4])
>>> Flatten()(np.ones((2, 3, 5), "float32")).shape
TensorShape([2, 15])
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

import numpy as np

from chainrule.keras import activations
from chainrule.keras import initializers
from chainrule.keras import constraints
from chainrule.keras import regularizers
from chainrule.backend.kernels import activation as act_kernels
from chainrule.keras.layers.base import InputSpec, Layer, serialize_object, unique_name
from chainrule.ops import activation as act_ops
from chainrule.ops.linalg import Linear
from chainrule.ops.nn import dropout
from chainrule.ops.shape import Reshape as ReshapeOp
from chainrule.ops.shape import Transpose


def activation_or_none(identifier) -> Callable | None:
    """The activation for ``identifier``, or None for the identity (so ``call`` can skip it)."""
    fn = activations.get(identifier)
    return None if fn is activations.linear else fn


def fuses_relu(activation) -> bool:
    """Whether a layer's activation is the plain relu, which Dense and Conv2D fuse into their affine node."""
    return activation is activations.relu or activation is act_ops.relu


def positive_int(value, name: str, layer: str) -> int:
    """``value`` as an int; an integer scalar array or tensor counts (TF's autoencoder tutorial passes
    ``tf.math.reduce_prod(shape).numpy()`` as Dense's units), as TF-Keras's ``int(units)`` takes it."""
    if getattr(value, "ndim", None) == 0 and not isinstance(value, (int, np.integer)):  # a 0-d array or tensor
        value = np.asarray(value.numpy() if hasattr(value, "numpy") else value).item()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class ActivationAttribute:
    """A layer's ``activation`` attribute: setting it also sets what ``call`` applies (``_act``, None for the
    identity) and whether the affine node fuses a relu (``_fused_relu``), so that ``layer.activation = None`` after
    construction takes effect, as in Keras (its Grad-CAM example drops a classifier's softmax that way)."""

    def __get__(self, layer, owner=None):
        return self if layer is None else layer.__dict__.get("_activation")

    def __set__(self, layer, value) -> None:
        function = activations.get(value)
        layer.__dict__["_activation"] = function
        layer.__dict__["_act"] = activation_or_none(function)
        layer.__dict__["_fused_relu"] = fuses_relu(function)


class KernelLayer(Layer):
    """What Dense and Conv2D share: an activation, a kernel and an optional bias, their initializers and regularizers.

    ``call`` applies ``self._act`` (None for the identity) to the affine output, so a linear layer costs no extra op.
    """

    activation = ActivationAttribute()

    def __init__(self, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def _add_kernel_and_bias(self, kernel_shape: tuple, units: int) -> None:
        self.kernel = self.add_weight(shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_object(initializers, self.kernel_initializer),
                "bias_initializer": serialize_object(initializers, self.bias_initializer),
                "kernel_regularizer": serialize_object(regularizers, self.kernel_regularizer),
                "bias_regularizer": serialize_object(regularizers, self.bias_regularizer),
                "kernel_constraint": serialize_object(constraints, self.kernel_constraint),
                "bias_constraint": serialize_object(constraints, self.bias_constraint)}


class LinearRelu(Linear):
    # y = relu(x @ W + b)   ->   gm = g * (y > 0), then as Linear: dx = gm @ Wᵀ,  dW = xᵀ @ gm,  db = Σ gm
    # Dense's node for activation='relu': bias and relu in place on the product (one pass with numba), and y > 0
    # as the mask, so no separate relu node, input copy or output array. Relu's derivative is a constant mask, so
    # under create_graph the masked g goes through Linear's differentiable backward unchanged.
    def forward(self, x, kernel, bias):
        y = x @ kernel
        act_kernels.bias_relu_(y, bias)
        return y

    def backward(self, g):
        if self.graph_out is not None:
            return super().backward(g * (self.out > 0))
        return super().backward(act_kernels.relu_grad(g, self.out))


class Dense(KernelLayer):
    """``activation(inputs @ kernel + bias)``: kernel (input_dim, units), bias (units,); acts on the last axis.

    Arguments as ``keras.layers.Dense``: units, activation, use_bias, kernel_initializer ('glorot_uniform'),
    bias_initializer ('zeros'), kernel_regularizer, bias_regularizer, activity_regularizer.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.units = positive_int(units, "units", "Dense")
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer '{self.name}' needs a known last dimension of its input, got shape {input_shape}")
        self._add_kernel_and_bias((in_dim, self.units), self.units)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def call(self, inputs):
        if self._fused_relu:  # one node: the matmul, bias and relu in place
            return LinearRelu.apply(inputs, self.kernel, self.bias)
        y = Linear.apply(inputs, self.kernel, self.bias)  # one node: the matmul with the bias added in place
        return y if self._act is None else self._act(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Activation(Layer):
    """Apply an activation function: ``Activation('relu')``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


def check_data_format(data_format, layer: str, allow_channels_first: bool = False) -> str:
    """'channels_last' (the default); 'channels_first' only where the layer can honour it."""
    data_format = "channels_last" if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    if data_format == "channels_first" and not allow_channels_first:
        raise ValueError(f"{layer}: data_format='channels_first' is not supported: chainrule computes images "
                         f"channels-last (batch, height, width, channels). Transpose the inputs to that layout and "
                         f"use data_format='channels_last'")
    return data_format


class Flatten(Layer):
    """Flatten every axis but the batch axis: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, "Flatten", allow_channels_first=True)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:  # flatten in channels-last order, as Keras
            inputs = Transpose.apply(inputs, axes=(0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ReshapeOp.apply(inputs, shape=(inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(math.prod(rest)))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape each example to ``target_shape`` (batch axis excluded; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(n) for n in target_shape)
        except TypeError:
            raise ValueError(f"Reshape: target_shape must be a tuple of ints, got {target_shape!r}") from None
        if target.count(-1) > 1 or any(n < -1 or n == 0 for n in target):
            raise ValueError(f"Reshape: target_shape must hold positive ints and at most one -1, got {target}")
        self.target_shape = target

    def _resolve(self, input_shape) -> tuple:
        """The target shape with -1 filled in for inputs of ``input_shape``; an error naming both shapes."""
        rest = input_shape[1:]
        if None in rest:
            return self.target_shape
        size, known = int(math.prod(rest)), int(math.prod(n for n in self.target_shape if n != -1))
        if -1 in self.target_shape:
            if size % known:
                self._incompatible(input_shape)
            return tuple(size // known if n == -1 else n for n in self.target_shape)
        if size != known:
            self._incompatible(input_shape)
        return self.target_shape

    def _incompatible(self, input_shape):
        raise ValueError(f"Layer '{self.name}': cannot reshape an input of shape {tuple(input_shape)} into target "
                         f"shape {self.target_shape}: the total size of each example must be unchanged")

    def build(self, input_shape):
        self._resolve(input_shape)
        self.built = True

    def call(self, inputs):
        shape = (inputs.shape[0],) + self.target_shape
        try:
            return ReshapeOp.apply(inputs, shape=shape)
        except ValueError:
            self._incompatible(inputs.shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(None if n == -1 else n for n in self._resolve(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs during training (``training=True``), scaling the rest by 1/(1-rate).

    With ``seed`` the layer draws its masks from its own generator: different masks on every call, the same
    sequence on every run.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        return dropout(inputs, self.rate, training=True, noise_shape=self.noise_shape, seed=self._rng)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        noise = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise, "seed": self.seed}


class InputLayer(Layer):
    """The entry of a model: holds the input's ``batch_shape`` and dtype; calling it returns its input.

    ``InputLayer(shape=(28, 28, 1))``, or ``batch_shape=(None, 28, 28, 1)``; the Keras 2 names ``input_shape`` and
    ``batch_input_shape`` work too.
    """

    def __init__(self, shape=None, batch_size: int | None = None, dtype=None, sparse: bool | None = None,
                 batch_shape=None, input_tensor=None, name: str | None = None, **kwargs):
        input_shape, batch_input_shape = kwargs.pop("input_shape", None), kwargs.pop("batch_input_shape", None)
        kwargs.pop("ragged", None)
        kwargs.pop("optional", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise NotImplementedError("InputLayer: sparse inputs are not supported")
        if input_tensor is not None:
            raise NotImplementedError("InputLayer: input_tensor is not supported; use chainrule.keras.Input")
        shape = input_shape if shape is None else shape
        batch_shape = batch_input_shape if batch_shape is None else batch_shape
        if shape is not None and batch_shape is not None:
            raise ValueError("InputLayer: give shape or batch_shape, not both")
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: a shape argument is required, e.g. InputLayer(shape=(28, 28, 1))")
        if batch_shape is None:
            shape = (shape,) if isinstance(shape, int) else shape
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(None if n is None else int(n) for n in batch_shape)
        self.input_shape_arg = self.batch_shape[1:]
        self.sparse = False
        self.built = True

    @property
    def shape(self) -> tuple:
        return self.batch_shape

    @property
    def output(self):
        """The symbolic tensor this layer feeds a functional model with (made once)."""
        if getattr(self, "_output", None) is None:
            from chainrule.keras import graph as functional

            self._output = functional.KerasTensor(self.batch_shape, self.dtype, name=self.name, layer=self)
        return self._output

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


class Lambda(Layer):
    """Wrap a function of the inputs as a layer: ``Lambda(lambda x: x * 2)``.

    Its config names the function but cannot carry its code (no pickle, no bytecode): ``from_config`` needs the
    function itself, passed as ``custom_objects={name: fn}`` or in the config.
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        self.function = function
        self.output_shape = None if output_shape is None or callable(output_shape) else tuple(output_shape)
        self._output_shape_fn = output_shape if callable(output_shape) else None
        self.arguments = dict(arguments or {})
        self.mask = mask  # Keras: the outputs' mask, or a function (inputs, mask) -> mask
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature takes neither
            params = {}
        self._fn_takes = {name for name in ("mask", "training") if name in params}

    def call(self, inputs, mask=None, training=None):
        extra = {"mask": mask, "training": training}
        return self.function(inputs, **self.arguments, **{name: extra[name] for name in self._fn_takes})

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape_fn is not None:
            return tuple(self._output_shape_fn(input_shape))
        if self.output_shape is not None:
            return (input_shape[0],) + self.output_shape
        return super().compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "function": getattr(self.function, "__name__", repr(self.function)),
                "output_shape": None if self.output_shape is None else list(self.output_shape),
                "arguments": self.arguments}

    @classmethod
    def from_config(cls, config, custom_objects: dict | None = None):
        config = dict(config)
        fn = config["function"]
        if isinstance(fn, str):
            if custom_objects and fn in custom_objects:
                config["function"] = custom_objects[fn]
            else:
                raise ValueError(f"Lambda.from_config: the function {fn!r} cannot be rebuilt from a config (its code "
                                 f"is not saved); pass custom_objects={{{fn!r}: the_function}}")
        return cls(**config)


class Rescaling(Layer):
    """``inputs * scale + offset`` in the layer's float dtype: ``Rescaling(1 / 255)`` turns uint8 pixels into [0, 1].

    >>> import numpy as np
    >>> Rescaling(1 / 255)(np.array([[0, 255]], "uint8")).numpy()
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        # a number, or values broadcast against the input (one per channel), as Keras 3 takes them (EfficientNet)
        self.scale, self.offset = (float(v) if np.ndim(v) == 0 else np.asarray(v, float).tolist()
                                   for v in (scale, offset))
        self.supports_masking = True

    def call(self, inputs):
        scale, offset = (v if isinstance(v, float) else np.asarray(v, self.dtype) for v in (self.scale, self.offset))
        y = inputs * scale
        return y + offset if np.any(offset) else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


__all__ = ["Dense", "Activation", "Flatten", "Reshape", "Dropout", "InputLayer", "Lambda", "Rescaling"]


def Input(shape=None, batch_size: int | None = None, name: str | None = None, dtype=None, sparse=None,
          batch_shape=None, tensor=None, **kwargs) -> KerasTensor:
    """The symbolic input of a functional model: ``x = Input(shape=(784,))`` (the batch axis is left out)."""
    if tensor is not None:
        raise NotImplementedError("Input(tensor=...) is not supported; pass shape=")
    if "input_shape" in kwargs:
        shape = kwargs.pop("input_shape")
    if kwargs:
        raise TypeError(f"Input got unexpected keyword arguments: {sorted(kwargs)}")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name or _input_name())
    return layer.output


def _input_name() -> str:
    return unique_name("input_layer")
