"""Embedding: integer ids to rows of a trained table, with ``mask_zero`` marking id 0 as padding (Keras 3's layer).

>>> import numpy as np
>>> layer = Embedding(10, 4, mask_zero=True)
>>> out = layer(np.array([[3, 1, 0]]))
>>> tuple(out.shape), np.asarray(out._keras_mask).tolist()
((1, 3, 4), [[True, True, False]])
"""
from __future__ import annotations

import warnings

import numpy as np

from chainrule.backend import as_dtype
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras import initializers
from chainrule.keras import constraints
from chainrule.keras import regularizers
from chainrule.keras.layers.base import Layer, _context as _call_context, serialize_object
from chainrule.ops.embedding import embedding_lookup
from chainrule.ops.math import cast
from chainrule.ops.no_gradient import no_gradient


def _positive(value, name: str) -> int:
    """Keras's check of ``input_dim`` and ``output_dim``: a positive Python int."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value} (of type "
                         f"{type(value).__name__}).")
    return int(value)


def _nonzero(ids):
    return ids != 0


def _wrapped_ids(ids, num_rows):
    return ids % num_rows


class Embedding(Layer):
    """Turns non-negative integer ids into dense vectors: ``embeddings[ids]``, a table of shape
    ``(input_dim, output_dim)``; inputs ``(batch, steps)`` give ``(batch, steps, output_dim)``.

    Arguments as ``keras.layers.Embedding``: input_dim (vocabulary size: ids lie in ``[0, input_dim)``), output_dim,
    embeddings_initializer ('uniform', in -0.05..0.05), embeddings_regularizer, embeddings_constraint,
    mask_zero (id 0 is padding: the output carries a mask, False where the id is 0), weights (the initial table).
    ``input_length`` is accepted and ignored with Keras 3's deprecation warning. An id outside ``[0, input_dim)``
    raises an IndexError naming the layer.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False, weights=None, lora_rank: int | None = None,
                 **kwargs):
        input_dim = _positive(input_dim, "input_dim")
        output_dim = _positive(output_dim, "output_dim")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        if lora_rank is not None:
            raise NotImplementedError(f"Embedding layer '{self.name}': lora_rank={lora_rank!r} (LoRA fine-tuning) is "
                                      f"not supported; pass None")
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False
        self.embeddings = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None) -> None:
        if self.embeddings is None:
            self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                              initializer=self.embeddings_initializer,
                                              regularizer=self.embeddings_regularizer,
                                              constraint=self.embeddings_constraint, name="embeddings")
        self.built = True

    def _convert(self, inputs):
        return as_tensor(inputs)  # ids stay as given: a float32 cast would round ids above 2**24

    def call(self, inputs):
        if inputs.dtype.kind not in "iu":
            inputs = cast(inputs, "int32")
        if _call_context.probing:  # made-up ids (positions over a made-up length) may pass the table, which Keras's
            inputs = no_gradient(_wrapped_ids, inputs, self.input_dim)  # symbolic lookup never evaluates
        out = embedding_lookup(self.embeddings, inputs,
                               caller=f"Embedding layer '{self.name}' (input_dim={self.input_dim})")
        return out if out.dtype == as_dtype(self.compute_dtype) else cast(out, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return no_gradient(_nonzero, inputs if isinstance(inputs, Tensor) else as_tensor(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": serialize_object(initializers, self.embeddings_initializer),
                "embeddings_regularizer": serialize_object(regularizers, self.embeddings_regularizer),
                "embeddings_constraint": serialize_object(constraints, self.embeddings_constraint),
                "mask_zero": self.mask_zero}
