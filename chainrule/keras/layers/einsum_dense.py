"""EinsumDense, as Keras 3: a dense layer whose kernel and output take any shape an einsum equation names.

``EinsumDense("abc,cde->abde", output_shape=(None, 4, 8))`` maps (batch, steps, features) to (batch, steps, 4, 8)
with a kernel of shape (features, 4, 8): the projection MultiHeadAttention makes per head. An equation that is a
matrix product over the input's trailing axes (the usual case) runs as one ``linear`` node on flattened views.

>>> import numpy as np
>>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
>>> y = layer(np.ones((2, 3, 5), "float32"))
>>> tuple(y.shape), tuple(layer.kernel.shape), tuple(layer.bias.shape)
((2, 3, 4, 8), (5, 4, 8), (4, 8))
"""
from __future__ import annotations

import math
import re

from chainrule.keras import activations
from chainrule.keras.layers.core import KernelLayer
from chainrule.ops.einsum import einsum
from chainrule.ops.linalg import Linear
from chainrule.ops.shape import reshape


def analyze_equation(equation: str, bias_axes: str | None, input_shape: tuple,
                     output_shape: tuple) -> tuple[list, list | None, list]:
    """(kernel shape, bias shape or None, full output shape) for an EinsumDense equation, as Keras works them out:
    equations ``ab,bc->ac``, ``...b,bc->...c`` or ``ab...,bc->ac...``; ``output_shape`` leaves out the batch axis."""
    replaced = equation.replace("...", "0")
    forms = (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False), ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
             ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False))
    for pattern, left_elided in forms:
        match = re.fullmatch(pattern, replaced)
        if match:
            break
    else:
        raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], "
                         f"...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(input_shape) - len(input_spec)
    full = [input_shape[0]] + list(output_shape)
    if elided > 0 and left_elided:
        for i in range(1, elided):
            full.insert(1, input_shape[i])
    elif elided > 0:
        full.extend(input_shape[len(input_shape) - elided:])
    if left_elided:
        input_at = {c: i + elided - len(input_shape) for i, c in enumerate(input_spec)}
        output_at = {c: i + elided for i, c in enumerate(output_spec)}
    else:
        input_at = {c: i for i, c in enumerate(input_spec)}
        output_at = {c: i for i, c in enumerate(output_spec)}
    if len(full) != len(output_spec) + max(elided, 0):
        raise ValueError(f"EinsumDense: output_shape {tuple(output_shape)} does not fit the equation '{equation}' "
                         f"(the output has {len(output_spec)} named axes, one of them the batch axis)")
    for c in input_spec:
        if c in output_at and full[output_at[c]] is not None and full[output_at[c]] != input_shape[input_at[c]]:
            raise ValueError(f"Input shape and output shape do not match at shared dimension '{c}'. Input shape is "
                             f"{input_shape[input_at[c]]}, and output shape is {full[output_at[c]]}.")
    for c in input_spec:  # an output size left None that the input gives
        if c in output_at and full[output_at[c]] is None:
            full[output_at[c]] = input_shape[input_at[c]]
    for c in output_spec:
        if c not in input_spec and c not in weight_spec:
            raise ValueError(f"Dimension '{c}' was specified in the output '{output_spec}' but has no corresponding "
                             f"dim in the input spec '{input_spec}' or weight spec '{output_spec}'")
    kernel = []
    for c in weight_spec:
        if c in output_at:
            kernel.append(full[output_at[c]])
        elif c in input_at:
            kernel.append(input_shape[input_at[c]])
        else:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the input spec '{input_spec}' or "
                             f"the output spec '{output_spec}'. For this layer, the weight must be fully specified.")
    bias = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec "
                                 f"'{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        offset = elided if left_elided else 0
        bias = [full[i + offset] if c in bias_axes else 1 for i, c in enumerate(output_spec) if i >= first]
        if not left_elided:
            bias.extend([1] * max(elided, 0))
    return kernel, bias, full


def _as_matrix_product(equation: str, input_rank: int, bias_shape: list | None):
    """(input axes contracted, output axes made) when the equation is ``x[free, bound] · W[bound, out] ->
    y[free, out]`` with the bias (if any) over all of ``out``; else None (the general einsum path)."""
    match = re.fullmatch(r"(\.\.\.)?([a-zA-Z]+),([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)", equation)
    if not match or bool(match.group(1)) != bool(match.group(4)):
        return None
    inputs, weights, outputs = match.group(2), match.group(3), match.group(5)
    shared = len(inputs) - sum(c in weights for c in inputs)  # the free axes, kept in front
    bound, out = inputs[shared:], outputs[shared:]
    if (inputs[:shared] != outputs[:shared] or not bound or weights != bound + out or set(bound) & set(outputs)
            or set(out) & set(inputs)):
        return None
    if bias_shape is not None and len(bias_shape) != len(out):
        return None
    return len(bound), len(out)


class EinsumDense(KernelLayer):
    """``activation(einsum(equation, inputs, kernel) + bias)``, as ``keras.layers.EinsumDense``: ``output_shape``
    without the batch axis (None for sizes taken from the input), ``bias_axes`` the output letters the bias spans.
    Weights: kernel (shaped by the equation), bias (if bias_axes)."""

    def __init__(self, equation: str, output_shape, activation=None, bias_axes: str | None = None, **kwargs):
        super().__init__(activation=activation, use_bias=bias_axes is not None, **kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: equation must be a string such as 'ab,bc->ac', got {equation!r}")
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.full_output_shape = None

    def build(self, input_shape):
        kernel_shape, bias_shape, full = analyze_equation(self.equation, self.bias_axes, tuple(input_shape),
                                                          self.partial_output_shape)
        if None in kernel_shape or (bias_shape is not None and None in bias_shape):
            raise ValueError(f"Layer '{self.name}' needs known input sizes along the axes its kernel spans, got input "
                             f"shape {tuple(input_shape)} for the equation '{self.equation}'")
        self.full_output_shape = tuple(full)
        self.kernel = self.add_weight(shape=tuple(kernel_shape), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        if bias_shape is not None:
            self.bias = self.add_weight(shape=tuple(bias_shape), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        self._matrix = _as_matrix_product(self.equation, len(input_shape), bias_shape)
        self.built = True

    def call(self, inputs):
        if self._matrix is not None:
            bound, out = self._matrix
            lead, k_shape = inputs.shape[:inputs.ndim - bound], self.kernel.shape
            rows, cols = math.prod(k_shape[:bound]), math.prod(k_shape[bound:])
            x = inputs if bound == 1 else reshape(inputs, lead + (rows,))
            kernel = self.kernel if bound == 1 and out == 1 else reshape(self.kernel, (rows, cols))
            bias = None if self.bias is None else (self.bias if out == 1 else reshape(self.bias, (cols,)))
            y = Linear.apply(x, kernel, bias)
            y = y if out == 1 else reshape(y, lead + tuple(k_shape[bound:]))
        else:
            y = einsum(self.equation, inputs, self.kernel)
            if self.bias is not None:
                y = y + self.bias
        return y if self._act is None else self._act(y)

    def compute_output_shape(self, input_shape):
        _, _, full = analyze_equation(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)
        return tuple(full)

    def get_config(self):
        config = super().get_config()
        config.pop("use_bias")
        return {**config, "equation": self.equation, "output_shape": list(self.partial_output_shape),
                "bias_axes": self.bias_axes, "activation": activations.serialize(self.activation)}


__all__ = ["EinsumDense"]
