"""``keras.layers.CategoryEncoding``: integer categories ``0..num_tokens-1`` as ``one_hot``, ``multi_hot``
(default) or ``count`` vectors (Keras 3's arguments); a value outside that range is an error, not a silent zero.

>>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1]).numpy()
array([[0., 0., 0., 1.],
       [0., 0., 1., 0.],
       [1., 0., 0., 0.],
       [0., 1., 0., 0.]], dtype=float32)
>>> counts = CategoryEncoding(num_tokens=4, output_mode="count")
>>> counts([[0, 1, 1], [2, 2, 3]], count_weights=[[1, 2, 3], [1, 1, 2]]).numpy()
array([[1., 5., 0., 0.],
       [0., 0., 2., 2.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.preprocessing.index_lookup import encode_categorical


class CategoryEncoding(Layer):
    """Encode integer category ids as one-hot, multi-hot or count vectors of ``num_tokens`` entries."""

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (chainrule has no sparse "
                             "tensors).")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False
        self.built = True

    def _convert(self, inputs):
        return inputs  # call() converts: integer ids must not become floats

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"`count_weights` is not used when `output_mode` is not `'count'`. Received "
                             f"`count_weights={count_weights}`.")
        ids = np.asarray(inputs.numpy() if isinstance(inputs, Tensor) else inputs)
        if ids.dtype.kind == "f" and np.all(ids == np.round(ids)):
            ids = ids.astype(np.int64)  # float category ids (a Dataset of floats) that are whole numbers
        if ids.dtype.kind not in "iub":
            raise TypeError(f"Layer '{self.name}' (CategoryEncoding) expects integer category ids; received an array "
                            f"of dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
            raise ValueError(f"Layer '{self.name}' (CategoryEncoding): input values must be in the range 0 <= values "
                             f"< num_tokens with num_tokens={self.num_tokens}; received values from {ids.min()} to "
                             f"{ids.max()}")
        weights = None
        if count_weights is not None:
            weights = np.asarray(count_weights.numpy() if isinstance(count_weights, Tensor) else count_weights)
        return Tensor._wrap(encode_categorical(ids.astype(np.int64), self.output_mode, self.num_tokens, self.dtype,
                                               count_weights=weights))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}
