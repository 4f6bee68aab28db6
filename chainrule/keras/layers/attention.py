"""Attention layers, as Keras 3: MultiHeadAttention, Attention (Luong) and AdditiveAttention (Bahdanau).

MultiHeadAttention projects with EinsumDense sublayers named as Keras's (query, key, value, attention_output; kernels
(features, heads, key_dim) and (heads, value_dim, features)) and, over one attention axis without dropout or returned
scores, runs the fused ``scaled_dot_product_attention`` node; otherwise Keras's einsum formulation.

Masks are Keras's: the Keras masks of query and value (e.g. from ``Embedding(mask_zero=True)``) become a
(batch, query steps, value steps) mask, combined with ``attention_mask`` and the causal mask; the output carries the
query's mask.

>>> import numpy as np
>>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
>>> x = np.ones((3, 5, 8), "float32")
>>> out, scores = mha(x, x, return_attention_scores=True)
>>> tuple(out.shape), tuple(scores.shape), tuple(mha.query_dense.kernel.shape)
((3, 5, 8), (3, 2, 5, 5), (8, 2, 4))
"""
from __future__ import annotations

import functools
import inspect
import math
import string

import numpy as np

from chainrule import backend
from chainrule.keras import initializers
from chainrule.keras import constraints
from chainrule.keras import regularizers
from chainrule.keras.layers.base import Layer, mask_of, serialize_object
from chainrule.keras.layers.core import Dropout
from chainrule.keras.layers.einsum_dense import EinsumDense
from chainrule.ops.activation import softmax, tanh
from chainrule.engine.tensor import Tensor
from chainrule.ops.attention import masked_score, scaled_dot_product_attention
from chainrule.ops.einsum import einsum
from chainrule.ops.math import cast, where
from chainrule.ops.reduce import sum as reduce_sum
from chainrule.ops.self_attention import self_attention
from chainrule.ops.shape import expand_dims, reshape, transpose


def _as_bool(mask):
    return None if mask is None else cast(mask, bool)


def _both(a, b):
    """The logical and of two boolean masks, either of which may be None."""
    return b if a is None else a if b is None else a & b


def causal_mask(query_steps: int, value_steps: int):
    """(1, T, S) booleans: query step i sees value steps j <= i (a constant: it depends only on the shapes)."""
    xp = backend.xp
    return xp.tril(xp.ones((query_steps, value_steps), dtype=xp.bool))[None, ...]  # (the standard has no tri)


def _letters(n: int) -> str:
    return string.ascii_lowercase[n]


def projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """Keras's einsum equation for a projection: (equation, bias axes, output rank)."""
    free = "".join(_letters(i) for i in range(free_dims))
    bound = "".join(_letters(free_dims + i) for i in range(bound_dims))
    out = "".join(_letters(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, free_dims + output_dims


def attention_equations(rank: int, attn_axes: tuple[int, ...]) -> tuple[str, str, int]:
    """Keras's einsum equations for (query-key scores, combination with the values) over ``attn_axes`` of projected
    tensors (batch, ..., heads, channels), and the scores' rank."""
    target = "".join(_letters(i) for i in range(rank))
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset, source = rank, ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letters(offset)
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _masked_softmax(scores, keep, axes: int):
    """Softmax over the last ``axes`` axes, masked positions (``keep`` False) left out and set to 0 (a row with every
    position masked gives zeros), as Keras's Softmax layer with a mask."""
    if keep is not None:
        scores = where(keep, scores, masked_score(scores.dtype))
    if axes == 1:
        probs = softmax(scores, -1)
    else:  # the attention axes as one: softmax over their product
        shape = scores.shape
        probs = reshape(softmax(reshape(scores, tuple(shape[:-axes]) + (-1,)), -1), shape)
    return probs if keep is None else probs * cast(keep, probs.dtype)


@functools.lru_cache(maxsize=None)
def _optional_attention_arguments(compute_attention) -> frozenset:
    """Which of ``return_attention_scores`` and ``use_causal_mask`` a ``_compute_attention`` takes by name."""
    parameters = inspect.signature(compute_attention).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return frozenset({"return_attention_scores", "use_causal_mask"})
    return frozenset(name for name in ("return_attention_scores", "use_causal_mask") if name in parameters)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), as ``keras.layers.MultiHeadAttention``: ``num_heads`` heads of
    ``key_dim`` query/key features and ``value_dim`` (default ``key_dim``) value features, ``dropout`` on the
    attention probabilities, the output projected to ``output_shape`` (default: the query's last axis).

    ``call(query, value, key=None, attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``; ``attention_mask`` (batch, T, S) is True where a query step may attend a key step.
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None, sliding_window: int | None = None,
                 flash_attention=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate: bool = False, seed: int | None = None, **kwargs):
        for name, value, optional in (("num_heads", num_heads, False), ("key_dim", key_dim, False),
                                      ("value_dim", value_dim, True)):
            if not (optional and value is None) and (isinstance(value, bool) or not isinstance(value, int)
                                                     or value <= 0):
                raise ValueError(f"Received an invalid value for argument `{name}`, expected a positive integer"
                                 f"{' or `None`' if optional else ''}. Received: {name}={value}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1), got {dropout}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout, self._use_bias = float(dropout), bool(use_bias)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should "
                                 f"be of type tuple, list, or int.") from None
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple.Received: "
                             f"attention_axes={attention_axes}")
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError(f"`sliding_window` must be `None` or a positive integer. Received: "
                             f"sliding_window={sliding_window}")
        if flash_attention:
            raise ValueError("Flash attention is not supported by chainrule.")
        self._sliding_window, self._use_gate = sliding_window, bool(use_gate)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)  # the fused node's dropout masks
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def _dense(self, equation: str, bias_axes: str, output_shape, name: str, activation=None) -> EinsumDense:
        # each projection gets its own initializer made from the config (a seeded one would repeat its values)
        return EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self._use_bias else None,
                           activation=activation,
                           kernel_initializer=initializers.get(serialize_object(initializers, self._kernel_initializer)),
                           bias_initializer=initializers.get(serialize_object(initializers, self._bias_initializer)),
                           kernel_regularizer=self._kernel_regularizer, bias_regularizer=self._bias_regularizer,
                           kernel_constraint=self._kernel_constraint, bias_constraint=self._bias_constraint,
                           name=name, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        projected = {}  # in Keras's order, which is the weights' order: query, key, gate (use_gate), value
        for role, shape, width in (("query", query_shape, self._key_dim), ("key", key_shape, self._key_dim),
                                   ("gate", query_shape, self._value_dim), ("value", value_shape, self._value_dim)):
            if role == "gate" and not self._use_gate:
                continue
            equation, bias_axes, rank = projection_equation(len(shape) - 1, 1, 2)
            dense = self._dense(equation, bias_axes, [None] * (rank - 3) + [self._num_heads, width], role,
                                activation="sigmoid" if role == "gate" else None)
            dense.build(tuple(shape))
            projected[role] = dense
        self._query_dense, self._key_dense = projected["query"], projected["key"]
        self._gate_dense = projected.get("gate")
        self._value_dense = projected["value"]
        out_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes, rank = projection_equation(len(query_shape) - 1, 2, len(out_shape))
        self._output_dense = self._dense(equation, bias_axes, [None] * (rank - 1 - len(out_shape)) + list(out_shape),
                                         "attention_output")
        self._output_dense.build(tuple(query_shape[:-1]) + (self._num_heads, self._value_dim))
        rank = len(query_shape) + 1  # the projected tensors': (batch, ..., heads, channels)
        axes = tuple(range(1, rank - 2)) if self._attention_axes is None else self._attention_axes
        self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
        self._dot_product_equation, self._combine_equation, _ = attention_equations(rank, self._attention_axes)
        self._dropout_layer = Dropout(self._dropout, seed=self.seed, dtype=self.dtype_policy)
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key = value if key is None else key
        query_mask = mask_of(query) if query_mask is None else query_mask
        value_mask = mask_of(value) if value_mask is None else value_mask
        if key is not value and key_mask is None:
            key_mask = mask_of(key)
        for tensor in (query, value, key):  # the masks are in attention_mask now; the projections take none (Keras)
            if getattr(tensor, "_keras_mask", None) is not None:
                tensor._keras_mask = None
        attention_mask = self._compute_attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask)
        if self._fuses(query, value, key, return_attention_scores):
            out = self._self_attention(query, attention_mask, training, use_causal_mask)
            if query_mask is not None:
                out._keras_mask = _as_bool(query_mask)
            return out
        gate = None if self._gate_dense is None else self._gate_dense(query)  # (B, T, N, value_dim) in (0, 1)
        q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        # a subclass's _compute_attention gets the optional arguments it takes (older ones took neither)
        takes = _optional_attention_arguments(type(self)._compute_attention)
        if use_causal_mask and "use_causal_mask" not in takes:
            attention_mask, use_causal_mask = _both(attention_mask, causal_mask(q.shape[1], v.shape[1])), False
        optional = {"return_attention_scores": return_attention_scores, "use_causal_mask": use_causal_mask}
        out, scores = self._compute_attention(q, k, v, attention_mask, training,
                                              **{name: value for name, value in optional.items() if name in takes})
        out = self._output_dense(out if gate is None else out * gate)
        if query_mask is not None:
            out._keras_mask = _as_bool(query_mask)
        return (out, scores) if return_attention_scores else out

    def _fuses(self, query, value, key, return_attention_scores: bool) -> bool:
        """Whether the call is plain self-attention that the fused node computes (ops/self_attention.py): one
        (batch, steps, features) input as query, key and value, attention over the steps, no gate, no scores
        returned, one output axis, and no mixed precision (the node computes in the weights' dtype)."""
        policy = self.dtype_policy
        return (query is value and key is value and isinstance(query, Tensor) and query.ndim == 3
                and type(self)._compute_attention is MultiHeadAttention._compute_attention  # no override skipped
                and self._attention_axes == (1,) and self._gate_dense is None and not return_attention_scores
                and self._output_dense.kernel.ndim == 3 and policy.compute_dtype == policy.variable_dtype
                and all(dense.dtype_policy.compute_dtype == policy.compute_dtype
                        for dense in (self._query_dense, self._key_dense, self._value_dense, self._output_dense)))

    def _self_attention(self, x, attention_mask, training, use_causal_mask: bool):
        dense = (self._query_dense, self._key_dense, self._value_dense, self._output_dense)
        weights = [w for layer in dense for w in (layer.kernel, layer.bias)]
        dropping = bool(training) and self._dropout > 0.0
        return self_attention(x, *weights, mask=None if attention_mask is None else expand_dims(attention_mask, -3),
                              scale=self._inverse_sqrt_key_dim, is_causal=use_causal_mask,
                              dropout_rate=self._dropout if dropping else 0.0, seed=self._rng)

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None, key_mask=None,
                                attention_mask=None):
        """Keras's merged mask: query mask (B, T, 1), value and key masks (B, 1, S), ``attention_mask`` (B, T, S)."""
        auto = None if query_mask is None else expand_dims(_as_bool(query_mask), -1)
        for mask in (value_mask, key_mask):
            if mask is not None:
                auto = _both(auto, expand_dims(_as_bool(mask), -2))
        if self._sliding_window is not None:  # (1, T, S): keys within sliding_window - 1 steps either side
            steps = np.arange(max(query.shape[1], value.shape[1]))
            band = np.abs(steps[:query.shape[1], None] - steps[None, :value.shape[1]]) < self._sliding_window
            auto = _both(auto, backend.xp.asarray(band)[None])
        return _both(_as_bool(attention_mask), auto)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        """Attention over projected (batch, ..., heads, channels) tensors: (output, scores or None)."""
        dropping = bool(training) and self._dropout > 0.0
        n_axes = len(self._attention_axes)
        if query.ndim == 4 and self._attention_axes == (1,) and not return_attention_scores:
            # (B, T, N, H) -> (B, N, T, H), the fused node (dropout in it), and back; the mask gets the heads axis
            mask = None if attention_mask is None else expand_dims(attention_mask, -3)
            out = scaled_dot_product_attention(*(transpose(t, (0, 2, 1, 3)) for t in (query, key, value)), mask=mask,
                                               scale=self._inverse_sqrt_key_dim, is_causal=use_causal_mask,
                                               dropout_rate=self._dropout if dropping else 0.0, seed=self._rng)
            return transpose(out, (0, 2, 1, 3)), None
        if use_causal_mask:
            attention_mask = _both(attention_mask, causal_mask(query.shape[1], value.shape[1]))
        scores = einsum(self._dot_product_equation, key, query * self._inverse_sqrt_key_dim)
        probs = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(probs, training=training) if dropping else probs
        return einsum(self._combine_equation, dropped, value), probs

    def _masked_softmax(self, attention_scores, attention_mask=None):
        """Keras's hook: the scores' softmax over the attention axes, positions where ``attention_mask`` is False
        left out (the mask broadcast over the heads and batch axes, as Keras expands it)."""
        n_axes = len(self._attention_axes)
        if attention_mask is not None:
            attention_mask = _as_bool(attention_mask)
            for _ in range(attention_scores.ndim - attention_mask.ndim):
                attention_mask = expand_dims(attention_mask, -n_axes * 2 - 1)
        return _masked_softmax(attention_scores, attention_mask, n_axes)

    def compute_mask(self, inputs, mask=None):
        return mask_of(inputs) if mask is None else mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self._num_heads, "key_dim": self._key_dim,
                "value_dim": self._value_dim, "dropout": self._dropout, "use_bias": self._use_bias,
                "output_shape": None if self._output_shape is None else list(self._output_shape),
                "attention_axes": None if self._attention_axes is None else list(self._attention_axes),
                "kernel_initializer": serialize_object(initializers, self._kernel_initializer),
                "bias_initializer": serialize_object(initializers, self._bias_initializer),
                "kernel_regularizer": serialize_object(regularizers, self._kernel_regularizer),
                "bias_regularizer": serialize_object(regularizers, self._bias_regularizer),
                "kernel_constraint": serialize_object(constraints, self._kernel_constraint),
                "bias_constraint": serialize_object(constraints, self._bias_constraint), "use_gate": self._use_gate,
                "sliding_window": self._sliding_window, "seed": self.seed}


class Attention(Layer):
    """Dot-product (Luong) attention, as ``keras.layers.Attention``: ``call([query, value(, key)], mask=[query_mask,
    value_mask], return_attention_scores=False, use_causal_mask=False)``; scores ``query · keyᵀ`` (times a learned
    ``scale`` with ``use_scale``), or with ``score_mode='concat'`` ``Σ tanh(scale (query + key))`` times a learned
    weight; masked keys get ``-1e9``; padded query steps give zeros."""

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = float(dropout), seed
        self.scale = self.concat_score_weight = None
        self._dropout_layer = Dropout(self.dropout, seed=seed) if self.dropout > 0 else None
        self.supports_masking = True

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = query @ transpose(key, tuple(range(key.ndim - 2)) + (key.ndim - 1, key.ndim - 2))
            return scores if self.scale is None else scores * self.scale
        pairs = expand_dims(query, -2) + expand_dims(key, -3)
        return self.concat_score_weight * reduce_sum(tanh(pairs if self.scale is None else self.scale * pairs), -1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._calculate_scores(query, key)
        keep = None if value_mask is None else expand_dims(_as_bool(value_mask), -2)
        if use_causal_mask:
            keep = _both(keep, causal_mask(scores.shape[-2], scores.shape[-1]))
        if keep is not None:  # Keras subtracts 1e9 from the masked scores
            scores = where(keep, scores, scores - 1e9)
        weights = softmax(scores, -1)
        dropped = self._dropout_layer(weights, training=training) if training and self._dropout_layer else weights
        out = dropped @ value
        if query_mask is not None:
            out = where(expand_dims(_as_bool(query_mask), -1), out, 0.0)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        return None if mask is None or mask[0] is None else mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, value] or [query, "
                             f"value, key]. Received: inputs={inputs}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, "
                             f"value, key]. Received length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: "
                                 f"mask={mask}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, "
                                 f"mask={mask}.")

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention, as ``keras.layers.AdditiveAttention``: scores ``Σ scale · tanh(query + key)``
    with a learned ``scale`` of one value per feature (``use_scale=True``, the default)."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(input_shape[0][-1],), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        features = tanh(expand_dims(query, -2) + expand_dims(key, -3))
        return reduce_sum(features if self.scale is None else self.scale * features, -1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention"]
