"""``keras.layers.Normalization``: the preprocessing layer that standardizes features, ``(x - mean) / sqrt(var)``
(Keras 3's ``keras/src/layers/preprocessing/normalization.py``; BatchNormalization is in norm.py).

The mean and variance are given to the constructor, or learnt by ``adapt(data)`` from a NumPy array, a Tensor, a
``tf.data`` Dataset or any iterable of batches (``(x, y)`` batches give their x). ``axis`` names the axes that keep
their own statistics (the last, by default: one mean per feature); the others are reduced. ``invert=True`` undoes
the normalization. The divisor is ``max(sqrt(var), epsilon)``, so a constant feature gives zeros, not infinities.
The adapted statistics are non-trainable weights (``mean``, ``variance`` and Keras's unused ``count``), saved with
the model.

>>> import numpy as np
>>> layer = Normalization()
>>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]], "float32"))
>>> layer(np.array([[1.0, 20.0]], "float32")).numpy()
array([[0., 0.]], dtype=float32)
>>> Normalization(mean=3.0, variance=4.0, invert=True)(np.array([[1.0]], "float32")).numpy()
array([[5.]], dtype=float32)
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor
from chainrule.keras import backend as keras_backend
from chainrule.keras.layers.base import Layer


def _extract_batch(batch):
    """The inputs of a batch: x of an ``(x, y)`` or ``(x, y, sample_weight)`` tuple."""
    return batch[0] if isinstance(batch, tuple) else batch


def _as_array(value) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


class Normalization(Layer):
    """Standardize inputs with a mean and variance per position along ``axis``: given, or learnt by ``adapt``."""

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (int(axis),) if isinstance(axis, (int, np.integer)) else tuple(axis)
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        if (mean is not None) != (variance is not None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must be set. Received: "
                             f"mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(d % ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={input_shape}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros",
                                         trainable=False)  # Keras keeps it (unused) for older saved models
        else:
            self._given = tuple(self._broadcast(value) for value in (self.input_mean, self.input_variance))
        self.built = True

    def _broadcast(self, value) -> np.ndarray:
        """A given mean or variance laid along the kept axes (aligned from the right), broadcast to the input's
        rank."""
        value = np.asarray(value, dtype=self.dtype)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(expanded), self._broadcast_shape).copy()

    @property
    def mean(self):
        """The mean, shaped to broadcast against the inputs (None before the layer is built)."""
        return self._statistics()[0] if self.built else None

    @property
    def variance(self):
        """The variance, shaped to broadcast against the inputs (None before the layer is built)."""
        return self._statistics()[1] if self.built else None

    def _statistics(self) -> tuple:
        if self.input_mean is not None:
            return tuple(Tensor._wrap(value) for value in self._given)
        return (ops.reshape(self.adapt_mean, self._broadcast_shape),
                ops.reshape(self.adapt_variance, self._broadcast_shape))

    def adapt(self, data) -> None:
        """Learn the mean and variance of ``data`` (an array, a Tensor, a batched Dataset or an iterable of
        batches) over the axes that are not kept."""
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}': adapt() learns the mean and variance, which were given to the "
                             f"constructor; make the layer without them to adapt it")
        batches = None
        if isinstance(data, (np.ndarray, Tensor)):
            input_shape = tuple(data.shape)
        elif hasattr(data, "__iter__") or hasattr(data, "__getitem__"):
            spec = getattr(data, "element_spec", None)
            spec = _extract_batch(spec)
            if spec is not None and getattr(spec, "shape", None) is not None and len(spec.shape) == 1:
                data = data.batch(128)  # a Dataset of single vectors, as Keras batches it
            if not hasattr(data, "__iter__"):  # a PyDataset-like sequence of batches
                data = (data[i] for i in range(len(data)))
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch. "
                                 "Pass a non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) or "
                                 "layer.adapt(list_of_batches).")
            first = _extract_batch(first)
            if getattr(first, "shape", None) is None:
                raise TypeError(f"adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                                f"attribute (e.g. numpy arrays or backend tensors). Got an element of type "
                                f"{type(first).__name__}. Ensure each yielded element is array-like with a `.shape` "
                                f"attribute.")
            input_shape = tuple(first.shape)
            batches = itertools.chain([first], iterator)
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, backend tensors, "
                            f"`tf.data.Dataset`, `keras.utils.PyDataset`, and iterables of batches (e.g. list, "
                            f"generator).")
        if not self.built:
            batch_kept = 0 in (d % len(input_shape) for d in self.axis)
            self._build_shapes = input_shape if batch_kept else (None,) + input_shape[1:]  # saved with the model
            self.build(input_shape)
        else:
            self._check_shape(input_shape)
        if batches is None:
            values = _as_array(data).astype(np.float64)
            total_mean, total_var = values.mean(axis=self._reduce_axis), values.var(axis=self._reduce_axis)
        else:
            total_mean, total_var = self._combine(batches)
        self.adapt_mean.assign(np.asarray(total_mean, dtype=self.adapt_mean.dtype))
        self.adapt_variance.assign(np.asarray(total_var, dtype=self.adapt_variance.dtype))

    def _check_shape(self, shape: tuple) -> None:
        for d in self._keep_axis:
            if shape[d] != self._build_input_shape[d]:
                raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, but adapt() is "
                                 f"being called with data with an incompatible shape, data.shape={shape}")

    def _combine(self, batches) -> tuple[np.ndarray, np.ndarray]:
        """The mean and variance over all batches, each batch's merged into the running ones (the lack-of-fit sum
        of squares, as Keras does), in float64."""
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in batches:
            values = _as_array(_extract_batch(batch)).astype(np.float64)
            if values.ndim != len(self._build_input_shape) or \
                    any(values.shape[d] != self._build_input_shape[d] for d in self._keep_axis):
                raise ValueError(f"adapt() yielded a batch with incompatible shape. Expected "
                                 f"{self._build_input_shape}, got {values.shape}.")
            count = math.prod(values.shape[d] for d in self._reduce_axis)
            total_count += count
            batch_weight = count / total_count
            existing_weight = 1.0 - batch_weight
            batch_mean, batch_var = values.mean(axis=self._reduce_axis), values.var(axis=self._reduce_axis)
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = (total_var + (total_mean - new_mean) ** 2) * existing_weight + \
                (batch_var + (batch_mean - new_mean) ** 2) * batch_weight
            total_mean = new_mean
        return total_mean, total_var

    def call(self, inputs):
        if inputs.dtype != np.dtype(self.compute_dtype):
            inputs = ops.cast(inputs, self.compute_dtype)
        mean, variance = self._statistics()
        if mean.dtype != inputs.dtype:  # (given statistics stay in the variable dtype; mixed precision reads float16)
            mean, variance = ops.cast(mean, inputs.dtype), ops.cast(variance, inputs.dtype)
        scale = ops.maximum(ops.sqrt(variance), keras_backend.epsilon())
        return mean + inputs * scale if self.invert else (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}


__all__ = ["Normalization"]
