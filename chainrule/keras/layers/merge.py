"""Merge layers: combine a list of inputs elementwise (Add, Subtract, Multiply, Average, Maximum, Minimum), by
joining them along an axis (Concatenate), or by a dot product per example (Dot). Lower-case functions
``add([a, b])`` etc. build and call them at once.

>>> import numpy as np
>>> a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
>>> Add()([a, b]).numpy()[0]
array([3., 3., 3.], dtype=float32)
>>> Concatenate()([a, b]).shape
TensorShape([2, 6])
"""
from __future__ import annotations

from chainrule import backend, ops
from chainrule.engine.function import named
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras.layers.base import Layer


def _as_shape_list(layer: Layer, input_shape) -> list[tuple]:
    if not isinstance(input_shape, list) or not input_shape or not isinstance(input_shape[0], (tuple, list)):
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) must be called on a list of inputs, got "
                         f"input shape {input_shape}")
    return [tuple(s) for s in input_shape]


def _broadcast_pair(layer: Layer, a: tuple, b: tuple) -> tuple:
    """The shape two per-example shapes broadcast to (None where unknown); an error naming both shapes."""
    shapes = (a, b)
    if len(a) < len(b):
        a, b = b, a
    b = (1,) * (len(a) - len(b)) + b
    out = []
    for i, j in zip(a, b):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(max(i, j))
        else:
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): inputs have incompatible shapes. "
                             f"Received shapes {shapes[0]} and {shapes[1]}")
    return tuple(out)


def _mask_array(mask):
    return mask.data if isinstance(mask, Tensor) else backend.xp.asarray(mask)


def _check_masks(layer: Layer, inputs, mask) -> list:
    """``mask`` as one mask (or None) per input, as Keras's merge layers require it."""
    if not isinstance(mask, (tuple, list)):
        raise ValueError(f"Layer '{layer.name}': `mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"Layer '{layer.name}': `inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(f"Layer '{layer.name}': the lists `inputs` and `mask` should have the same length. Received: "
                         f"inputs of length {len(inputs)}, and mask={mask} of length {len(mask)}")
    return list(mask)


class _Merge(Layer):
    """Elementwise merge of two or more inputs that broadcast together (batch axis included)."""

    _min_inputs, _max_inputs = 1, None
    _supports_masking = True

    def _check_count(self, n: int) -> None:
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            wanted = (f"exactly {self._min_inputs}" if self._min_inputs == self._max_inputs
                      else f"at least {self._min_inputs}")
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs {wanted} inputs, got {n}")

    def build(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        self._check_count(len(shapes))
        self.compute_output_shape(shapes)
        self.built = True

    def call(self, inputs):
        inputs = list(inputs)
        self._check_count(len(inputs))
        return self._merge(inputs)

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._op(out, x)
        return out

    def compute_mask(self, inputs, mask=None):
        """Keras: a position is kept where any input keeps it; no mask when some input has none."""
        if mask is None:
            return None
        masks = _check_masks(self, inputs, mask)
        if any(m is None for m in masks):
            return None
        out = _mask_array(masks[0]).astype(bool)
        for m in masks[1:]:
            out = out | _mask_array(m).astype(bool)
        return Tensor._wrap(out)

    def compute_output_shape(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = _broadcast_pair(self, out, shape[1:])
        batches = {s[0] for s in shapes} - {None}
        return (batches.pop() if len(batches) == 1 else None,) + out


class Add(_Merge):
    _op = staticmethod(ops.add)


class Subtract(_Merge):
    _op, _min_inputs, _max_inputs = staticmethod(ops.sub), 2, 2


class Multiply(_Merge):
    _op = staticmethod(ops.mul)


class Average(_Merge):
    _op = staticmethod(ops.add)

    def _merge(self, inputs):
        return super()._merge(inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    _op = staticmethod(ops.maximum)


class Minimum(_Merge):
    _op = staticmethod(ops.minimum)


class Concatenate(Layer):
    """Join inputs along ``axis``; all other axes must match."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.supports_masking = True

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        return ops.concat(list(inputs), self.axis)

    def compute_output_shape(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        ndim = len(shapes[0])
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Layer '{self.name}' (Concatenate): axis {self.axis} is out of range for inputs of "
                             f"shapes {shapes}")
        axis = self.axis % ndim
        out = list(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != ndim or any(a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(out, shape)) if i != axis):
                raise ValueError(f"Layer '{self.name}': a Concatenate layer requires inputs with matching shapes "
                                 f"except for the concatenation axis {self.axis}. Received: input_shape={shapes}")
            out = [b if a is None else a for a, b in zip(out, shape)]
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        """Keras: the inputs' masks (all-true for an unmasked input, a per-step mask spread over the features)
        joined along ``axis``, then reduced over the last axis with ``any``."""
        if mask is None:
            return None
        masks = _check_masks(self, inputs, mask)
        if all(m is None for m in masks):
            return None
        xp = backend.xp
        joined = []
        for x, m in zip(inputs, masks):
            shape = tuple(x.shape)
            if m is None:
                joined.append(xp.ones(shape, bool))
                continue
            m = _mask_array(m).astype(bool)
            joined.append(xp.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return Tensor._wrap(xp.concatenate(joined, axis=self.axis).any(axis=-1))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _functional(cls, doc: str):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    return named(merge, cls.__name__.lower(), doc)


add = _functional(Add, "``Add(**kwargs)(inputs)``: the elementwise sum of a list of tensors.")
subtract = _functional(Subtract, "``Subtract(**kwargs)([a, b])``: ``a - b``.")
multiply = _functional(Multiply, "``Multiply(**kwargs)(inputs)``: the elementwise product.")
average = _functional(Average, "``Average(**kwargs)(inputs)``: the elementwise mean.")
maximum = _functional(Maximum, "``Maximum(**kwargs)(inputs)``: the elementwise maximum.")
minimum = _functional(Minimum, "``Minimum(**kwargs)(inputs)``: the elementwise minimum.")


def concatenate(inputs, axis: int = -1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


# --- Dot -------------------------------------------------------------------------------------------------------------
def batch_dot(x, y, axes=None):
    """Keras's ``batch_dot``: for each example, the dot product of ``x`` and ``y`` along ``axes`` (x's axis, y's
    axis; default: x's last with y's last for 2-D y, else y's second-to-last). The batch axis is kept, the two
    summed axes go; a result of rank 1 gets a trailing axis of 1 (x and y both 2-D).

    >>> import numpy as np
    >>> batch_dot(np.ones((2, 3)), np.ones((2, 3)), 1).shape
    TensorShape([2, 1])
    >>> batch_dot(np.ones((2, 4, 3)), np.ones((2, 5, 3)), (2, 2)).shape
    TensorShape([2, 4, 5])
    """
    x, y = as_tensor(x), as_tensor(y)
    x_ndim, y_ndim = x.ndim, y.ndim
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {x.shape} and "
                         f"{y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes "
                         f"{x.shape} and {y.shape}.")
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (x_ndim - 1, y_ndim - 1) if y_ndim == 2 else (x_ndim - 1, y_ndim - 2)
    if any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(f"Multiple target dimensions are not supported. Expected: None, int, (int, int), Provided: "
                         f"{axes} ")
    a0, a1 = (a + n if a < 0 else a for a, n in zip(axes, (x_ndim, y_ndim)))
    if 0 in (a0, a1):
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
                         "dimension to your inputs using keras.ops.expand_dims(x, 0)")
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {x.shape} and {y.shape} with axes={[a0, a1]}. "
                         f"x.shape[{a0}] != y.shape[{a1}] ({x.shape[a0]} != {y.shape[a1]}).")
    # x as (batch, rest of x, summed axis), y as (batch, summed axis, rest of y): one batched matrix product
    x_rest = [i for i in range(1, x_ndim) if i != a0]
    y_rest = [i for i in range(1, y_ndim) if i != a1]
    xt = ops.transpose(x, [0] + x_rest + [a0])
    yt = ops.transpose(y, [0, a1] + y_rest)
    x_mid, y_trail = [x.shape[i] for i in x_rest], [y.shape[i] for i in y_rest]
    product = ops.matmul(ops.reshape(xt, (x.shape[0], -1, x.shape[a0])),
                         ops.reshape(yt, (y.shape[0], y.shape[a1], -1)))
    out_shape = (x.shape[0],) + tuple(x_mid) + tuple(y_trail)
    return ops.reshape(product, out_shape if len(out_shape) > 1 else out_shape + (1,))


class Dot(_Merge):
    """The dot product of two inputs along ``axes`` (an int for both, or one per input), per example; with
    ``normalize=True`` each input is L2-normalized along its axis first, so the result is the cosine similarity."""

    _min_inputs, _max_inputs = 2, 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: "
                                f"axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. Received: "
                                 f"axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. Received: "
                                 f"axes={axes}")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)

    def _axes_for(self, ranks) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a % n if a < 0 else a for a, n in zip(axes, ranks))

    def build(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        self._check_count(len(shapes))
        self.compute_output_shape(shapes)
        self.built = True

    def _merge(self, inputs):
        x1, x2 = inputs
        axes = self._axes_for((x1.ndim, x2.ndim))
        if self.normalize:
            from chainrule.keras.ops import nn as keras_nn  # keras.ops imports the layers: not at module level

            x1, x2 = keras_nn.normalize(x1, axis=axes[0]), keras_nn.normalize(x2, axis=axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        self._check_count(len(shapes))
        shape1, shape2 = list(shapes[0]), list(shapes[1])
        axes = self._axes_for((len(shape1), len(shape2)))
        if shape1[axes[0]] is not None and shape2[axes[1]] is not None and shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis {axes[0]}) != "
                             f"{shape2[axes[1]]} (at axis {axes[1]}). Full input shapes: {tuple(shape1)}, "
                             f"{tuple(shape2)}")
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        out = shape1 + shape2
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes, **kwargs)(inputs)``: the dot product of two tensors along ``axes``."""
    return Dot(axes=axes, **kwargs)(inputs)


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot", "batch_dot"]
