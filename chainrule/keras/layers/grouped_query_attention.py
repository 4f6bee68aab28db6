"""GroupQueryAttention (``keras.layers.GroupQueryAttention``, Ainslie et al., 2023): attention with
``num_query_heads`` query heads sharing ``num_key_value_heads`` key/value heads, each key/value head serving
``num_query_heads // num_key_value_heads`` query heads; MultiHeadAttention's masks, dropout, gate and sliding window.

>>> import numpy as np
>>> layer = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
>>> x = np.ones((2, 5, 8), "float32")
>>> out, scores = layer(x, x, return_attention_scores=True)
>>> out.shape, scores.shape, layer.key_dense.kernel.shape
(TensorShape([2, 5, 8]), TensorShape([2, 4, 5, 5]), TensorShape([8, 2, 4]))
"""
from __future__ import annotations

import numpy as np

from chainrule.keras import constraints, initializers, regularizers
from chainrule.keras.layers.attention import MultiHeadAttention, attention_equations
from chainrule.keras.layers.base import Layer, serialize_object
from chainrule.keras.layers.core import Dropout
from chainrule.ops.indexing import take


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"GroupQueryAttention: `{name}` must be a positive int. Received: {name}={value!r}")
    return value


class GroupQueryAttention(MultiHeadAttention):
    """Keras's arguments: ``head_dim``, ``num_query_heads``, ``num_key_value_heads`` (dividing the query heads),
    ``dropout``, ``use_bias``, ``sliding_window``, the initializers, regularizers and constraints, ``use_gate``,
    ``seed``. Inputs (batch, steps, features); ``call`` as MultiHeadAttention's, scores (batch, query heads, T, S)."""

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int, dropout: float = 0.0,
                 use_bias: bool = True, sliding_window: int | None = None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate: bool = False, seed: int | None = None, **kwargs):
        for name, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                            ("num_key_value_heads", num_key_value_heads)):
            _positive(value, name)
        if num_query_heads % num_key_value_heads:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        super().__init__(num_query_heads, head_dim, dropout=dropout, use_bias=use_bias,
                         sliding_window=sliding_window, flash_attention=flash_attention,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, use_gate=use_gate, seed=seed, **kwargs)
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for role, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"GroupQueryAttention takes (batch, steps, features) inputs; {role} has shape "
                                 f"{tuple(shape)}")
        # Keras's projections and weight order: query, key, gate (use_gate), value, attention_output; the key and
        # value ones have the key/value heads only ("bkm,mvh->bkvh")
        width = {"query": self.num_query_heads, "key": self.num_key_value_heads, "gate": self.num_query_heads,
                 "value": self.num_key_value_heads}
        shapes = {"query": query_shape, "key": key_shape, "gate": query_shape, "value": value_shape}
        self._gate_dense = None
        for role in ("query", "key", "gate", "value"):
            if role == "gate" and not self._use_gate:
                continue
            dense = self._dense("abc,cde->abde", "de", (None, width[role], self.head_dim), role,
                                activation="sigmoid" if role == "gate" else None)
            dense.build(tuple(shapes[role]))
            setattr(self, f"_{role}_dense", dense)  # tracked in this order, the weights' order
        self._output_dense = self._dense("abcd,cde->abe", "e", (None, query_shape[-1]), "attention_output")
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self._attention_axes = (1,)
        self._dot_product_equation, self._combine_equation, _ = attention_equations(4, (1,))
        self._dropout_layer = Dropout(self._dropout, seed=self.seed, dtype=self.dtype_policy)
        self.built = True

    def _fuses(self, query, value, key, return_attention_scores: bool) -> bool:
        return False  # the fused self-attention node has as many key/value heads as query heads

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        # each key/value head serves num_repeats consecutive query heads: (B, S, kv, H) -> (B, S, q, H)
        shared = np.repeat(np.arange(self.num_key_value_heads), self.num_repeats)
        key, value = take(key, shared, axis=2), take(value, shared, axis=2)
        return super()._compute_attention(query, key, value, attention_mask, training, return_attention_scores,
                                          use_causal_mask)

    def get_config(self):
        return {**Layer.get_config(self), "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self._use_bias,
                "dropout": self._dropout, "sliding_window": self._sliding_window,
                "kernel_initializer": serialize_object(initializers, self._kernel_initializer),
                "bias_initializer": serialize_object(initializers, self._bias_initializer),
                "kernel_regularizer": serialize_object(regularizers, self._kernel_regularizer),
                "bias_regularizer": serialize_object(regularizers, self._bias_regularizer),
                "activity_regularizer": serialize_object(regularizers, self.activity_regularizer),
                "kernel_constraint": serialize_object(constraints, self._kernel_constraint),
                "bias_constraint": serialize_object(constraints, self._bias_constraint),
                "use_gate": self._use_gate, "seed": self.seed}


GroupedQueryAttention = GroupQueryAttention  # the class's name in Keras's source
