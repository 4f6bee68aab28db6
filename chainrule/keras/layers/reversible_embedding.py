"""ReversibleEmbedding (``keras.layers.ReversibleEmbedding``): an Embedding that also maps hidden states back to
logits over the vocabulary, ``call(x, reverse=True) = x @ embeddingsᵀ`` (tied weights, as in language models'
output layers) or ``x @ reverse_embeddings`` with ``tie_weights=False``.

>>> import numpy as np
>>> layer = ReversibleEmbedding(10, 4)
>>> hidden = layer(np.array([[1, 2, 3]]))
>>> hidden.shape, layer(hidden, reverse=True).shape
(TensorShape([1, 3, 4]), TensorShape([1, 3, 10]))
"""
from __future__ import annotations

import numbers

from chainrule import ops
from chainrule.keras.layers.embedding import Embedding


class ReversibleEmbedding(Embedding):
    """Embedding's arguments, plus ``tie_weights`` (reuse the embeddings for the reverse projection),
    ``reverse_dtype`` (the dtype the reverse product is computed in) and ``logit_soft_cap`` (logits become
    ``cap * tanh(logits / cap)``)."""

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 reverse_dtype=None, logit_soft_cap: float | None = None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        if logit_soft_cap is not None and (isinstance(logit_soft_cap, bool) or
                                           not isinstance(logit_soft_cap, numbers.Real) or logit_soft_cap <= 0):
            raise ValueError(f"ReversibleEmbedding: `logit_soft_cap` must be a number > 0 or None. Received: "
                             f"logit_soft_cap={logit_soft_cap!r}")
        self.tie_weights, self.reverse_dtype, self.logit_soft_cap = bool(tie_weights), reverse_dtype, logit_soft_cap
        self.reverse_embeddings = None

    def build(self, input_shape=None) -> None:
        super().build(input_shape)
        if not self.tie_weights and self.reverse_embeddings is None:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings")

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            return super().call(inputs)
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(f"Layer '{self.name}': reverse=True takes inputs ending in output_dim={self.output_dim}, "
                             f"got shape {tuple(inputs.shape)}")
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = ops.cast(inputs, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        elif inputs.dtype != kernel.dtype:
            inputs = ops.cast(inputs, kernel.dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = ops.tanh(logits * (1.0 / self.logit_soft_cap)) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        if getattr(inputs, "dtype", None) is not None and inputs.dtype.kind == "f":  # hidden states: reverse=True
            return None
        return super().compute_mask(inputs, mask)  # token ids: mask_zero's mask

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
